"""The request id: an `X-Request-ID` header on every response, quoted in error bodies and logs.

A client's own id is kept when it is well formed (so a caller can follow one request through its
logs and ours); anything else is replaced, never echoed, since a header value is attacker input.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
_WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{8,64}")


def request_id_of(scope: Scope) -> str:
    """The id of the request of `scope` (given by the middleware; a fresh one outside it)."""
    state = scope.setdefault("state", {})
    if "request_id" not in state:
        state["request_id"] = uuid.uuid4().hex
    return str(state["request_id"])


class RequestIdMiddleware:
    """Pure ASGI: streamed responses pass through untouched.

    It also answers an exception that nothing handled, API or page, with `on_error`'s response:
    Starlette's outermost middleware would answer too, but then raise the exception again for the
    server to log it whole, message and values included.
    """

    def __init__(self, app: ASGIApp, on_error: Callable[[Scope, Exception], Response]) -> None:
        self.app = app
        self.on_error = on_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get(HEADER, "")
        given = incoming if _WELL_FORMED.fullmatch(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = given

        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message)[HEADER] = given
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if started:
                raise  # too late for an answer of ours
            await self.on_error(scope, exc)(scope, receive, send_with_id)
