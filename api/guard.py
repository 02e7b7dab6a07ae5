"""Request bodies: refused before they are read when the caller cannot be served, and bounded.

Pure ASGI (not BaseHTTPMiddleware, which would buffer the body): for a request that carries a body,
the guard finds the route it is for and
- when the route requires a credential the request does not carry at all (no bearer token for the
  API, no session cookie for a page), refuses it before a byte of the body is read: the API answers
  401 here; a page is run on an empty body, so its own guard answers as it always does (the login
  form), while the body stays unread;
- bounds the body: max_json_body_bytes for every route, max_upload_bytes (plus the multipart
  envelope) for the routes that take a file (marked ``x-upload``). Content-Length over the limit is
  refused before reading; a body without one (chunked) is counted while it streams and refused as
  soon as it passes the limit, so memory stays bounded whatever the client sends.

"Requires a credential" is read from the routes themselves: a route whose dependencies reach one of
the credential dependencies (api.deps.current_user, web.security.current_viewer) is protected, so
a route added later is covered without a hand-kept list. A credential that is present but invalid
is refused by those dependencies, after the (bounded) body has been read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import RouteContext, iter_route_contexts
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body
from core.settings import get_settings

# A multipart upload carries the file plus its envelope (boundaries, part headers, form fields).
MULTIPART_ENVELOPE_BYTES = 64 * 1024
UPLOAD_MARK = "x-upload"


@dataclass(frozen=True)
class Credential:
    """How the caller of a protected route proves who it is, and who answers when it does not."""

    present: Callable[[Headers], bool]
    # True: refused here with a 401 (the API). False: the app runs on an empty body and its own
    # dependency answers (a page redirects to the login form).
    refuse_here: bool


@dataclass(frozen=True)
class RouteRule:
    credential: Credential | None
    upload: bool


class BodyTooLarge(HTTPException):
    """Raised from receive(): the app's error handlers turn it into the 413 error body or page."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body exceeds the limit of {limit} bytes")


def _calls(dependant: Dependant) -> set[Callable[..., Any]]:
    calls: set[Callable[..., Any]] = set()
    for child in dependant.dependencies:
        if child.call is not None:
            calls.add(child.call)
        calls |= _calls(child)
    return calls


def _json_response(
    status: int, body: dict[str, str | None], headers: dict[str, str]
) -> list[Message]:
    payload = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    return [
        {"type": "http.response.start", "status": status, "headers": raw},
        {"type": "http.response.body", "body": payload},
    ]


async def _empty_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


class RequestGuard:
    def __init__(
        self,
        app: ASGIApp,
        routes: Callable[[], list[BaseRoute]],
        credentials: Mapping[Callable[..., Any], Credential],
    ) -> None:
        self.app = app
        self.routes = routes
        self.credentials = credentials
        self._table: list[tuple[RouteContext, RouteRule]] = []
        self._table_of = -1

    def _rule(self, context: RouteContext) -> RouteRule:
        dependant: Dependant | None = getattr(context, "dependant", None)
        calls = _calls(dependant) if dependant is not None else set()
        found = [self.credentials[call] for call in calls if call in self.credentials]
        extra = getattr(context, "openapi_extra", None) or {}
        return RouteRule(found[0] if found else None, upload=bool(extra.get(UPLOAD_MARK)))

    def _route_rule(self, scope: Scope) -> RouteRule:
        routes = self.routes()
        if len(routes) != self._table_of:
            # Built once (again if routes were added): the same routes, in the router's order.
            self._table = [(c, self._rule(c)) for c in iter_route_contexts(routes)]
            self._table_of = len(routes)
        for context, rule in self._table:
            match, _ = context.matches(scope)
            if match == Match.FULL:
                return rule
        return RouteRule(None, upload=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if (declared is None or declared.strip() == "0") and "transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body: nothing to guard
            return
        rule = self._route_rule(scope)
        if rule.credential is not None and not rule.credential.present(headers):
            if rule.credential.refuse_here:
                for message in _json_response(
                    401,
                    error_body(scope, "Unauthorized", "a bearer token is required"),
                    {"WWW-Authenticate": "Bearer"},
                ):
                    await send(message)
            else:
                await self.app(scope, _empty_body, send)
            return
        settings = get_settings()
        limit = settings.max_json_body_bytes
        if rule.upload:
            limit = max(limit, settings.max_upload_bytes + MULTIPART_ENVELOPE_BYTES)
        await self._bounded(scope, receive, send, declared, limit)

    async def _bounded(
        self, scope: Scope, receive: Receive, send: Send, declared: str | None, limit: int
    ) -> None:
        length = int(declared) if declared and declared.strip().isdigit() else None
        api = scope["path"].startswith("/api/")
        if length is not None and length > limit and api:
            for message in _json_response(
                413, error_body(scope, "TooLarge", BodyTooLarge(limit).detail), {}
            ):
                await send(message)
            return
        received = 0
        started = False

        async def bounded_receive() -> Message:
            nonlocal received
            if length is not None and length > limit:
                raise BodyTooLarge(limit)  # a page: its error handler renders the 413 page
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded_receive, watched_send)
        except BodyTooLarge as exc:
            # Raised where no handler caught it (outside a route): answer it here if still possible.
            if started:
                raise
            body = error_body(scope, "TooLarge", exc.detail)
            for message in _json_response(413, body, {}):
                await send(message)
