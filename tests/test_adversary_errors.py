"""Red team: the error answers as an oracle. A competing member (a company administrator, the
most a member can be) names another company's objects by id, in paths and in bodies, in every
state those objects can be in, and compares each answer with the answer to an id that names
nothing: status, body, headers and the error's `field` must be the same, or the difference tells
that the object exists and what state it is in. The same for the pages, the database's own
errors, the unexpected ones (what they show and what they log), the request id, and the
search cursor of a cached page.

Each test names the attack; a difference found is printed with the route that gave it.
"""

from __future__ import annotations

import base64
import logging
import re
import struct
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from api.app import app
from core import ratelimit
from marketplace.accounts.models import Role
from marketplace.accounts.service import actor_of, list_api_tokens
from marketplace.alerts import service as alerts
from marketplace.alerts.models import Notification
from marketplace.catalogue import cache
from marketplace.catalogue import service as catalogue
from marketplace.flows import service as flows
from marketplace.imports import service as imports
from tests.factories import (
    Tenant,
    create_flow_row,
    create_tenant,
    create_user_row,
)
from tests.members import CELL, member, publication_run, publish
from tests.test_web import login, token_in
from web import pages_catalogue

SECRET = "Concurrent Secret SA"
# What an exception's message may quote (the log quotes code lines: this name, not its value).
FAILING_VALUE = f"{SECRET}, 51.0123 2.3456"
# What may differ between two answers that tell the same thing.
PER_REQUEST_HEADERS = {"x-request-id", "date", "content-length"}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(autouse=True)
def fresh_rate_limit() -> Iterator[None]:
    # The attacker reads more than a minute's catalogue budget.
    ratelimit.reset()
    yield
    ratelimit.reset()


def missing() -> str:
    return str(uuid.uuid4())


def answer(response: Any) -> tuple[int, dict[str, str], Any]:
    """An answer as the client compares it: what differs per request left out, and the id it
    asked for (a page's language links repeat its own path) read as "ID"."""
    asked = str(response.request.url)
    headers = {k: v for k, v in response.headers.items() if k.lower() not in PER_REQUEST_HEADERS}
    if response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
        if isinstance(body, dict):
            body.pop("request_id", None)
    else:
        body = response.text
        for named in UUID.findall(asked):
            body = body.replace(named, "ID")
    return response.status_code, headers, body


def assert_alike(foreign: Any, unknown: Any, what: str) -> None:
    assert answer(foreign) == answer(unknown), (
        f"{what}: another company's object is answered otherwise than an id naming nothing\n"
        f"foreign: {foreign.status_code} {foreign.text[:300]}\n"
        f"unknown: {unknown.status_code} {unknown.text[:300]}"
    )
    assert foreign.status_code in (401, 403, 404, 422), (what, foreign.status_code)
    assert SECRET not in foreign.text, what


# --- the victim's objects, in every state ---------------------------------------------------------


@dataclass
class Victim:
    tenant: Tenant
    # A flow without a listing, a withdrawn flow, and a flow per listing state.
    bare_flow: str
    withdrawn_flow: str
    listings: dict[str, str]
    listed_flows: dict[str, str]
    search: str
    notification: str
    token: str
    job: str


