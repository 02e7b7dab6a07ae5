"""Server-rendered pages (Jinja2 + HTMX), French first with English available."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import Scope


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


def page_credential() -> tuple[Callable[..., Any], Callable[[Headers], bool]]:
    """The dependency that makes a page require a login, and whether a request carries the
    credential it reads (the session cookie): the composition root's request guard refuses a
    body to a page that cannot be served without it."""
    from web.security import SESSION_COOKIE, current_viewer

    def has_session(headers: Headers) -> bool:
        return f"{SESSION_COOKIE}=" in headers.get("cookie", "")

    return current_viewer, has_session


def unexpected_page(scope: Scope, exc: Exception) -> Response:
    """A page's answer to an exception no handler knows: its 500 page, the exception logged
    without its message (web/errors.py). The composition root's request-id middleware sends it."""
    from web.errors import unexpected_page as page

    return page(scope, exc)
