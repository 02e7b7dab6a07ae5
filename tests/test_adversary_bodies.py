"""Property 9, played as an attacker would: bodies are not read before authentication, and every
body has a size limit.

The client streams its body from a generator that counts what the server pulls: a 200 MB body is
never allocated by the test, and the count is what the server read. A server that reads past
SAFETY_STOP gets the end of the body there (the count already fails the test), so main's
behaviour (reading all of it) cannot exhaust the test machine.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlmodel import Session

from api.app import app
from core.settings import get_settings
from tests.factories import create_tenant

CHUNK = 64 * 1024
BIG = 200 * 1024 * 1024
SAFETY_STOP = 16 * 1024 * 1024
# What the server may pull before refusing: an ASGI server hands over a chunk at a time.
PREFIX = 2 * CHUNK


class CountedBody:
    def __init__(self, size: int = BIG) -> None:
        self.size = size
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunk = b"[" + b"1," * (CHUNK // 2 - 1) + b"1"
        while self.pulled < min(self.size, SAFETY_STOP):
            self.pulled += len(chunk)
            yield chunk


async def _send(
    method: str, path: str, body: CountedBody, headers: dict[str, str]
) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.request(method, path, content=body, headers=headers)


def send(method: str, path: str, body: CountedBody, **headers: str) -> httpx.Response:
    return asyncio.run(_send(method, path, body, headers))


JSON = {"content-type": "application/json"}


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_an_anonymous_200_mb_body_to_a_protected_route_is_refused_unread(declared: bool) -> None:
    body = CountedBody()
    headers = {**JSON, **({"content-length": str(BIG)} if declared else {})}
    answer = send("POST", "/api/v1/flows", body, **headers)
    assert answer.status_code == 401
    assert answer.json() == {
        "error": "Unauthorized",
        "detail": "a bearer token is required",
        "field": None,
        "request_id": answer.headers["X-Request-ID"],
    }
    assert body.pulled <= PREFIX


def test_an_anonymous_upload_to_the_import_route_is_refused_unread() -> None:
    body = CountedBody(100 * 1024 * 1024)
    answer = send(
        "POST", "/api/v1/flows/import", body, **{"content-type": "multipart/form-data; boundary=x"}
    )
    assert answer.status_code == 401 and body.pulled <= PREFIX


def test_an_anonymous_body_to_a_signed_in_page_is_not_read() -> None:
    body = CountedBody()
    answer = send("POST", "/import", body, **{"content-type": "multipart/form-data; boundary=x"})
    # The page answers as it does to any visitor without a session (the login form, or a 4xx),
    # never with the body read.
    assert answer.status_code in (303, 401, 403) and body.pulled <= PREFIX


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_an_authenticated_oversized_json_body_gets_413(session: Session, declared: bool) -> None:
    tenant = create_tenant(session, "Gros Corps SAS")
    body = CountedBody()
    headers = {**JSON, **tenant.headers, **({"content-length": str(BIG)} if declared else {})}
    answer = send("POST", "/api/v1/flows", body, **headers)
    assert answer.status_code == 413
    assert answer.json()["error"] == "TooLarge"
    limit = get_settings().max_json_body_bytes
    assert body.pulled <= (0 if declared else limit + CHUNK)


def test_a_public_route_bounds_bodies_too(session: Session) -> None:
    body = CountedBody()
    answer = send("POST", "/api/v1/auth/token", body, **JSON)
    assert answer.status_code == 413
    assert body.pulled <= get_settings().max_json_body_bytes + CHUNK


def test_bodies_within_the_limit_still_work(session: Session) -> None:
    tenant = create_tenant(session, "Petit Corps SAS")
    transport = httpx.ASGITransport(app=app)

    async def create() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.post(
                "/api/v1/sites",
                json={
                    "name": "Quai 2",
                    "latitude": 51.03,
                    "longitude": 2.35,
                    "commune": "Gravelines",
                },
                headers=tenant.headers,
            )

    assert asyncio.run(create()).status_code == 201


def test_the_openapi_documents_401_413_and_429(session: Session) -> None:
    transport = httpx.ASGITransport(app=app)

    async def spec() -> dict[str, object]:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            spec: dict[str, object] = (await client.get("/api/v1/openapi.json")).json()
            return spec

    paths = asyncio.run(spec())["paths"]
    assert isinstance(paths, dict)
    for path, operations in paths.items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert "413" in codes, (method, path)
            if not operation.get("x-public") or path.startswith(
                ("/api/v1/catalogue", "/api/v1/auth")
            ):
                assert "401" in codes, (method, path)
    for path in ("/api/v1/catalogue", "/api/v1/catalogue/{listing_id}"):
        assert "429" in paths[path]["get"]["responses"]
    assert "429" in paths["/api/v1/auth/token"]["post"]["responses"]
