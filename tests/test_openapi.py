"""The OpenAPI tells the truth about errors: every error response of every operation is the one
ErrorBody, FastAPI's HTTPValidationError is gone, and each operation lists the statuses its kind
can answer. The API docs page loads nothing from another server."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api import docs
from api.app import create_app

ERROR_REF = "#/components/schemas/ErrorBody"


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
    ]


def test_every_error_response_is_the_error_body(client: TestClient) -> None:
    answer = client.get("/api/v1/openapi.json")
    spec = answer.json()
    assert "HTTPValidationError" not in answer.text
    assert "ValidationError" not in spec["components"]["schemas"]
    body = spec["components"]["schemas"]["ErrorBody"]
    assert set(body["required"]) == {"error", "detail", "field", "request_id"}
    for method, path, operation in _operations(spec):
        for status, response in operation["responses"].items():
            if status[0] in "45":
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": ERROR_REF}, (method, path, status)


def test_each_operation_documents_the_statuses_it_can_answer(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    operations = _operations(spec)
    assert len(operations) >= 30
    for method, path, operation in operations:
        codes = set(operation["responses"])
        where = (method, path)
        assert {"413", "500", "503"} <= codes, where
        if not operation.get("x-public"):
            assert {"401", "403"} <= codes, where
        if "{" in path:
            assert {"404", "422"} <= codes, where
        if "requestBody" in operation:
            assert {"400", "422"} <= codes, where
        if method in ("post", "patch", "put", "delete") and not operation.get("x-public"):
            assert "409" in codes, where
    paths = spec["paths"]
    # An id in the query or the body is looked up too.
    assert "404" in paths["/api/v1/flows"]["get"]["responses"]
    assert "404" in paths["/api/v1/listings"]["post"]["responses"]
    # Rate limits, declared by their routes.
    assert "429" in paths["/api/v1/sites/{site_id}"]["patch"]["responses"]
    assert "429" in paths["/api/v1/catalogue"]["get"]["responses"]


def _assert_self_contained(client: TestClient) -> str:
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert not re.search(r"https?://", page.text), page.text
    for url in re.findall(r'(?:src|href)="([^"]+)"', page.text):
        assert client.get(url).status_code == 200, url
    return page.text


def test_the_docs_page_loads_nothing_from_another_server(client: TestClient) -> None:
    # Whether or not this machine ran `make assets`: the viewer, or a page saying how to get it.
    _assert_self_contained(client)


def _docs_client(monkeypatch: pytest.MonkeyPatch, assets: Path) -> TestClient:
    monkeypatch.setattr(docs, "ASSETS_DIR", assets)
    return TestClient(create_app())


def test_the_docs_page_loads_its_assets_from_this_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in docs.ASSETS:
        (tmp_path / name).write_bytes(b"/* stand-in for the npm package's file */")
    with _docs_client(monkeypatch, tmp_path) as client:
        page = _assert_self_contained(client)
        for name in docs.ASSETS:
            assert f"/api/v1/docs/assets/{name}" in page
        assert "/api/v1/openapi.json" in page


def test_without_its_assets_the_docs_page_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with _docs_client(monkeypatch, tmp_path / "missing") as client:
        page = _assert_self_contained(client)
        assert "make assets" in page
        assert "/api/v1/openapi.json" in page
