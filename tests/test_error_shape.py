"""One error shape everywhere: JSON `{"error", "detail", "field", "request_id"}` whatever went
wrong (an unexpected exception in a route, the framework's own refusals), an `X-Request-ID` on
every answer, and nothing internal in a 500 or its log line."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.app import app
from marketplace.reference import service as reference
from tests.factories import create_tenant
from web import pages_catalogue

SHAPE = {"error", "detail", "field", "request_id"}
SECRET = "Société Secrète SAS, 51.0123 2.3456"


@pytest.fixture
def lenient() -> Iterator[TestClient]:
    """A client that receives the 500 as a client would, instead of the exception."""
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def assert_error(answer: Any, status: int, name: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    body: dict[str, Any] = answer.json()
    assert set(body) >= SHAPE, body
    assert body["error"] == name
    assert body["request_id"] == answer.headers["X-Request-ID"]
    return body


def test_an_exception_in_a_route_is_a_json_500_with_nothing_internal(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # `client` raises what reaches the server: the API answers the exception and keeps it, so
    # the server never logs its message (the log line below is the only one).
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError(SECRET)

    monkeypatch.setattr(reference, "list_operations", broken)
    with caplog.at_level(logging.ERROR, logger="symbiose.api"):
        answer = client.get("/api/v1/reference/operations")
    body = assert_error(answer, 500, "InternalError")
    assert body["field"] is None
    assert body["request_id"] in body["detail"]
    assert "Secrète" not in answer.text and "RuntimeError" not in answer.text
    logged = [r.getMessage() for r in caplog.records if body["request_id"] in r.getMessage()]
    assert logged, "the log names the request id"
    assert all("Secrète" not in line and "51.0123" not in line for line in logged)


def test_a_client_request_id_is_kept_when_well_formed_and_replaced_otherwise(
    client: TestClient,
) -> None:
    kept = client.get("/api/v1/health", headers={"X-Request-ID": "abc-123.DEF_456"})
    assert kept.headers["X-Request-ID"] == "abc-123.DEF_456"
    for hostile in ("<script>", "a" * 200, "short", "id with spaces"):
        answer = client.get("/api/v1/health", headers={"X-Request-ID": hostile})
        assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["X-Request-ID"]), hostile
    first, second = client.get("/api/v1/health"), client.get("/api/v1/health")
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


def test_the_request_guards_refusal_has_the_shape_and_the_id(client: TestClient) -> None:
    answer = client.post("/api/v1/flows", json={"label": "x"})
    body = assert_error(answer, 401, "Unauthorized")
    assert body["field"] is None


def test_the_frameworks_own_refusals_are_the_error_body(
    session: Session, client: TestClient
) -> None:
    tenant = create_tenant(session, "Corps Tordus SAS")
    auth = tenant.headers
    broken_multipart = client.post(
        "/api/v1/flows/import",
        content=b'--x\r\nContent-Disposition: form-data; name="file"\r\n\r\nno end',
        headers={**auth, "content-type": "multipart/form-data; boundary=x"},
    )
    assert assert_error(broken_multipart, 422, "Invalid")["field"] == "file"
    not_utf8 = client.post(
        "/api/v1/sites", content=b"\xff\xfe{", headers={**auth, "content-type": "application/json"}
    )
    assert_error(not_utf8, 400, "BadRequest")
    not_json = client.post(
        "/api/v1/sites", content=b"{not json", headers={**auth, "content-type": "application/json"}
    )
    body = assert_error(not_json, 422, "Invalid")
    assert body["field"] == "body"
    form = client.post(
        "/api/v1/sites",
        content=b"name=x",
        headers={**auth, "content-type": "application/x-www-form-urlencoded"},
    )
    assert_error(form, 422, "Invalid")
    unknown = client.get("/api/v1/no-such-route", headers=auth)
    assert assert_error(unknown, 404, "NotFound")["field"] is None
    wrong_method = client.delete("/api/v1/me", headers=auth)
    assert_error(wrong_method, 405, "MethodNotAllowed")


def test_a_domain_error_without_a_field_says_null(session: Session, client: TestClient) -> None:
    tenant = create_tenant(session, "Sans Champ SAS")
    answer = client.get(f"/api/v1/flows/{tenant.company.id}", headers=tenant.headers)
    assert assert_error(answer, 404, "NotFound")["field"] is None


def test_a_page_that_fails_unexpectedly_is_an_html_page_with_its_request_id(
    lenient: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError(SECRET)

    monkeypatch.setattr(pages_catalogue, "own_sites", broken)
    page = lenient.get("/catalogue")
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "Secrète" not in page.text
    assert re.fullmatch(r"[0-9a-f]{32}", page.headers["X-Request-ID"])
