"""Composition root: the FastAPI application with the JSON API under /api/v1 and the web pages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.datastructures import Headers

from api.deps import current_user
from api.errors import ERROR_SCHEMA_REF, TOO_LARGE, UNAUTHORIZED, install_error_handlers
from api.guard import Credential, RequestGuard
from api.proxies import TrustedProxyMiddleware
from api.routers import accounts, alerts, catalogue, companies, flows, imports, listings, reference
from core.settings import get_settings
from web import mount_web, page_credential

API_PREFIX = "/api/v1"


def _has_bearer(headers: Headers) -> bool:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip())


def create_app() -> FastAPI:
    app = FastAPI(
        title="Symbiose",
        version="0.1.0",
        description="Industrial symbiosis marketplace: anonymous flows, brokered introductions.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    install_error_handlers(app)
    # Any route may meet an oversized body (413); the protected ones a missing or dead token (401).
    api = APIRouter(prefix=API_PREFIX, responses={413: TOO_LARGE})
    for module in (reference, accounts, companies, flows, imports, listings, alerts, catalogue):
        api.include_router(module.router)
    app.include_router(api)
    mount_web(app)
    _document_unauthorized(app)
    page_login, has_session = page_credential()
    app.add_middleware(
        RequestGuard,
        routes=lambda: app.router.routes,
        credentials={
            current_user: Credential(_has_bearer, refuse_here=True),
            page_login: Credential(has_session, refuse_here=False),
        },
    )
    # Outermost: every later step (rate limits, logs) sees the client, not the proxy.
    app.add_middleware(TrustedProxyMiddleware, trusted=get_settings().trusted_proxies)
    return app


def _document_unauthorized(app: FastAPI) -> None:
    """401 in the OpenAPI of every route that is not public (public routes that read an optional
    token or a password, the catalogue and the token endpoint, declare it themselves), and the
    error body as the schema of 422 (FastAPI documents its own, which the handler never sends)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        unauthorized = {
            "description": UNAUTHORIZED["description"],
            "content": {"application/json": {"schema": {"$ref": ERROR_SCHEMA_REF}}},
        }

        error_content = {"application/json": {"schema": {"$ref": ERROR_SCHEMA_REF}}}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation["responses"]
                if not operation.get("x-public"):
                    responses.setdefault("401", unauthorized)
                if "422" in responses:
                    # The one error handler answers validation errors with the error body too.
                    responses["422"]["content"] = error_content
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


app = create_app()
