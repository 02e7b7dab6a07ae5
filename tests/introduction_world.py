"""Two companies about to be introduced, and a third that must see nothing: an owner whose
listing the catalogue shows (its cell holds k companies), a requester elsewhere with a request
flow, through the JSON API as members act. Shared by the introduction tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from marketplace.accounts.models import Role, User
from marketplace.accounts.service import actor_of
from marketplace.companies.models import Company, Site
from marketplace.companies.service import identity_of, site_name, site_position
from marketplace.flows.models import Flow
from tests.factories import bearer, create_user_row
from tests.members import (
    CELL,
    NORD_ELSEWHERE,
    PAS_DE_CALAIS,
    Member,
    member,
    publication_run,
    publish,
)


@dataclass
class Side:
    member: Member
    company_id: uuid.UUID
    secrets: list[str]  # legal name, SIRET, SIREN, contact e-mail, site name
    position: tuple[float, float]

    @property
    def headers(self) -> dict[str, str]:
        return self.member.headers


def side(session: Session, m: Member) -> Side:
    flow = session.get(Flow, m.flow_id)
    assert flow is not None
    company = session.get(Company, flow.company_id)
    site = session.get(Site, m.site_id)
    assert company is not None and site is not None
    staff = User(id=uuid.uuid4(), email="x", password_hash="", role=Role.FACILITATOR)
    identity = identity_of(session, actor_of(staff), company)
    position = site_position(company, site)
    session.rollback()  # the facilitator's audited read above was the test's, not a user's
    secrets = [identity.legal_name, identity.siret, identity.siret[:9], site_name(company, site)]
    secrets += [c.email for c in identity.contacts if c.email]
    return Side(m, company.id, secrets, (position.latitude, position.longitude))


@dataclass
class World:
    owner: Side
    requester: Side
    third: Side
    listing_id: str
    others: list[str]  # the listings of the two other companies of the owner's cell
    neighbours: list[Member]  # those two companies
    facilitator: dict[str, str]


def world(client: TestClient, session: Session, tag: str = "") -> World:
    owner = member(session, f"Cimenterie Hautpont{tag} SAS", CELL[0])
    neighbours = [member(session, f"Verrerie Voisine {i}{tag} SA", CELL[i + 1]) for i in range(2)]
    listing_id = publish(client, owner)
    others = [publish(client, n) for n in neighbours]
    publication_run(session)
    requester = member(
        session,
        f"Briqueterie Wattrelos{tag} SARL",
        NORD_ELSEWHERE[0],
        direction="request",
        quantity=400,
    )
    third = member(session, f"Fonderie Tierce{tag} SAS", PAS_DE_CALAIS)
    staff = create_user_row(session, Role.FACILITATOR)
    return World(
        side(session, owner),
        side(session, requester),
        side(session, third),
        listing_id,
        others,
        neighbours,
        bearer(session, staff),
    )


def express(client: TestClient, w: World, listing_id: str | None = None) -> Any:
    return client.post(
        "/api/v1/introductions",
        headers=w.requester.headers,
        json={
            "listing_id": listing_id or w.listing_id,
            "requester_flow_id": str(w.requester.member.flow_id),
        },
    )


def leaks(text: str, of: Side) -> list[str]:
    """The other side's identity or position found in a response body."""
    found = [s for s in of.secrets if s in text]
    lat, lon = of.position
    found += [f"{v:.4f}" for v in (lat, lon) if f"{v:.4f}" in text]
    return found
