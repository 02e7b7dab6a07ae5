"""Composition root: the FastAPI application with the JSON API under /api/v1 and the web pages."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import Scope

import marketplace.handlers  # noqa: F401 - domain-event handlers, before any request
from api.deps import current_user
from api.docs import install_docs
from api.errors import install_error_handlers, unexpected_error
from api.guard import Credential, RequestGuard
from api.openapi import document_errors
from api.proxies import TrustedProxyMiddleware
from api.request_id import RequestIdMiddleware
from api.routers import (
    accounts,
    alerts,
    catalogue,
    companies,
    contracts,
    flows,
    imports,
    introductions,
    listings,
    matching,
    reference,
    territory,
)
from core.settings import get_settings
from web import mount_web, page_credential, unexpected_page

API_PREFIX = "/api/v1"


def _has_bearer(headers: Headers) -> bool:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip())


def _unexpected(scope: Scope, exc: Exception) -> Response:
    """An exception nothing handled: the API's JSON 500 or a page's HTML one, neither letting its
    message reach a client or the server's log."""
    if scope["path"].startswith(f"{API_PREFIX}/"):
        return unexpected_error(scope, exc)
    return unexpected_page(scope, exc)


def create_app() -> FastAPI:
    app = FastAPI(
        title="Symbiose",
        version="0.1.0",
        description="Industrial symbiosis marketplace: anonymous flows, brokered introductions.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # api/docs.py serves it, with its assets
        redoc_url=None,
    )
    install_error_handlers(app)
    api = APIRouter(prefix=API_PREFIX)
    modules = (
        reference,
        accounts,
        companies,
        flows,
        imports,
        listings,
        alerts,
        catalogue,
        matching,
        introductions,
        contracts,
        territory,
    )
    for module in modules:
        api.include_router(module.router)
    app.include_router(api)
    install_docs(app, API_PREFIX)
    mount_web(app)
    document_errors(app, API_PREFIX, credentials={current_user})
    page_login, has_session = page_credential()
    app.add_middleware(
        RequestGuard,
        routes=lambda: app.router.routes,
        credentials={
            current_user: Credential(_has_bearer, refuse_here=True),
            page_login: Credential(has_session, refuse_here=False),
        },
    )
    # Every later step (rate limits, logs) sees the client, not the proxy.
    app.add_middleware(TrustedProxyMiddleware, trusted=get_settings().trusted_proxies)
    # Outermost of ours: every answer carries the request id, the guard's refusals included.
    app.add_middleware(RequestIdMiddleware, on_error=_unexpected)
    return app


app = create_app()
