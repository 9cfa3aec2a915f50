"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from valueprint import __version__
from valueprint.jobs import Reaper
from valueprint.services import Services
from valueprint.settings import Settings, load_settings
from valueprint.store.secret_files import session_secret
from valueprint.tokens.codec import vp_format
from valueprint.web import (
    admin,
    annotate_api,
    annotate_pages,
    api,
    chat,
    consent,
    crowd_api,
    crowd_pages,
    docs,
    errors,
    labelstudio,
    moralgraph_api,
    moralgraph_pages,
    personal,
    picks,
    rank,
    ui,
)
from valueprint.web.deps import ServicesDep
from valueprint.web.headers import SecureCookiesOverHttps, SecurityHeaders
from valueprint.web.limits import BodySizeLimit, HeaderSizeLimit
from valueprint.web.schemas import ERROR_RESPONSES
from valueprint.web.templating import STATIC_DIR, make_templates


class RedactHandles(logging.Filter):
    """Access logs never carry a handle looked up by an app (nor, being bodies, tokens)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            path = record.args[2]
            if path.startswith("/v1/tokens/") and path != "/v1/tokens/verify":
                record.args = (*record.args[:2], "/v1/tokens/<handle>", *record.args[3:])
        return True


@asynccontextmanager
async def recovering_jobs(app: FastAPI) -> AsyncIterator[None]:
    """While the app serves: background jobs abandoned by a process that died are recovered at startup and every
    lease/4 seconds after (`Services.recover_jobs`; imports resume, other jobs are marked failed)."""
    services: Services = app.state.services
    reaper = Reaper(services.recover_jobs, services.settings.job_lease_s / 4).start()
    try:
        yield
    finally:
        reaper.stop()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    app = FastAPI(
        title="valueprint",
        version=__version__,
        description="Tell AI systems what you value, once. Participant API, token registry and app reads.",
        openapi_url="/openapi.json",
        docs_url=None,  # FastAPI's docs pages load Swagger/ReDoc from a CDN; nothing here may depend on
        redoc_url=None,  # the network, so /docs is web/docs.py's page on the vendored Swagger UI
        responses=ERROR_RESPONSES,
        lifespan=recovering_jobs,
    )
    app.state.services = Services.build(settings)
    app.add_middleware(  # the cookie: a random session id, the CSRF token, a notice (see web.security)
        SessionMiddleware,
        secret_key=session_secret(settings),
        session_cookie="vp_session",
        max_age=settings.session_max_days * 86400,  # the server ends the session earlier when it goes idle
        same_site="lax",
        https_only=settings.environment == "production",
    )
    app.add_middleware(SecureCookiesOverHttps)
    app.add_middleware(BodySizeLimit, wider={labelstudio.PREFIX: labelstudio.MAX_BODY_BYTES})
    app.add_middleware(HeaderSizeLimit, max_bytes=settings.max_header_bytes)
    app.add_middleware(SecurityHeaders)
    errors.install(app)
    app.state.templates = make_templates()
    docs.mount_assets(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(docs.router)
    app.include_router(api.router)
    app.include_router(annotate_api.router)
    app.include_router(crowd_api.router)
    app.include_router(crowd_pages.router)  # before annotate_pages: /annotate/karma is not a project
    app.include_router(annotate_pages.router)
    app.include_router(labelstudio.router)
    app.include_router(moralgraph_api.router)
    app.include_router(moralgraph_pages.router)
    app.include_router(chat.router)
    app.include_router(rank.router)
    app.include_router(ui.router)
    app.include_router(consent.router)
    app.include_router(personal.router)
    app.include_router(picks.router)
    app.include_router(admin.router)

    @app.get("/.well-known/jwks.json", tags=["reference"])
    def jwks(s: ServicesDep) -> dict[str, Any]:
        """The issuer's public keys: verify value tokens offline with these."""
        return s.registry.keys.jwks()

    @app.get("/.well-known/vp-format.json", tags=["reference"])
    def vp_format_document(s: ServicesDep) -> dict[str, Any]:
        """Who issues tokens (`iss`, `aud` to check) and how to read their `vp` (profile) and `bnd` (boundaries)
        claims: dimension order and scales."""
        return {"issuer": s.settings.issuer, "audience": s.settings.audience, **vp_format(s.registry.space)}

    logging.getLogger("uvicorn.access").addFilter(RedactHandles())
    return app
