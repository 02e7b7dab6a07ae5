"""Walks every route of the OpenAPI with each role and a foreign company's ids: no access where
none is due. A route added later is covered without editing this test."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlmodel import Session

from contracts.terms import PartyRole, PartyTerms, Price, Terms, default_clauses
from core.models import utcnow
from marketplace.accounts.models import Role
from marketplace.accounts.service import actor_of
from marketplace.alerts import service as alerts
from marketplace.catalogue import service as catalogue
from marketplace.companies.models import Company
from marketplace.exchanges.models import Contract, ContractVersion
from marketplace.flows.models import Flow
from marketplace.imports import service as imports
from marketplace.introductions.models import Introduction, OutboxMessage
from tests.factories import PASSWORD, bearer, create_tenant, create_user_row

# Bodies that are valid for the route, so a refusal cannot hide behind a validation error.
SAMPLE_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("patch", "/api/v1/flows/{flow_id}"): {"label": "Changed by an intruder"},
    ("patch", "/api/v1/sites/{site_id}"): {"commune": "Intrus"},
    ("patch", "/api/v1/companies/{company_id}"): {"address": "Intrus"},
    ("post", "/api/v1/introductions/{introduction_id}/messages"): {"body": "Bonjour"},
    ("post", "/api/v1/contracts/{contract_id}/comments"): {"body": "Bonjour"},
    ("post", "/api/v1/contracts/{contract_id}/sign"): {"password": PASSWORD, "version": 1},
    ("put", "/api/v1/contracts/{contract_id}/status"): {"answers": {"is_utility": True}},
    ("post", "/api/v1/contracts/{contract_id}/deliveries"): {
        "delivered_on": "2026-01-05",
        "quantity": 10,
        "unit": "t",
    },
}
# Multipart routes: a valid file, so the refusal is the access check's.
SAMPLE_FILES: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/api/v1/contracts/{contract_id}/documents"): {
        "file": ("preuve.pdf", b"%PDF-1.4 preuve", "application/pdf")
    },
}
ALLOWED_FOREIGN = {401, 403, 404}


def _terms(giver: str, taker: str) -> Terms:
    clauses = default_clauses("fr")
    return Terms(
        parties=[
            PartyTerms(role=PartyRole.GIVER, legal_name=giver, address="Port"),
            PartyTerms(role=PartyRole.TAKER, legal_name=taker, address="Port"),
        ],
        material_label="Cendres volantes",
        low_code="10 01 02",
        hazardous=False,
        quantity_per_year=100,
        unit="t",
        regularity="continuous",
        quality_specification="Selon fiche",
        acceptance_tests="Pesée",
        price=Price(kind="free", per_unit="t"),
        delivery_point="Site du preneur",
        transport="Preneur",
        start_date=date(2026, 1, 1),
        end_date=date(2027, 1, 1),
        **clauses,
    )


def _routes(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    spec = client.get("/api/v1/openapi.json").json()
    routes = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            routes.append((method, path, operation))
    assert len(routes) >= 15, "the OpenAPI lists fewer routes than the API has"
    return routes


def _fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), ids["fallback"]), path)


def _call(
    client: TestClient, method: str, path: str, headers: dict[str, str], url: str | None = None
) -> Any:
    """Call `path` (the OpenAPI's template) at `url` (its ids filled in) with its sample body."""
    files = SAMPLE_FILES.get((method, path))
    if files is not None:
        return client.request(method.upper(), url or path, headers=headers, files=files)
    body = SAMPLE_BODIES.get((method, path), {})
    return client.request(method.upper(), url or path, headers=headers, json=body)


@pytest.fixture
def world(session: Session) -> dict[str, Any]:
    a = create_tenant(session, "Alpha Ciments SAS")
    b = create_tenant(session, "Bravo Papeterie SA")
    member_a = create_user_row(session, Role.MEMBER, a.company)
    facilitator = create_user_row(session, Role.FACILITATOR)
    # Everything else a foreign id can name: B's draft listing and saved search, and an import
    # job of the facilitator's.
    listing = catalogue.create_listing(session, actor_of(b.admin), b.flow.id)
    search = alerts.save_search(session, actor_of(b.admin), "B", {"kind": "material"})
    csv = b"company,siret,site,latitude,longitude,direction,kind,label,quantity,unit\n"
    job = imports.create_job(
        session, actor_of(facilitator), "x.csv", csv + b"X,1,S,51,2,offer,heat,L,1,MWh\n"
    )
    # An introduction of B's (B asked C), proposed to C: nothing of it is A's.
    c = create_tenant(session, "Charlie Recyclage SAS")
    intro = Introduction(
        requester_company_id=b.company.id,
        owner_company_id=c.company.id,
        requester_flow_id=b.flow.id,
        owner_flow_id=c.flow.id,
        state="proposed",
        proposed_at=utcnow(),
        expires_at=utcnow() + timedelta(days=15),
    )
    session.add(intro)
    session.flush()
    # A notice to B about its introduction: one that A must neither read nor mark.
    notice = OutboxMessage(
        kind="introduction.proposed",
        introduction_id=intro.id,
        recipient_company_id=b.company.id,
        payload={"introduction_id": str(intro.id), "state": "proposed"},
    )
    session.add(notice)
    # A contract between B and C, and the terms naming them: nothing of it is A's either.
    contract = Contract(
        introduction_id=intro.id,
        reference="SYM-2026-0999",
        state="ready",
        giver_company_id=b.company.id,
        taker_company_id=c.company.id,
    )
    session.add(contract)
    session.flush()
    session.add(
        ContractVersion(
            contract_id=contract.id,
            number=1,
            terms=_terms("Bravo Papeterie SA", "Charlie Recyclage SAS").model_dump_json(),
            terms_hash="0" * 64,
        )
    )
    session.commit()
    # A's own interest goes to B's draft listing: "not available", and nothing more.
    SAMPLE_BODIES[("post", "/api/v1/introductions")] = {"listing_id": str(listing.id)}
    SAMPLE_BODIES[("post", "/api/v1/contracts/{contract_id}/versions")] = {
        "terms": _terms("Intrus SA", "Complice SA").model_dump(mode="json"),
        "base_version": 1,
    }
    return {
        "a": a,
        "b": b,
        "headers": {
            "anonymous": {},
            "member": bearer(session, member_a),
            "company_admin": a.headers,
        },
        "facilitator": bearer(session, facilitator),
        "member_a": member_a,
        "facilitator_user": facilitator,
        "b_ids": {
            "company_id": str(b.company.id),
            "site_id": str(b.site.id),
            "flow_id": str(b.flow.id),
            "listing_id": str(listing.id),
            "search_id": str(search.id),
            "job_id": str(job.id),
            "introduction_id": str(intro.id),
            "notice_id": str(notice.id),
            "contract_id": str(contract.id),
            "number": "1",
            "register": "outgoing",
            "fallback": str(b.flow.id),
        },
    }


def test_anonymous_is_refused_everywhere_but_public_routes(client: TestClient, world: dict) -> None:
    for method, path, operation in _routes(client):
        response = _call(client, method, path, {}, _fill(path, world["b_ids"]))
        if operation.get("x-public"):
            continue
        assert response.status_code == 401, (method, path, response.status_code)


@pytest.mark.parametrize("role", ["member", "company_admin"])
def test_company_users_get_nothing_of_a_foreign_company(
    client: TestClient, world: dict, session: Session, role: str
) -> None:
    b = world["b"]
    secrets = [
        str(b.company.id),
        str(b.site.id),
        str(b.flow.id),
        "Bravo Papeterie",
        *(
            world["b_ids"][k]
            for k in (
                "listing_id",
                "search_id",
                "job_id",
                "introduction_id",
                "notice_id",
                "contract_id",
            )
        ),
    ]
    headers = world["headers"][role]
    for method, path, _operation in _routes(client):
        url = _fill(path, world["b_ids"])
        response = _call(client, method, path, headers, url)
        if "{" in path:
            assert response.status_code in ALLOWED_FOREIGN, (method, path, response.text)
        # Foreign ids passed as filters must not widen what a company sees either.
        filtered = client.request(
            method.upper(),
            url,
            headers=headers,
            params={"company_id": str(b.company.id)},
            json=SAMPLE_BODIES.get((method, path), {}),
        )
        for text in (response.text, filtered.text):
            for secret in secrets:
                assert secret not in text, (method, path, secret)
    session.expire_all()
    flow = session.get(Flow, b.flow.id)
    assert flow is not None and flow.label == "Cendres volantes" and flow.status == "active"
    # B's notice stays unread, whatever A posted to mark it (one or all).
    notice = session.get(OutboxMessage, uuid.UUID(world["b_ids"]["notice_id"]))
    assert notice is not None and notice.read_at is None
    # B's contract is as it was: not signed, commented, qualified or delivered by A.
    contract = session.get(Contract, uuid.UUID(world["b_ids"]["contract_id"]))
    assert contract is not None and (contract.state, contract.version) == ("ready", 1)


def test_facilitator_reaches_every_company(client: TestClient, world: dict) -> None:
    b_ids = world["b_ids"]
    for path in (
        "/api/v1/companies/{company_id}",
        "/api/v1/sites/{site_id}",
        "/api/v1/flows/{flow_id}",
        "/api/v1/introductions/{introduction_id}",
        "/api/v1/contracts/{contract_id}",
    ):
        response = client.get(_fill(path, b_ids), headers=world["facilitator"])
        assert response.status_code == 200, path


def test_staff_only_routes_refuse_company_users(client: TestClient, world: dict) -> None:
    headers = world["headers"]["company_admin"]
    response = client.post(
        "/api/v1/companies",
        headers=headers,
        json={"legal_name": "Nouvelle SA", "siret": "73282932000074", "nace": "23.51Z"},
    )
    assert response.status_code == 403
    assert response.json()["error"] == "Forbidden"


def _introduction_pages() -> list[tuple[str, str]]:
    """(method, path) of every web page of the introductions: the member's and the console's."""
    from api.app import app

    found = []
    for route in iter_route_contexts(app.routes):
        path = route.path or ""
        if path.startswith(("/introductions", "/console/introductions")):
            found += [(method, path) for method in sorted(route.methods or ()) if method != "HEAD"]
    assert len(found) >= 8, found
    return found


def test_introduction_pages_give_a_foreign_company_nothing(
    client: TestClient, world: dict, session: Session
) -> None:
    """A's member, logged in, on every introduction page with B's introduction (B asked C):
    refused or "not found", B's name nowhere, and the introduction unchanged."""
    from tests.test_web import login, token_in

    login(client, world["member_a"].email)
    token = token_in(client.get("/introductions").text)
    b_ids = world["b_ids"]
    for method, path in _introduction_pages():
        url = _fill(path, {**b_ids, "action": "accept"})
        data = {"csrf_token": token, "body": "Bonjour", "note": "", **b_ids}
        response = client.request(method, url, data=data if method == "POST" else None)
        if "{" in path or path.startswith("/console"):
            assert response.status_code in ALLOWED_FOREIGN, (method, path, response.status_code)
        else:
            # The inbox lists none of B's; an interest in B's draft listing is "not available".
            assert response.status_code in (200, 404), (method, path, response.status_code)
            assert b_ids["introduction_id"] not in response.text, (method, path)
        assert "Bravo Papeterie" not in response.text, (method, path)
    session.expire_all()
    intro = session.get(Introduction, uuid.UUID(b_ids["introduction_id"]))
    assert intro is not None and intro.state == "proposed" and intro.version == 1


def test_the_facilitator_reaches_every_introduction_in_its_console(
    client: TestClient, world: dict
) -> None:
    from tests.test_web import login

    login(client, world["facilitator_user"].email)
    intro_id = world["b_ids"]["introduction_id"]
    queue = client.get("/console/introductions?queue=proposed")
    assert queue.status_code == 200 and intro_id in queue.text
    page = client.get(f"/console/introductions/{intro_id}")
    assert page.status_code == 200 and "Bravo Papeterie" in page.text


def _contract_pages() -> list[tuple[str, str]]:
    """(method, path) of every web page of the contracts, the list included."""
    from api.app import app

    found = []
    for route in iter_route_contexts(app.routes):
        path = route.path or ""
        if path.startswith("/contracts"):
            found += [(method, path) for method in sorted(route.methods or ()) if method != "HEAD"]
    assert len(found) >= 15, found
    return found


def test_contract_pages_give_a_foreign_company_nothing(
    client: TestClient, world: dict, session: Session
) -> None:
    """A's administrator, logged in, on every contract page with the contract between B and C:
    "not found" (as for no contract), B's name nowhere, and the contract unchanged."""
    from tests.test_web import login, token_in

    login(client, world["a"].admin.email)
    token = token_in(client.get("/contracts").text)
    b_ids = world["b_ids"]
    form = {
        "csrf_token": token,
        "body": "Bonjour",
        "password": PASSWORD,
        "version": "1",
        "base_version": "1",
        "step": "answers",
        "is_utility": "yes",
        "quantity": "1",
        "delivered_on": "2026-01-01",
    }
    for method, path in _contract_pages():
        url = _fill(path, {**b_ids, "action": "terminate"})
        response = client.request(method, url, data=form if method == "POST" else None)
        if "{" in path:
            assert response.status_code == 404, (method, path, response.status_code)
        else:
            # The list names none of B's contracts; drafting one is the facilitator's alone.
            assert response.status_code in (200, 403, 404), (method, path, response.status_code)
            assert b_ids["contract_id"] not in response.text, (method, path)
        assert "Bravo Papeterie" not in response.text, (method, path)
        assert "SYM-2026-0999" not in response.text, (method, path)
    session.expire_all()
    contract = session.get(Contract, uuid.UUID(b_ids["contract_id"]))
    assert contract is not None and (contract.state, contract.version) == ("ready", 1)


def test_the_facilitator_reaches_every_contract_page(client: TestClient, world: dict) -> None:
    from tests.test_web import login

    login(client, world["facilitator_user"].email)
    contract_id = world["b_ids"]["contract_id"]
    assert contract_id in client.get("/contracts").text
    page = client.get(f"/contracts/{contract_id}")
    assert page.status_code == 200 and "Bravo Papeterie" in page.text


def test_workbench_pages_refuse_company_users(
    client: TestClient, world: dict, session: Session
) -> None:
    """The facilitator's workbench (companies, one company, its size class, the pools) is
    refused to a member and to a company administrator: 403, nothing of B's shown, and B's size
    class unchanged by a posted form."""
    from tests.test_web import login, token_in

    b_id = world["b_ids"]["company_id"]
    for user in (world["member_a"], world["a"].admin):
        client.cookies.clear()
        login(client, user.email)
        token = token_in(client.get("/flows").text)
        for method, path in (
            ("GET", "/companies"),
            ("GET", f"/companies/{b_id}"),
            ("GET", f"/companies/{world['a'].company.id}"),
            ("POST", f"/companies/{b_id}/size"),
            ("GET", "/pools"),
            ("GET", "/pools/new"),
        ):
            data = {"csrf_token": token, "size_class": "large"} if method == "POST" else None
            response = client.request(method, path, data=data)
            assert response.status_code == 403, (user.email, method, path, response.status_code)
            assert "Bravo Papeterie" not in response.text, (method, path)
    session.expire_all()
    company = session.get(Company, uuid.UUID(b_id))
    assert company is not None and company.size_class == "medium"


def test_the_facilitator_reaches_the_workbench(client: TestClient, world: dict) -> None:
    from tests.test_web import login

    login(client, world["facilitator_user"].email)
    b_id = world["b_ids"]["company_id"]
    assert f"/companies/{b_id}" in client.get("/companies").text
    page = client.get(f"/companies/{b_id}")
    assert page.status_code == 200 and "Bravo Papeterie" in page.text
    assert client.get("/pools").status_code == 200
