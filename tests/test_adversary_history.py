"""Red team: a card's history under one id. A listing keeps its id when its flow is edited; an
edit that takes it out of its cell (a corrected waste code, a moved site) leaves a ghost and the
listing joins another shown cell, or waits for the run, still under the same id. Anyone who read
the card before and after combines the two: the finest location of the old card with the
material of the new one, a combination whose cell may hold one legal unit. Here a company shown
in a cell of three with code 10 01 02 corrects its code to 10 01 05; its card, same id, now shows
10 01 05 in the département; read together, the two cards say "10 01 05 in that cell", where it
is alone. Two anonymous reads of one id, before and after."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from core import ratelimit
from tests.members import CELL, card, member, publication_run, publish

# Three places of the Nord in three different resolution-6 cells, far from CELL (Dunkerque).
NORD_APART = [(50.6300, 3.0600), (50.3570, 3.5230), (50.7230, 2.5380)]


@pytest.fixture(autouse=True)
def fresh_rate_limit() -> Iterator[None]:
    ratelimit.reset()
    yield
    ratelimit.reset()


def test_an_edited_listing_does_not_link_its_old_fine_card_to_its_new_material(
    client: TestClient, session: Session
) -> None:
    victim = member(session, "Victime SA", CELL[0])
    cell_mates = [member(session, f"Voisin {i} SA", CELL[i + 1]) for i in range(2)]
    elsewhere = [
        member(session, f"Lointain {i} SA", p, low_code="10 01 05")
        for i, p in enumerate(NORD_APART)
    ]
    target = publish(client, victim)
    for m in (*cell_mates, *elsewhere):
        publish(client, m)
    publication_run(session)
    old = card(client, target)
    assert old is not None and old["location_level"] == "cell" and old["low_code"] == "100102"

    edited = client.patch(
        f"/api/v1/flows/{victim.flow_id}", headers=victim.headers, json={"low_code": "100105"}
    )
    assert edited.status_code == 200, edited.text
    publication_run(session)
    new = card(client, target)

    linked = new is not None and new["low_code"] == "100105"
    assert not linked, (
        f"the same id showed code {old['low_code']} at cell level in département "
        f"{old['departement']['code']} and now shows {new['low_code'] if new else None} at "
        f"{new['location_level'] if new else None} level: together, 10 01 05 in a cell where "
        "its owner is the only legal unit with that code"
    )


def _live_listing_of(client: TestClient, owner_headers: dict[str, str], flow_id: str) -> dict:
    own = client.get("/api/v1/listings", headers=owner_headers).json()
    (live,) = [x for x in own if x["flow_id"] == flow_id and x["status"] in ("published", "paused")]
    return dict(live)


def test_a_moved_site_gives_its_listing_a_new_id(client: TestClient, session: Session) -> None:
    victim = member(session, "Victime SA", CELL[0])
    cell_mates = [member(session, f"Voisin {i} SA", CELL[i + 1]) for i in range(2)]
    target = publish(client, victim)
    for m in cell_mates:
        publish(client, m)
    publication_run(session)
    assert card(client, target) is not None

    moved = client.patch(
        f"/api/v1/sites/{victim.site_id}",
        headers=victim.headers,
        json={"latitude": NORD_APART[0][0], "longitude": NORD_APART[0][1]},
    )
    assert moved.status_code == 200, moved.text
    publication_run(session)
    assert card(client, target) is None  # the old id is unknown to the catalogue
    live = _live_listing_of(client, victim.headers, str(victim.flow_id))
    assert live["id"] != target and live["status"] == "published"


def test_pausing_editing_and_resuming_does_not_carry_the_id_either(
    client: TestClient, session: Session
) -> None:
    victim = member(session, "Victime SA", CELL[0])
    cell_mates = [member(session, f"Voisin {i} SA", CELL[i + 1]) for i in range(2)]
    target = publish(client, victim)
    for m in cell_mates:
        publish(client, m)
    publication_run(session)
    assert card(client, target)["location_level"] == "cell"  # type: ignore[index]

    paused = client.post(f"/api/v1/listings/{target}/pause", headers=victim.headers)
    assert paused.status_code == 200, paused.text
    edited = client.patch(
        f"/api/v1/flows/{victim.flow_id}", headers=victim.headers, json={"low_code": "100105"}
    )
    assert edited.status_code == 200, edited.text
    live = _live_listing_of(client, victim.headers, str(victim.flow_id))
    assert live["id"] != target and live["status"] == "paused"
    resumed = client.post(f"/api/v1/listings/{live['id']}/resume", headers=victim.headers)
    assert resumed.status_code == 200, resumed.text
    publication_run(session)
    assert card(client, target) is None
