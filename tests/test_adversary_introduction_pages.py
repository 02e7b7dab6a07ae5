"""Red team, second round: the introduction pages, pooled introductions and the requester's card.
The attacker is a competing member company with several accounts that writes its own data (its
company's sector, its sites' permits, its interests, its answers as a pool's contributor) and
reads back, through the JSON API and the pages, comparing each answer with the answer to a case it
must not tell apart. The attacks of tests/test_adversary_introductions.py are not repeated.

Each test is an attack; those that worked were fixed and stay as tests of the defence:
- the owner of a listing could pass the requester card's k-checks with its own company: it
  changed its own sector to the requester's hidden one (or declared on its own site of the
  requester's région the permits it wanted to test) and read the card again; the division (or
  the permits) then showed, telling it that only k - 1 legal units besides itself shared them,
  and, swept over the forty permit combinations, which permits the requester holds. The same
  from a pool's contributor. The card's counts now leave out the reader's own legal unit
  (marketplace/introductions/views.py).
"""

from __future__ import annotations

import itertools
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.introduction_world import Side, leaks, side, world
from tests.members import NORD_ELSEWHERE, member
from tests.test_introduction_pools import pool_world

API = "/api/v1/introductions"
PERMITS = {
    "icpe_regime": "enregistrement",
    "receives_non_hazardous_waste": True,
    "receives_hazardous_waste": False,
    "animal_by_products_approved": True,
}
ICPE_REGIMES = (None, "authorisation", "enregistrement", "declaration", "none")


def _interest(client: TestClient, requester: Side, listing_id: str) -> str:
    created = client.post(
        API,
        headers=requester.headers,
        json={"listing_id": listing_id, "requester_flow_id": str(requester.member.flow_id)},
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _card(client: TestClient, reader: Side, intro_id: str) -> dict[str, Any]:
    read = client.get(f"{API}/{intro_id}", headers=reader.headers)
    assert read.status_code == 200, read.text
    card: dict[str, Any] = read.json()["requester"]
    return card


def _rare_chemist(session: Session, name: str = "Chimie Rare SAS") -> Side:
    """A requester of a trade rare in its région (NACE 20, the territory's members of the Nord
    otherwise make cement and glass)."""
    return side(
        session,
        member(session, name, NORD_ELSEWHERE[2], nace="20.12Z", direction="request", quantity=400),
    )


def _set_nace(client: TestClient, who: Side, nace: str) -> None:
    changed = client.patch(
        f"/api/v1/companies/{who.company_id}", headers=who.headers, json={"nace": nace}
    )
    assert changed.status_code == 200, changed.text


# --- the requester's card: the k-checks against the reader's own data -------------------------


def test_the_owner_cannot_pass_the_sector_check_by_joining_the_requesters_trade(
    client: TestClient, session: Session
) -> None:
    """Two chemicals plants in the Nord's région, one of them the requester: its division is
    hidden (k = 3). The owner declares its own company a chemicals maker and reads the card
    again: the division must stay hidden, or the owner knows the requester is one of two."""
    w = world(client, session)
    rare = _rare_chemist(session)
    member(session, "Chimie Voisine SAS", NORD_ELSEWHERE[1], nace="20.13B")
    intro_id = _interest(client, rare, w.listing_id)
    before = _card(client, w.owner, intro_id)
    assert before["sector_division"] is None

    _set_nace(client, w.owner, "20.12Z")
    after = _card(client, w.owner, intro_id)
    assert after == before, after
    # A third chemicals maker of the région, not the reader: now k legal units besides it.
    member(session, "Chimie Tierce SAS", NORD_ELSEWHERE[0], nace="20.14Z")
    assert _card(client, w.owner, intro_id)["sector_division"] == "20"
    assert leaks(str(_card(client, w.owner, intro_id)), rare) == []


def _permit_sweep(client: TestClient, reader: Side, intro_id: str) -> list[dict[str, Any]]:
    """The reader declares each of the forty permit combinations on its own site (a site of the
    requester's région) and reads the card after each: the combinations it was shown with."""
    url = f"/api/v1/sites/{reader.member.site_id}"
    shown = []
    for regime, non_hazardous, hazardous, animal in itertools.product(
        ICPE_REGIMES, (False, True), (False, True), (False, True)
    ):
        flags = {
            "icpe_regime": regime,
            "receives_non_hazardous_waste": non_hazardous,
            "receives_hazardous_waste": hazardous,
            "animal_by_products_approved": animal,
        }
        assert client.patch(url, headers=reader.headers, json=flags).status_code == 200
        card = _card(client, reader, intro_id)
        if card["permits"] is not None:
            shown.append(card["permits"])
    return shown


def test_the_owner_cannot_read_the_requesters_permits_by_declaring_them_itself(
    client: TestClient, session: Session
) -> None:
    """The requester and one other cement maker of its région declare the same permits: two
    legal units, below k, so the card shows none. The owner (a cement maker of the région too)
    sweeps the permit combinations over its own site: no combination may make them show, or it
    learns the requester's permits and that one company besides it shares them."""
    w = world(client, session)
    for who in (w.requester.member, w.neighbours[0]):
        url = f"/api/v1/sites/{who.site_id}"
        assert client.patch(url, headers=who.headers, json=PERMITS).status_code == 200
    intro_id = _interest(client, w.requester, w.listing_id)
    assert _card(client, w.owner, intro_id)["permits"] is None
    assert _permit_sweep(client, w.owner, intro_id) == []


def test_a_pools_contributor_cannot_pass_the_card_checks_with_its_own_data(
    client: TestClient, session: Session
) -> None:
    p = pool_world(client, session)
    alpha = p.contributors[0]
    rare = _rare_chemist(session)
    member(session, "Chimie Voisine SAS", NORD_ELSEWHERE[1], nace="20.13B")
    url = f"/api/v1/sites/{rare.member.site_id}"
    assert client.patch(url, headers=rare.headers, json=PERMITS).status_code == 200
    intro_id = _interest(client, rare, p.listing_id)
    before = _card(client, alpha, intro_id)
    assert before["sector_division"] is None and before["permits"] is None
    _set_nace(client, alpha, "20.12Z")
    assert _card(client, alpha, intro_id) == before
    assert _permit_sweep(client, alpha, intro_id) == []
