"""Red team: names learnt after publication. Public text is scrubbed (or, with the scrubbing
work, refused) against the company's names when the listing is drafted or its flow edited: legal
name, brands, contacts, site names and communes. A brand, contact or site the company declares
later changes what "names the company" means, but its cards already in the catalogue are not
checked again: a visitor keeps reading the brand on the card. One anonymous read."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from core import ratelimit
from tests.members import CELL, card, member, publication_run, publish

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