@pytest.fixture
def victim(session: Session) -> Victim:
    tenant = create_tenant(session, SECRET)
    actor = actor_of(tenant.admin)
    withdrawn = create_flow_row(session, tenant.site, label="Boues retirées")
    flows.withdraw_flow(session, actor, withdrawn)
    listings, listed_flows = {}, {}
    steps: dict[str, tuple[Callable[..., Any], ...]] = {
        "draft": (),
        "published": (catalogue.publish,),
        "paused": (catalogue.publish, catalogue.pause),
        "withdrawn": (catalogue.withdraw,),
        "fulfilled": (catalogue.publish, catalogue.fulfil),
    }
    for state, actions in steps.items():
        flow = create_flow_row(session, tenant.site, label=f"Chutes de verre {state}")
        listing = catalogue.create_listing(session, actor, flow.id)
        for action in actions:
            action(session, actor, listing)
        assert listing.status == state
        listings[state], listed_flows[state] = str(listing.id), str(flow.id)
    search = alerts.save_search(session, actor, "Veille", {"kind": "material"})
    notification = Notification(
        user_id=tenant.admin.id,
        saved_search_id=search.id,
        listing_id=uuid.UUID(listings["published"]),
        revision="0" * 32,
    )
    session.add(notification)
    facilitator = create_user_row(session, Role.FACILITATOR)
    csv = b"company,siret,site,latitude,longitude,direction,kind,label,quantity,unit\n"
    job = imports.create_job(
        session, actor_of(facilitator), "x.csv", csv + b"X,1,S,51,2,offer,heat,L,1,MWh\n"
    )
    session.commit()
    (token,) = list_api_tokens(session, actor)  # the one create_tenant issued
    return Victim(
        tenant=tenant,
        bare_flow=str(tenant.flow.id),
        withdrawn_flow=str(withdrawn.id),
        listings=listings,
        listed_flows=listed_flows,
        search=str(search.id),
        notification=str(notification.id),
        token=str(token.id),
        job=str(job.id),
    )


@pytest.fixture
def attacker(session: Session) -> Tenant:
    return create_tenant(session, "Curieux Recyclage SAS")


# --- the API --------------------------------------------------------------------------------------

LISTING_STEPS = ("publish", "pause", "resume", "withdraw", "fulfil")
LISTING_ROUTES = [
    ("GET", "/api/v1/listings/{id}"),
    ("GET", "/api/v1/listings/{id}/preview"),
    *(("POST", f"/api/v1/listings/{{id}}/{step}") for step in LISTING_STEPS),
]


def test_a_foreign_listing_is_missing_whatever_its_state(
    client: TestClient, victim: Victim, attacker: Tenant
) -> None:
    """Attack: publish, pause, resume, withdraw or fulfil another company's listing, and read the
    409 ("a withdrawn listing cannot pause") that would name its state."""
    for state, listing_id in victim.listings.items():
        for method, route in LISTING_ROUTES:
            foreign = client.request(method, route.format(id=listing_id), headers=attacker.headers)
            unknown = client.request(method, route.format(id=missing()), headers=attacker.headers)
            assert_alike(foreign, unknown, f"{method} {route} on a {state} listing")


def test_a_foreign_flow_is_missing_whatever_its_state_or_listing(
    client: TestClient, victim: Victim, attacker: Tenant
) -> None:
    """Attack: list another company's flow (409 "already has a listing", 422 "a withdrawn flow
    cannot be listed"), edit or withdraw it (409 "already withdrawn")."""
    flow_ids = {
        "bare": victim.bare_flow,
        "withdrawn": victim.withdrawn_flow,
        **{f"listed {state}": flow for state, flow in victim.listed_flows.items()},
    }
    headers = attacker.headers
    for what, flow_id in flow_ids.items():
        for method, route, body in (
            ("GET", "/api/v1/flows/{id}", None),
            ("PATCH", "/api/v1/flows/{id}", {"label": "Repris"}),
            ("PATCH", "/api/v1/flows/{id}", {"quantity": -1}),
            ("POST", "/api/v1/flows/{id}/withdraw", None),
        ):
            foreign = client.request(method, route.format(id=flow_id), headers=headers, json=body)
            unknown = client.request(method, route.format(id=missing()), headers=headers, json=body)
            assert_alike(foreign, unknown, f"{method} {route} {body} on a {what} flow")
        foreign = client.post("/api/v1/listings", headers=headers, json={"flow_id": flow_id})
        unknown = client.post("/api/v1/listings", headers=headers, json={"flow_id": missing()})
        assert_alike(foreign, unknown, f"POST /listings of a {what} flow")
        assert foreign.json()["field"] == "flow_id"


