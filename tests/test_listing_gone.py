"""A link to a listing the catalogue does not show: one page, the same byte for byte whether the
listing was withdrawn, expired, fulfilled, paused, is a draft, waits for its first placement, is
brokered only or never existed, so that a competitor holding old links learns nothing from it.
Its owner and the facilitator see the listing's state; the API keeps its JSON 404."""

from __future__ import annotations

import html
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from core import ratelimit
from marketplace.accounts.models import Role
from marketplace.accounts.service import actor_of
from marketplace.catalogue import service as catalogue
from marketplace.catalogue.models import Listing
from marketplace.catalogue.states import ListingStatus
from tests.factories import create_company_row, create_flow_row, create_site_row, create_user_row
from tests.test_web import login

NEAR = [(51.0100, 2.3000), (51.0120, 2.3050), (51.0080, 2.2950), (51.0110, 2.2980)]
RENNES = (48.11, -1.68)
ASH: dict[str, Any] = {
    "label": "Cendres volantes du silo",
    "low_code": "10 01 02",
    "quantity": 1357.9,
    "unit": "t",
}
GONE = ("withdrawn", "paused", "fulfilled", "expired", "draft", "waiting", "brokered")


@pytest.fixture(autouse=True)
def fresh_rate_limit() -> Iterator[None]:
    ratelimit.reset()
    yield
    ratelimit.reset()


@pytest.fixture
def links(session: Session) -> dict[str, Any]:
    """Three neighbours' public ash; then one listing of Alpha's in each state the catalogue
    does not show, and a company of its own (Echo) reading them."""
    admins, sites = [], []
    for i, name in enumerate(("Alpha", "Bravo", "Charlie")):
        company = create_company_row(session, f"{name} SAS")
        admins.append(create_user_row(session, Role.COMPANY_ADMIN, company))
        sites.append(create_site_row(session, company, f"Usine {name}", *NEAR[i]))
    ids: dict[str, Any] = {}

    def publish(owner: int, key: str, **flow: Any) -> Listing:
        actor = actor_of(admins[owner])
        listing = catalogue.create_listing(
            session, actor, create_flow_row(session, sites[owner], **flow).id
        )
        if key != "draft":
            catalogue.publish(session, actor, listing)
        ids[key] = listing.id
        return listing

    for owner in range(3):
        publish(owner, f"public{owner}", **ASH)
    for key in ("withdrawn", "paused", "fulfilled", "expired"):
        publish(0, key, **{**ASH, "label": f"Cendres {key}"})
    catalogue.run_publication(session)
    session.commit()
    actor = actor_of(admins[0])
    mine = {key: session.get(Listing, ids[key]) for key in ("withdrawn", "paused", "fulfilled")}
    expired = session.get(Listing, ids["expired"])
    assert expired is not None
    for key, step in (
        ("withdrawn", catalogue.withdraw),
        ("paused", catalogue.pause),
        ("fulfilled", catalogue.fulfil),
    ):
        listing = mine[key]
        assert listing is not None
        step(session, actor, listing)
    expired.status = ListingStatus.EXPIRED  # as the expiry sweep leaves it
    session.add(expired)
    lone = create_company_row(session, "Delta SARL")
    lone_admin = create_user_row(session, Role.COMPANY_ADMIN, lone)
    lone_site = create_site_row(session, lone, "Atelier Delta", *RENNES)
    listing = catalogue.create_listing(
        session,
        actor_of(lone_admin),
        create_flow_row(session, lone_site, **{**ASH, "label": "Cendres seules"}).id,
    )
    catalogue.publish(session, actor_of(lone_admin), listing)
    session.commit()
    catalogue.run_publication(session)  # places Delta's: brokered only, alone in its région
    session.commit()
    ids["brokered"] = listing.id
    publish(0, "draft", **{**ASH, "label": "Cendres brouillon"})
    # A code no shown cell holds: it waits for the next run.
    publish(0, "waiting", **{**ASH, "label": "Cendres en attente", "low_code": "10 01 05"})
    echo = create_company_row(session, "Echo SA")
    reader = create_user_row(session, Role.COMPANY_ADMIN, echo)
    create_site_row(session, echo, "Usine Echo", *NEAR[3])
    facilitator = create_user_row(session, Role.FACILITATOR)
    session.commit()
    return {
        "ids": ids,
        "owner": admins[0].email,
        "reader": reader.email,
        "facilitator": facilitator.email,
        "lone": lone_admin.email,
    }


