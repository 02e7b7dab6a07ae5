"""Attack: a watcher's saved search turns the owner's private edits into alerts. Changing only a
price, or a quantity inside its class, leaves the public card as it was and must alert nobody;
a change of the card (here a quantity class) alerts once, when the card changes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from core import ratelimit
from tests.members import CELL, card, member, publication_run, publish

CHAPTER_10 = {"kind": "material", "low_chapter": "10"}


@pytest.fixture(autouse=True)
def fresh_rate_limit() -> Iterator[None]:
    # The attacker reads far more than a minute's budget: the budget is not what is tested here
    # (each test starts with a fresh one, as the catalogue's own tests do).
    ratelimit.reset()
    yield
    ratelimit.reset()


def test_only_a_change_of_the_public_card_alerts_the_watchers(
    client: TestClient, session: Session
) -> None:
    watcher = member(session, "Guetteur SAS", CELL[3])
    saved = client.post(
        "/api/v1/saved-searches",
        headers=watcher.headers,
        json={"name": "Cendres", "filters": CHAPTER_10, "email_alerts": False},
    )
    assert saved.status_code == 201, saved.text
    owner, *others = [member(session, f"Vendeur {i} SA", CELL[i]) for i in range(3)]
    listing_id = publish(client, owner)
    for m in others:
        publish(client, m)
    publication_run(session)

    def alerts() -> int:
        response = client.get("/api/v1/notifications", headers=watcher.headers)
        assert response.status_code == 200, response.text
        return sum(1 for n in response.json() if n["listing_id"] == listing_id)

    assert alerts() == 1
    first_card = card(client, listing_id)
    for change in (
        {"current_cost_eur_per_unit": 12.5},
        {"current_cost_eur_per_unit": 14.0},
        {"quantity": 1_500},
        {"quantity": 9_000},
    ):
        response = client.patch(
            f"/api/v1/flows/{owner.flow_id}", headers=owner.headers, json=change
        )
        assert response.status_code == 200, response.text
        assert card(client, listing_id) == first_card
    leaked = alerts() - 1
    assert leaked == 0, f"{leaked} alerts about private edits"

    # The class changes: the card shows it at once, and the watcher is alerted once.
    client.patch(f"/api/v1/flows/{owner.flow_id}", headers=owner.headers, json={"quantity": 15_000})
    shown = card(client, listing_id)
    assert shown is not None and shown["quantity_class"] == "10 000 – 100 000 t/an"
    assert alerts() == 2
