"""Interactive API docs at `/docs`, served offline: Swagger UI 5 (it reads OpenAPI 3.1) comes from
the pinned `swagger-ui-py` package, mounted at /static/swagger-ui, never from a CDN, and starts
from a script file so the Content-Security-Policy (no inline script) holds on this page too."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from valueprint.web.templating import render

ASSETS = "/static/swagger-ui"
router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> Response:
    return render(request, "docs.html", {"assets": ASSETS, "openapi_url": request.app.openapi_url})


def mount_assets(app: FastAPI) -> None:
    """Swagger UI's files; mount before /static so this path is not taken for a file there."""
    app.mount(ASSETS, StaticFiles(directory=str(files("swagger_ui") / "static")), name="swagger-ui")
