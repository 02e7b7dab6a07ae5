"""Attack: one legal unit (SIREN) registers three establishments (SIRETs) and publishes three
listings of one code in one cell, hoping to form "a cell of three companies" and be published at
the finest level with its exact code and quantity class. k counts legal units, never
establishments: the cell is not formed, while three different legal units form it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from core import ratelimit
from tests.members import CELL, NORD_ELSEWHERE, card, member, publication_run, publish, siren


@pytest.fixture(autouse=True)
def fresh_rate_limit() -> Iterator[None]:
    # The attacker reads far more than a minute's budget: the budget is not what is tested here
    # (each test starts with a fresh one, as the catalogue's own tests do).
    ratelimit.reset()
    yield
    ratelimit.reset()


def test_three_establishments_of_one_siren_never_make_a_cell(
    client: TestClient, session: Session
) -> None:
    legal_unit = siren()
    establishments = [
        member(session, f"Verrerie Omega {i} SAS", CELL[i], legal_unit, establishment=i + 1)
        for i in range(3)
    ]
    mine = [publish(client, m) for m in establishments]
    distinct = [
        member(session, f"Fonderie {n} SA", NORD_ELSEWHERE[i])
        for i, n in enumerate(("Un", "Deux", "Trois"))
    ]
    theirs = [publish(client, m) for m in distinct]
    publication_run(session)

    # One legal unit: its three listings are brokered only, whatever the number of SIRETs.
    assert [card(client, x) for x in mine] == [None, None, None]
    for m, listing_id in zip(establishments, mine, strict=True):
        owner = client.get(f"/api/v1/listings/{listing_id}", headers=m.headers).json()
        assert owner["status"] == "published" and owner["brokered_only"] is True
    # Three legal units in one cell: published at the finest level, exact code and class.
    shown = [card(client, x) for x in theirs]
    assert all(c is not None for c in shown)
    for c in shown:
        assert c is not None
        assert c["location_level"] == "cell" and c["low_code"] == "100102"
        assert c["quantity_class"] == "1 000 – 10 000 t/an"
