"""Composition root: the FastAPI application with the JSON API under /api/v1 and the web pages."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from api.errors import install_error_handlers
from api.routers import accounts, alerts, catalogue, companies, flows, imports, listings, reference
from web import mount_web

API_PREFIX = "/api/v1"


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
    api = APIRouter(prefix=API_PREFIX)
    for module in (reference, accounts, companies, flows, imports, listings, alerts, catalogue):
        api.include_router(module.router)
    app.include_router(api)
    mount_web(app)
    return app


app = create_app()
