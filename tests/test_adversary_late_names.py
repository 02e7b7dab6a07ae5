"""Red team: names learnt after publication. Public text is scrubbed (or, with the scrubbing
work, refused) against the company's names when the listing is drafted or its flow edited: legal
name, brands, contacts, site names and communes. A brand, contact or site the company declares
later changes what "names the company" means, but its cards already in the catalogue are not
checked again: a visitor keeps reading the brand on the card. One anonymous read."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core import ratelimit
from marketplace.accounts.models import User
from tests.members import CELL, card, member, publication_run, publish, siren, siret
from tests.test_import import csv_of, import_file, staff_headers
from tests.test_web import login

BRAND = "Thermolux"


@pytest.fixture(autouse=True)
def fresh_rate_limit() -> Iterator[None]:
    ratelimit.reset()
    yield
    ratelimit.reset()


def test_a_brand_declared_later_does_not_stay_on_published_cards(
    client: TestClient, session: Session
) -> None:
    owner = member(
        session,
        "Fours Industriels du Littoral SA",
        CELL[0],
        label="Chaleur fatale",
        description=f"Chaleur des fumées de nos fours {BRAND}, disponible toute l'année.",
    )
    others = [member(session, f"Voisin {i} SA", CELL[i + 1]) for i in range(2)]
    target = publish(client, owner)
    for m in others:
        publish(client, m)
    publication_run(session)
    before = card(client, target)
    assert before is not None and BRAND in before["description"]  # not a name of theirs yet

    companies = client.get("/api/v1/companies", headers=owner.headers).json()
    declared = client.patch(
        f"/api/v1/companies/{companies[0]['id']}", headers=owner.headers, json={"brands": [BRAND]}
    )
    assert declared.status_code == 200, declared.text
    publication_run(session)  # even a run later

    after = card(client, target)
    assert after is None or BRAND not in after["title"] + after["description"], (
        f"the card still names the company's brand {BRAND!r} after the company declared it"
    )


def _own(client: TestClient, owner_headers: dict[str, str], listing_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/listings/{listing_id}", headers=owner_headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_site_renamed_after_publication_pauses_the_card_and_resuming_checks_the_text(
    client: TestClient, session: Session
) -> None:
    owner = member(
        session,
        "Verrerie du Nord SA",
        CELL[0],
        label="Calcin",
        description="Calcin trié de notre atelier Brunehaut, livré en big bags.",
    )
    others = [member(session, f"Voisin {i} SA", CELL[i + 1]) for i in range(2)]
    target = publish(client, owner)
    for m in others:
        publish(client, m)
    publication_run(session)
    assert card(client, target) is not None

    renamed = client.patch(
        f"/api/v1/sites/{owner.site_id}", headers=owner.headers, json={"name": "Brunehaut"}
    )
    assert renamed.status_code == 200, renamed.text
    assert card(client, target) is None  # out of public view at once, not at the next run
    mine = _own(client, owner.headers, target)
    assert mine["status"] == "paused"
    assert "from the description" in mine["rewrite"] and "Brunehaut" not in mine["rewrite"]

    refused = client.post(f"/api/v1/listings/{target}/resume", headers=owner.headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"] == mine["rewrite"]
    assert card(client, target) is None

    rewritten = client.patch(
        f"/api/v1/flows/{owner.flow_id}",
        headers=owner.headers,
        json={"description": "Calcin trié, livré en big bags."},
    )
    assert rewritten.status_code == 200, rewritten.text
    assert _own(client, owner.headers, target)["rewrite"] is None
    resumed = client.post(f"/api/v1/listings/{target}/resume", headers=owner.headers)
    assert resumed.status_code == 200, resumed.text
    after = card(client, target)
    assert after is not None and "Brunehaut" not in after["description"]


def test_the_owner_reads_on_the_listings_page_what_to_rewrite(
    client: TestClient, session: Session
) -> None:
    owner = member(
        session,
        "Chaudronnerie Martin SAS",
        CELL[0],
        label="Chutes d'inox",
        description="Chutes d'inox de nos presses Inoxal, triées par nuance.",
    )
    target = publish(client, owner)
    company_id = client.get("/api/v1/companies", headers=owner.headers).json()[0]["id"]
    declared = client.patch(
        f"/api/v1/companies/{company_id}", headers=owner.headers, json={"brands": ["Inoxal"]}
    )
    assert declared.status_code == 200, declared.text
    assert _own(client, owner.headers, target)["status"] == "paused"

    admin = session.exec(select(User).where(User.company_id == uuid.UUID(company_id))).one()
    login(client, admin.email)
    page = client.get("/listings")
    assert page.status_code == 200, page.text
    assert "Son texte nomme désormais votre entreprise" in page.text
    assert f"/flows/{owner.flow_id}/edit" in page.text
    assert "Retirez " in page.text and "de la description." in page.text


def test_a_site_imported_later_pauses_the_cards_that_name_it(
    client: TestClient, session: Session
) -> None:
    legal_unit = siren()
    owner = member(
        session,
        "Cendres Industrielles SA",
        CELL[0],
        legal_unit=legal_unit,
        label="Cendres volantes",
        description="Cendres volantes, stockées au Quai Ouest avant expédition.",
    )
    target = publish(client, owner)
    row = (
        f"Cendres Industrielles SA,{siret(legal_unit, 1)},,Quai Ouest,51.05,2.35,offer,water,,"
        "Purges,5,m3,day,,,,"
    )
    job = import_file(client, staff_headers(session), csv_of(row))
    assert job["status"] == "done", job["report"]
    mine = _own(client, owner.headers, target)
    assert mine["status"] == "paused" and "from the description" in mine["rewrite"]