def test_foreign_ids_in_bodies_and_filters_are_missing_ones(
    client: TestClient, victim: Victim, attacker: Tenant, session: Session
) -> None:
    """Attack: name another company's site where one's own is expected (a flow's site, a search's
    distance origin, a saved search's filter) or its company (adding a user to it)."""
    headers, site = attacker.headers, str(victim.tenant.site.id)
    flow = {
        "direction": "offer",
        "kind": "material",
        "label": "Sable de fonderie",
        "low_code": "10 09 08",
        "quantity": 10,
        "unit": "t",
    }
    card = publish(client, member(session, "Visible SA", CELL[0]))
    probes: list[tuple[str, str, Callable[[str], dict[str, Any]] | None]] = [
        ("POST", "/api/v1/flows", lambda s: {**flow, "site_id": s}),
        ("PATCH", f"/api/v1/flows/{attacker.flow.id}", lambda s: {"site_id": s}),
        ("POST", "/api/v1/saved-searches", lambda s: {"name": "x", "filters": {"from_site": s}}),
        ("GET", "/api/v1/catalogue", None),
        ("GET", f"/api/v1/catalogue/{card}", None),
    ]
    for method, route, body in probes:
        if body is None:
            foreign = client.get(route, headers=headers, params={"from_site": site})
            unknown = client.get(route, headers=headers, params={"from_site": missing()})
        else:
            foreign = client.request(method, route, headers=headers, json=body(site))
            unknown = client.request(method, route, headers=headers, json=body(missing()))
        assert_alike(foreign, unknown, f"{method} {route} naming a foreign site")
    user = {"email": "nouveau@curieux.example", "password": "a-long-password", "role": "member"}
    company = str(victim.tenant.company.id)
    foreign = client.post("/api/v1/users", headers=headers, json={**user, "company_id": company})
    unknown = client.post("/api/v1/users", headers=headers, json={**user, "company_id": missing()})
    assert_alike(foreign, unknown, "POST /users into a foreign company")


def test_every_other_foreign_id_in_a_path_is_a_missing_one(
    client: TestClient, victim: Victim, attacker: Tenant
) -> None:
    """Attack: another company's site, company, saved search, alert, token and an import job,
    each in a path, with a body valid and invalid: validation must not come first for one and
    second for the other."""
    ids = victim.tenant
    probes = [
        ("GET", "/api/v1/companies/{id}", str(ids.company.id), None),
        ("PATCH", "/api/v1/companies/{id}", str(ids.company.id), {"address": "Quai 4"}),
        ("PATCH", "/api/v1/companies/{id}", str(ids.company.id), {"nace": "pas un code"}),
        ("GET", "/api/v1/sites/{id}", str(ids.site.id), None),
        ("PATCH", "/api/v1/sites/{id}", str(ids.site.id), {"commune": "Intrus"}),
        # A move outside France: refused by the service's rule, after the site is looked up.
        ("PATCH", "/api/v1/sites/{id}", str(ids.site.id), {"latitude": 40.0, "longitude": -30.0}),
        ("PATCH", "/api/v1/sites/{id}", str(ids.site.id), {"latitude": "nord"}),
        ("DELETE", "/api/v1/saved-searches/{id}", victim.search, None),
        ("POST", "/api/v1/notifications/{id}/read", victim.notification, None),
        ("POST", "/api/v1/tokens/{id}/revoke", victim.token, None),
        ("GET", "/api/v1/imports/{id}", victim.job, None),
    ]
    for method, route, own, body in probes:
        headers = attacker.headers
        foreign = client.request(method, route.format(id=own), headers=headers, json=body)
        unknown = client.request(method, route.format(id=missing()), headers=headers, json=body)
        assert_alike(foreign, unknown, f"{method} {route} {body}")


def test_a_card_not_in_the_catalogue_is_missing_whatever_its_state(
    client: TestClient, victim: Victim, attacker: Tenant, session: Session
) -> None:
    """Attack: read the card of a listing that is a draft, paused, withdrawn, fulfilled, or
    published but waiting for the run, as a visitor and as a member: "not found" alike."""
    for state, listing_id in victim.listings.items():
        for headers in ({}, attacker.headers):
            foreign = client.get(f"/api/v1/catalogue/{listing_id}", headers=headers)
            unknown = client.get(f"/api/v1/catalogue/{missing()}", headers=headers)
            assert_alike(foreign, unknown, f"the card of a {state} listing")


