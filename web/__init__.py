"""Server-rendered pages (Jinja2 + HTMX), French first with English available."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles


def mount_web(app: FastAPI) -> None:
    """Attach the web pages, their error pages and the static files (called by api.app)."""
    from web.errors import install_error_pages
    from web.i18n import load_all
    from web.middleware import PageMiddleware
    from web.routes import router
    from web.templating import STATIC_DIR

    load_all()
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(PageMiddleware)
    install_error_pages(app)
