"""One place that turns errors into responses: JSON under /v1 and /.well-known, HTML elsewhere.

JSON error format: ``{"error": {"code": "<stable code>", "message": "<what to do>"}}``. A
`ValueprintError` carries its status and code on its class (the tree is in `valueprint.errors`);
server-side errors are logged in full and answered with a generic message.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from valueprint.errors import ValueprintError
from valueprint.store.db import UNREACHABLE, unavailable

log = logging.getLogger("valueprint.web")


INTERNAL_MESSAGE = "something went wrong on our side; nothing you sent was lost. Please try again later"


def route_template(request: Request) -> str:
    """The matched route's template (/v1/tokens/{handle}), so logs never carry a handle or code from the path."""
    route = request.scope.get("route")
    return getattr(route, "path", None) or "<unmatched route>"


def classify(error: ValueprintError) -> tuple[int, str]:
    """The HTTP status and stable code, as declared on the error's class (see `valueprint.errors`)."""
    return error.http_status, error.error_code


def wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/v1", "/.well-known", "/labelstudio")) or request.headers.get("accept", "").startswith(
        "application/json"
    )


def error_response(request: Request, status: int, code: str, message: str, headers: dict | None = None) -> Response:
    if wants_json(request):
        return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)
    templates = getattr(request.app.state, "templates", None)
    if templates is not None:
        return templates.TemplateResponse(
            request,
            "error.html",
            {"status": status, "code": code, "message": message},
            status_code=status,
            headers=headers,
        )
    return HTMLResponse(f"<h1>{status}</h1><p>{code}</p>", status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(ValueprintError)
    async def _domain(request: Request, error: ValueprintError) -> Response:
        status, code = classify(error)
        if not error.exposed:
            log.error("server error on %s %s: %s", request.method, route_template(request), error)
            return error_response(request, status, code, INTERNAL_MESSAGE)
        return error_response(request, status, code, str(error), error.http_headers())

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body') or 'body'}: {e.get('msg')}"
            for e in error.errors()[:5]
        )
        return error_response(request, 422, "invalid_request", problems or "the request is invalid")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
            error.status_code, "http_error"
        )
        return error_response(request, error.status_code, code, str(error.detail), getattr(error, "headers", None))

    async def _database_unreachable(request: Request, error: Exception) -> Response:
        """A database error outside a unit of work (`Database.session` turns those inside into UnavailableError)."""
        return await _domain(request, unavailable(error))

    for unreachable in UNREACHABLE:
        app.add_exception_handler(unreachable, _database_unreachable)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, route_template(request))
        return error_response(request, 500, "internal_error", INTERNAL_MESSAGE)