# --- the pages ------------------------------------------------------------------------------------


@pytest.fixture
def attacker_page(client: TestClient, attacker: Tenant) -> TestClient:
    login(client, attacker.admin.email)
    return client


def test_the_pages_answer_a_foreign_object_as_a_missing_one(
    attacker_page: TestClient, victim: Victim, attacker: Tenant
) -> None:
    """Attack: the same through the pages, whose 404, 409 and 422 are HTML: « Publier » on a
    foreign flow with and without a live listing, the listing buttons, the edit forms."""
    client = attacker_page
    csrf = token_in(client.get("/sites/new").text)
    flow_ids = [victim.bare_flow, victim.withdrawn_flow, *victim.listed_flows.values()]
    probes: list[tuple[str, str, str]] = []
    for flow_id in flow_ids:
        probes += [
            ("POST", "/flows/{id}/publish", flow_id),
            ("GET", "/flows/{id}/edit", flow_id),
            ("POST", "/flows/{id}/edit", flow_id),
            ("GET", "/flows/{id}/withdraw", flow_id),
            ("POST", "/flows/{id}/withdraw", flow_id),
        ]
    for listing_id in victim.listings.values():
        probes += [("GET", "/listings/{id}/preview", listing_id)]
        probes += [
            ("POST", f"/listings/{{id}}/{step}", listing_id)
            for step in ("publish", "pause", "resume", "withdraw", "fulfil")
        ]
    probes += [
        ("GET", "/sites/{id}/edit", str(victim.tenant.site.id)),
        ("POST", "/sites/{id}/edit", str(victim.tenant.site.id)),
        ("POST", "/saved-searches/{id}/delete", victim.search),
        ("POST", "/notifications/{id}/read", victim.notification),
    ]
    form = {"csrf_token": csrf, "label": "Repris", "name": "Repris", "latitude": "40"}
    for method, route, own in probes:
        data = form if method == "POST" else None
        foreign = client.request(method, route.format(id=own), data=data, follow_redirects=False)
        unknown = client.request(
            method, route.format(id=missing()), data=data, follow_redirects=False
        )
        assert_alike(foreign, unknown, f"page {method} {route}")


# --- the database's own errors, and the unexpected ones -------------------------------------------

STATEMENT = f"INSERT INTO sites (name) VALUES ('{SECRET}')"
DATABASE_ERRORS = {
    "integrity": IntegrityError(
        STATEMENT, {"name": SECRET}, Exception(f"UNIQUE constraint failed: {SECRET}")
    ),
    "operational": OperationalError(
        STATEMENT, {"name": SECRET}, Exception(f"deadlock detected on {SECRET}")
    ),
}


@pytest.fixture
def lenient() -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize("kind", sorted(DATABASE_ERRORS))
def test_a_database_error_shows_and_logs_none_of_its_values(
    lenient: TestClient,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    kind: str,
) -> None:
    """Attack: make a request fail in the database (a unique clash, a deadlock) whose statement
    and parameters hold another company's name, and read the API's body, the page, and the log."""

    def fail(*_: object, **__: object) -> None:
        raise DATABASE_ERRORS[kind]

    monkeypatch.setattr("api.routers.catalogue.optional_actor", fail)
    monkeypatch.setattr(pages_catalogue, "own_sites", fail)
    with caplog.at_level(logging.DEBUG):
        api = lenient.get("/api/v1/catalogue")
        page = lenient.get("/catalogue")
    assert api.status_code == page.status_code == {"integrity": 409, "operational": 503}[kind]
    for shown in (api.text, page.text, *(r.getMessage() for r in caplog.records)):
        for secret in (SECRET, "INSERT", "UNIQUE", "deadlock"):
            assert secret not in shown, (kind, shown[:300])
    assert set(api.json()) == {"error", "detail", "field", "request_id"}