def body_of(client: TestClient, listing_id: uuid.UUID) -> tuple[int, str]:
    response = client.get(f"/catalogue/{listing_id}")
    # The link's own id comes back in the language switch; it is the reader's own input.
    return response.status_code, response.text.replace(str(listing_id), "<id>")


def test_the_states_are_as_the_test_means(session: Session, links: dict[str, Any]) -> None:
    ids = links["ids"]
    states = {key: session.get(Listing, ids[key]) for key in GONE}
    assert {k: x.status for k, x in states.items() if x} == {
        "withdrawn": "withdrawn",
        "paused": "paused",
        "fulfilled": "fulfilled",
        "expired": "expired",
        "draft": "draft",
        "waiting": "published",
        "brokered": "published",
    }
    waiting, brokered = states["waiting"], states["brokered"]
    assert waiting is not None and waiting.waiting and waiting.brokered_only
    assert brokered is not None and brokered.brokered_only and not brokered.waiting


@pytest.mark.parametrize("reader", ["visitor", "reader", "lone"])
def test_every_unavailable_listing_gives_the_same_page_as_one_that_never_existed(
    client: TestClient, links: dict[str, Any], reader: str
) -> None:
    if reader != "visitor":
        login(client, links[reader])
    status, never = body_of(client, uuid.uuid4())
    assert status == 404
    text = html.unescape(never)
    assert "Annonce plus disponible" in text and 'href="/catalogue"' in never
    assert 'href="/saved-searches"' in never
    for key in GONE:
        if reader == "lone" and key == "brokered":
            continue  # its own listing (below)
        status, body = body_of(client, links["ids"][key])
        assert status == 404, key
        assert body == never, f"the page of a {key} listing differs from an unknown one's"
        assert "Cendres" not in body and "Mines" not in body and "Nord" not in body, key


def test_a_public_listing_still_shows_its_card(client: TestClient, links: dict[str, Any]) -> None:
    response = client.get(f"/catalogue/{links['ids']['public1']}")
    assert response.status_code == 200 and "Cendres volantes du silo" in response.text


@pytest.mark.parametrize(
    "key, status, hint",
    [
        ("withdrawn", "Retirée", None),
        ("paused", "En pause", None),
        ("fulfilled", "Satisfaite", None),
        ("expired", "Expirée", None),
        ("draft", "Brouillon", None),
        ("waiting", "Publiée", "Elle attend la prochaine publication"),
    ],
)
def test_the_owner_sees_the_state_of_its_listing(
    client: TestClient, links: dict[str, Any], key: str, status: str, hint: str | None
) -> None:
    login(client, links["owner"])
    response = client.get(f"/catalogue/{links['ids'][key]}")
    text = html.unescape(response.text)
    assert response.status_code == 200
    assert f"Statut : {status}" in text and 'href="/listings"' in response.text
    assert "les autres ne peuvent pas ouvrir cette page" in text
    if hint:
        assert hint in text


def test_the_owner_of_a_brokered_listing_is_told_why(
    client: TestClient, links: dict[str, Any]
) -> None:
    login(client, links["lone"])
    text = html.unescape(client.get(f"/catalogue/{links['ids']['brokered']}").text)
    assert "Diffusée par l'animateur uniquement" in text
    assert "trop peu d'entreprises publient une annonce semblable" in text


def test_the_facilitator_sees_the_state(client: TestClient, links: dict[str, Any]) -> None:
    login(client, links["facilitator"])
    text = html.unescape(client.get(f"/catalogue/{links['ids']['withdrawn']}").text)
    assert "Statut : Retirée" in text


def test_the_english_page(client: TestClient, links: dict[str, Any]) -> None:
    client.cookies.set("locale", "en")
    response = client.get(f"/catalogue/{links['ids']['withdrawn']}?lang=en")
    assert response.status_code == 404
    assert "Listing no longer available" in response.text


def test_the_api_keeps_its_json_not_found(client: TestClient, links: dict[str, Any]) -> None:
    bodies = []
    for listing_id in (links["ids"]["withdrawn"], uuid.uuid4()):
        response = client.get(f"/api/v1/catalogue/{listing_id}")
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/json")
        bodies.append({k: v for k, v in response.json().items() if k != "request_id"})
    assert bodies[0] == bodies[1] and bodies[0]["error"] == "NotFound"
