"""A page that meets a database or domain error answers an HTML page in the user's language, with
the error's status; the API keeps its JSON body for the same error."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from core.errors import RateLimited
from tests.factories import create_tenant
from tests.test_web import login

ERRORS = {
    409: IntegrityError("INSERT INTO sites", {}, Exception("UNIQUE constraint failed: sites.x")),
    503: OperationalError("SELECT 1", {}, Exception("database is locked")),
}
FRENCH = {
    409: ("Conflit", "Ceci entre en conflit avec une modification enregistrée entre-temps."),
    503: ("Service indisponible", "Le service est occupé."),
}
ENGLISH = {
    409: ("Conflict", "This conflicts with a change saved meanwhile."),
    503: ("Service unavailable", "The service is busy."),
}


@pytest.fixture
def logged_in(client: TestClient, session: Session) -> TestClient:
    login(client, create_tenant(session).admin.email)
    return TestClient(client.app, raise_server_exceptions=False, cookies=client.cookies)


def _fail_with(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr("web.pages_sites.list_sites", fail)


@pytest.mark.parametrize("status", sorted(ERRORS))
@pytest.mark.parametrize(("lang", "texts"), [("fr", FRENCH), ("en", ENGLISH)])
def test_a_database_error_on_a_page_is_an_html_page_with_its_status(
    logged_in: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    lang: str,
    texts: dict[int, tuple[str, str]],
) -> None:
    _fail_with(monkeypatch, ERRORS[status])
    response = logged_in.get("/sites", params={"lang": lang})
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    title, message = texts[status]
    assert title in response.text and message in response.text
    # Neither the statement nor the database's own words reach the user.
    assert "UNIQUE" not in response.text and "locked" not in response.text
    assert "INSERT" not in response.text and "SELECT" not in response.text


def test_a_rate_limit_on_a_page_is_an_html_page_with_its_retry_delay(
    logged_in: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fail_with(monkeypatch, RateLimited("too many searches, retry in 7 s", retry_after=7))
    response = logged_in.get("/sites")
    assert response.status_code == 429
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["retry-after"] == "7"


@pytest.mark.parametrize("status", sorted(ERRORS))
def test_the_api_keeps_its_json_body_for_the_same_errors(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise ERRORS[status]

    # Whatever the route, a database error raised by the service is the same error.
    monkeypatch.setattr("api.routers.catalogue.optional_actor", fail)
    quiet = TestClient(client.app, raise_server_exceptions=False)
    response = quiet.get("/api/v1/catalogue")
    assert response.status_code == status
    assert response.json()["error"] == {409: "Conflict", 503: "Unavailable"}[status]