def test_an_unexpected_error_on_a_page_never_reaches_the_server_log_whole(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Attack: make a page fail on a value of another company's (a card, a name). The API keeps
    such an exception to itself and logs its type and place; a page's was raised again for the
    server to log whole, message included ("Exception in ASGI application" with the traceback).
    `client` raises what reaches the server, as the API's test does."""

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError(FAILING_VALUE)

    monkeypatch.setattr(pages_catalogue, "own_sites", broken)
    with caplog.at_level(logging.DEBUG):
        page = client.get("/catalogue", headers={"X-Request-ID": "page-failure-42"})
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["X-Request-ID"] == "page-failure-42"
    assert SECRET not in page.text and "RuntimeError" not in page.text
    logged = [r.getMessage() for r in caplog.records]
    assert any("page-failure-42" in line and "RuntimeError" in line for line in logged), logged
    assert not any(SECRET in line or "51.0123" in line for line in logged)
    assert not any(r.exc_info for r in caplog.records), "a traceback with its message was logged"
    # Still a page of the site: the same security headers as every page.
    assert page.headers["X-Frame-Options"] == "DENY"


# --- the request id -------------------------------------------------------------------------------


def test_a_request_id_tells_nothing_of_other_requests(client: TestClient, attacker: Tenant) -> None:
    """Attack: read the ids the server gives, between two of one's own requests, for a counter
    or a clock that would count or time the requests of others; send hostile ids to have them
    reflected into a body, a header or a page."""
    ids = [client.get("/api/v1/health").headers["X-Request-ID"] for _ in range(20)]
    ids += [client.get("/", headers=attacker.headers).headers["X-Request-ID"] for _ in range(5)]
    assert len(set(ids)) == len(ids)
    for value in ids:
        assert uuid.UUID(hex=value).version == 4, value  # random, neither time nor counter based
    for hostile in ("abcdefgh%0d%0aSet-Cookie:x=1", "abcdefgh<script>", "a" * 65, "1234567"):
        answer_ = client.get(f"/api/v1/flows/{missing()}", headers={"X-Request-ID": hostile})
        given = answer_.headers["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", given) and answer_.json()["request_id"] == given
        assert "script" not in answer_.text and "Set-Cookie" not in answer_.text


# --- the cursor -----------------------------------------------------------------------------------


def _cursor_page(client: TestClient) -> tuple[str, str]:
    page = client.get("/api/v1/catalogue", params={"limit": 1, "sort": "date"})
    assert page.status_code == 200, page.text
    cursor = page.json()["next_cursor"]
    assert cursor
    return cursor, page.text


@pytest.fixture
def two_cards(client: TestClient, session: Session) -> None:
    for i, position in enumerate(CELL[:3]):
        publish(client, member(session, f"Carte {i} SA", position))
    publication_run(session)


def test_a_cached_page_does_not_date_the_search_that_filled_it(
    client: TestClient, two_cards: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attack: read a search page that someone else's search put in the response cache, and read
    from its cursor when that search was made (a Fernet token carries its encryption time in
    clear): what a competitor searches for, and when."""
    earlier = time.time() - 3 * 3600
    monkeypatch.setattr(time, "time", lambda: earlier)
    _cursor_page(client)  # someone else's search, three hours ago
    monkeypatch.undo()
    cursor, _ = _cursor_page(client)
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    dated = raw[0] == 0x80 and abs(struct.unpack(">Q", raw[1:9])[0] - earlier) < 60
    assert not dated, "the cursor dates the search that filled the cache"


def test_a_page_rendered_again_is_the_cached_page(client: TestClient, two_cards: None) -> None:
    """Attack: poll one search and compare the bytes. The cache is emptied by every change to
    any listing (a draft withdrawn, a publication pressed that waits for the run): a cursor that
    differed at each rendering would tell each such change of anyone, to the poll's second."""
    _, first = _cursor_page(client)
    cache.responses.clear()
    _, again = _cursor_page(client)
    assert first == again, "the same page rendered twice differs: a re-rendering is visible"
