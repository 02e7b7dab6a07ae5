"""Server-rendered pages (Jinja2 + HTMX), French first with English available."""

from __future__ import annotations

from fastapi import FastAPI


def mount_web(app: FastAPI) -> None:
    """Attach the web pages and static files to the application (called by api.app)."""
    from web.routes import router

    app.include_router(router)
