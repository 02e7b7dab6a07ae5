"""What every page gets: the language cookie when `?lang=` asks for it, and security headers."""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.settings import get_settings
from web.i18n import LANG_COOKIE, LANG_COOKIE_MAX_AGE, valid_locale

API_PREFIX = "/api"

# Pages load their script and style from /static only; nothing may frame them (clickjacking).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def is_api_path(path: str) -> bool:
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


def lang_cookie_header(locale: str) -> str:
    response = Response()
    response.set_cookie(
        LANG_COOKIE,
        locale,
        max_age=LANG_COOKIE_MAX_AGE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=get_settings().cookie_secure,
    )
    return response.headers["set-cookie"]


class PageMiddleware:
    """Pure ASGI rather than BaseHTTPMiddleware: streamed responses pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_api_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        asked = valid_locale((query.get("lang") or [None])[0])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if asked:
                    headers.append("set-cookie", lang_cookie_header(asked))
                if headers.get("content-type", "").startswith("text/html"):
                    for name, value in SECURITY_HEADERS.items():
                        headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
