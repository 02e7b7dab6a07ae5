"""Members of a territory for the attack tests: a company (with a chosen legal unit or a fresh
one), its administrator's bearer token, a site and a flow. The set-up is written through the
factories; everything the attacker does afterwards goes through the JSON API, as a member would."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session
from stdnum import luhn

from marketplace.accounts.models import Role
from tests.factories import (
    bearer,
    create_company_row,
    create_flow_row,
    create_site_row,
    create_user_row,
)

_sirens = itertools.count(1)

# Site positions a few hundred metres apart (one public H3 cell), elsewhere in the Nord, and in
# the Pas-de-Calais (another département of the same région).
CELL = [(51.0100, 2.3000), (51.0120, 2.3050), (51.0080, 2.2950), (51.0110, 2.2980)]
NORD_ELSEWHERE = [(50.6300, 3.0600), (50.6320, 3.0640), (50.6280, 3.0560)]
PAS_DE_CALAIS = (50.4300, 2.8300)


def siren() -> str:
    """A fresh nine-digit SIREN with a valid Luhn checksum."""
    body = f"{70000000 + next(_sirens):08d}"
    return body + luhn.calc_check_digit(body)


def siret(legal_unit: str, establishment: int) -> str:
    """The SIRET of one establishment (NIC) of the legal unit ``legal_unit``."""
    body = f"{legal_unit}{establishment:04d}"
    return body + luhn.calc_check_digit(body)


@dataclass
class Member:
    name: str
    headers: dict[str, str]
    flow_id: uuid.UUID
    site_id: uuid.UUID


def member(
    session: Session,
    name: str,
    position: tuple[float, float],
    legal_unit: str | None = None,
    establishment: int = 1,
    nace: str = "23.51Z",
    **flow: Any,
) -> Member:
    company = create_company_row(
        session, name, siret=siret(legal_unit or siren(), establishment), nace=nace
    )
    admin = create_user_row(session, Role.COMPANY_ADMIN, company)
    site = create_site_row(session, company, f"Site {name}", *position)
    created = create_flow_row(session, site, **flow)
    return Member(name, bearer(session, admin), created.id, site.id)


def draft(client: TestClient, owner: Member) -> dict[str, Any]:
    response = client.post(
        "/api/v1/listings", headers=owner.headers, json={"flow_id": str(owner.flow_id)}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def publish(client: TestClient, owner: Member) -> str:
    listing_id = str(draft(client, owner)["listing"]["id"])
    published = client.post(f"/api/v1/listings/{listing_id}/publish", headers=owner.headers)
    assert published.status_code == 200, published.text
    return listing_id


def publication_run(session: Session) -> None:
    """The scheduled publication run (beat calls the same service function once a day)."""
    from marketplace.catalogue.service import run_publication

    run_publication(session)
    session.commit()


def card(client: TestClient, listing_id: str) -> dict[str, Any] | None:
    """The public card of a listing, as an anonymous visitor reads it; None when not shown."""
    response = client.get(f"/api/v1/catalogue/{listing_id}")
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    return {k: v for k, v in response.json().items() if k != "distance_band"}


def catalogue_ids(client: TestClient) -> set[str]:
    response = client.get("/api/v1/catalogue", params={"limit": 100})
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


def set_quantity(client: TestClient, owner: Member, quantity: float) -> None:
    response = client.patch(
        f"/api/v1/flows/{owner.flow_id}", headers=owner.headers, json={"quantity": quantity}
    )
    assert response.status_code == 200, response.text
