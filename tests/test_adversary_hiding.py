"""Attack: a member publishes, edits and withdraws its own listings and re-reads the catalogue,
hoping to make a rival's listing disappear (re-formed cells leave it alone) or show more finely,
or to learn from its own draft's preview how many hidden competitors share its cell. Between
publication runs nobody else's card changes; across a run no public listing becomes finer; the
preview depends only on public cards and the attacker's own data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from core import ratelimit
from tests.members import (
    CELL,
    NORD_ELSEWHERE,
    PAS_DE_CALAIS,
    card,
    catalogue_ids,
    draft,
    member,
    publication_run,
    publish,
    set_quantity,
)

LEVELS = ["cell", "departement", "region"]


@pytest.fixture(autouse=True)
def fresh_rate_limit() -> Iterator[None]:
    # The attacker reads far more than a minute's budget: the budget is not what is tested here
    # (each test starts with a fresh one, as the catalogue's own tests do).
    ratelimit.reset()
    yield
    ratelimit.reset()


def test_ones_own_actions_never_hide_or_refine_a_rivals_listing(
    client: TestClient, session: Session
) -> None:
    # V alone in its cell, X and Y together in another cell of the Nord: all three are public at
    # the département, the finest step holding three legal units.
    victim = member(session, "Victime SA", CELL[0])
    rivals = [member(session, f"Voisin {n} SA", NORD_ELSEWHERE[i]) for i, n in enumerate("XY")]
    others = [publish(client, m) for m in (victim, *rivals)]
    publication_run(session)
    before = {x: card(client, x) for x in others}
    assert all(c is not None and c["location_level"] == "departement" for c in before.values())

    # The attacker's cell is X's and Y's: were cells re-formed at once, X, Y and the attacker
    # would make a cell of three, showing X and Y finer and leaving V alone, brokered only.
    attacker = member(session, "Intrus SAS", NORD_ELSEWHERE[2])
    changed: list[tuple[str, str]] = []

    def look(action: str) -> None:
        shown = catalogue_ids(client)
        for listing_id, was in before.items():
            now = card(client, listing_id)
            if now != was or listing_id not in shown:
                changed.append((action, listing_id))

    mine = publish(client, attacker)
    look("publish")
    for quantity in (50, 5_000, 50_000, 1_200):
        set_quantity(client, attacker, quantity)
        look(f"edit {quantity}")
    moved = client.patch(
        f"/api/v1/flows/{attacker.flow_id}", headers=attacker.headers, json={"low_code": "100105"}
    )
    assert moved.status_code == 200, moved.text
    look("edit code")
    client.patch(
        f"/api/v1/flows/{attacker.flow_id}", headers=attacker.headers, json={"low_code": "100102"}
    )
    look("edit code back")
    # An edit out of its cell gives the attacker's flow a new listing (a new id).
    own = client.get("/api/v1/listings", headers=attacker.headers).json()
    (mine,) = [x["id"] for x in own if x["status"] == "published"]
    for action in ("pause", "resume", "withdraw"):
        response = client.post(f"/api/v1/listings/{mine}/{action}", headers=attacker.headers)
        assert response.status_code == 200, response.text
        look(action)
    publish(client, attacker)
    look("publish again")
    assert changed == [], f"{len(changed)} times another listing changed: {changed}"

    # Across a run: X, Y and the attacker now make three legal units in one cell, but a listing
    # already public never moves finer; V keeps its département with them.
    publication_run(session)
    for listing_id, was in before.items():
        now = card(client, listing_id)
        assert now is not None and was is not None
        assert LEVELS.index(now["location_level"]) >= LEVELS.index(was["location_level"])
        assert now == was


def _preview(client: TestClient, owner: Any, listing_id: str) -> tuple[Any, Any]:
    response = client.get(f"/api/v1/listings/{listing_id}/preview", headers=owner.headers)
    assert response.status_code == 200, response.text
    card_ = {k: v for k, v in response.json().items() if k != "id"}
    return card_, client.get(f"/api/v1/listings/{listing_id}", headers=owner.headers).json()[
        "brokered_only"
    ]


def test_the_preview_does_not_tell_whether_hidden_competitors_share_the_cell(
    client: TestClient, session: Session
) -> None:
    lat, lon = PAS_DE_CALAIS
    attacker = member(session, "Curieux SAS", (lat, lon))
    created = draft(client, attacker)
    listing_id = str(created["listing"]["id"])
    alone = _preview(client, attacker, listing_id)
    # Two competitors publish in the attacker's cell: waiting for the run, then brokered only
    # (two legal units are fewer than k), never shown to anyone.
    hidden = [
        member(session, f"Discret {i} SA", (lat + 0.001 * (i + 1), lon + 0.001)) for i in range(2)
    ]
    for m in hidden:
        publish(client, m)
    waiting = _preview(client, attacker, listing_id)
    publication_run(session)
    brokered = _preview(client, attacker, listing_id)
    assert catalogue_ids(client) == set()
    assert alone == waiting == brokered, "the preview counts hidden listings"
    # The attacker publishes: it waits for the run like anyone else, whatever hides beside it.
    published = client.post(f"/api/v1/listings/{listing_id}/publish", headers=attacker.headers)
    assert published.json()["waiting"] is True and card(client, listing_id) is None
