"""Attack: a member sweeps its own quantity and re-reads what it may read (its draft's preview,
a pooled offer's card), looking for the edges where the answer flips: on a catalogue judging
dominance on exact quantities, such an edge gives the others' exact tonnages. The answers must
be the same function of the attacker's own quantity whatever the others' exact quantities: the
sweep is run against two territories that differ only in one competitor's tonnage (inside its
class) and the transcripts are compared."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from core import ratelimit
from marketplace.accounts.models import Role
from tests.factories import bearer, create_user_row
from tests.members import (
    CELL,
    NORD_ELSEWHERE,
    PAS_DE_CALAIS,
    Member,
    card,
    draft,
    member,
    publication_run,
    publish,
    set_quantity,
)

Transcript = list[tuple[float, Any]]


@pytest.fixture(autouse=True)
def fresh_rate_limit() -> Iterator[None]:
    # The attacker reads far more than a minute's budget: the budget is not what is tested here
    # (each test starts with a fresh one, as the catalogue's own tests do).
    ratelimit.reset()
    yield
    ratelimit.reset()


def sweep(
    low: float, high: float, answer: Callable[[float], Any], flips: Callable[[Any], bool]
) -> tuple[Transcript, float]:
    """Binary search for the highest quantity whose answer does not flip; every answer read."""
    transcript: Transcript = []
    for _ in range(40):
        middle = (low + high) / 2
        seen = answer(middle)
        transcript.append((round(middle, 6), seen))
        if flips(seen):
            high = middle
        else:
            low = middle
    return transcript, low


def _preview_territory(
    client: TestClient, session: Session, cell: list[tuple[float, float]], tonnage: float
) -> tuple[Member, str]:
    """Three competitors public in one cell (one of them at ``tonnage``), and the attacker's
    draft in that cell."""
    for i, quantity in enumerate((1_200, 1_200, tonnage)):
        rival = member(session, f"Concurrent {tonnage:.0f} {i} SA", cell[i], quantity=quantity)
        publish(client, rival)
    publication_run(session)
    attacker = member(session, f"Curieux {tonnage:.0f} SAS", cell[0])
    return attacker, str(draft(client, attacker)["listing"]["id"])


def test_the_preview_is_no_oracle_of_the_competitors_tonnages(
    client: TestClient, session: Session
) -> None:
    transcripts = []
    recovered = []
    for cell, tonnage in ((CELL, 1_200.0), (NORD_ELSEWHERE, 1_500.0)):
        attacker, listing_id = _preview_territory(client, session, cell, tonnage)

        def answer(quantity: float, owner: Member = attacker, listing: str = listing_id) -> Any:
            set_quantity(client, owner, quantity)
            preview = client.get(f"/api/v1/listings/{listing}/preview", headers=owner.headers)
            assert preview.status_code == 200, preview.text
            # The two territories lie in two cells by construction: the card's cell (which
            # cards at cell level name) differs with them, not with anyone's quantity.
            return {k: v for k, v in preview.json().items() if k not in ("id", "cell")}

        transcript, edge = sweep(
            1_000, 1_000_000, answer, lambda seen: seen["quantity_class"] == "présent"
        )
        transcripts.append(transcript)
        # Were « présent » the dominance edge (85 %), the others' total would be this.
        recovered.append(round(edge * 0.15 / 0.85, 1))
    assert transcripts[0] == transcripts[1], f"others' total recovered: {recovered} t"


def test_a_pool_card_is_no_oracle_of_the_other_contributors_shares(
    client: TestClient, session: Session
) -> None:
    staff = bearer(session, create_user_row(session, Role.FACILITATOR))
    transcripts = []
    recovered = []
    for position, tonnage in ((CELL[0], 1_200.0), (PAS_DE_CALAIS, 1_500.0)):
        lat, lon = position
        contributors = [
            member(session, f"Contributeur {tonnage:.0f} {i} SA", (lat + i / 500, lon), quantity=q)
            for i, q in enumerate((1_000, 1_200, tonnage))
        ]
        attacker = contributors[0]
        body = {
            "flow_ids": [str(m.flow_id) for m in contributors],
            "area": "departement",
            "title": "Cendres mutualisées",
        }
        pool = client.post("/api/v1/pools", headers=staff, json=body)
        assert pool.status_code == 201, pool.text
        pool_id = pool.json()["id"]
        published = client.post(f"/api/v1/listings/{pool_id}/publish", headers=staff)
        assert published.status_code == 200, published.text

        def answer(quantity: float, owner: Member = attacker, listing: str = pool_id) -> Any:
            set_quantity(client, owner, quantity)
            # The worst case for the defence: a publication run after every change.
            publication_run(session)
            shown = card(client, listing)
            assert shown is not None
            return shown["quantity_class"]

        transcript, edge = sweep(1, 9_999, answer, lambda seen: seen != "1 000 – 10 000 t/an")
        transcripts.append(transcript)
        # Were the class that of the exact sum, the others' total would be this.
        recovered.append(round(10_000 - edge, 1))
    assert transcripts[0] == transcripts[1], f"others' total recovered: {recovered} t"
