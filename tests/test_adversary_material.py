"""Adversary (from the red team): the card's material detail.

The k-check refuses a listing its six-digit code and
shows its subchapter (or chapter) instead, but the card also shows the hazardous flag, and in the
List of Waste the flag often tells which code of a subchapter it is: 31 of the 111 subchapters
hold exactly one hazardous code or exactly one non-hazardous code (1502: 15 02 02* absorbents
contaminated by hazardous substances, 15 02 03 the others; 1708: gypsum 17 08 01* / 17 08 02),
and chapter 02 holds a single hazardous code (02 01 08*). The flag is not part of the cell the
k-check counts, so the exact code of a listing alone with its code in the région is read off the
card by an anonymous visitor, in one request."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core import ratelimit
from core.reference.loader import DATA
from core.settings import get_settings
from marketplace.catalogue.models import Listing
from marketplace.catalogue.service import published_cells
from marketplace.catalogue.states import ListingStatus
from tests.members import (
    NORD_ELSEWHERE,
    PAS_DE_CALAIS,
    Member,
    card,
    member,
    publication_run,
    publish,
)


@pytest.fixture(autouse=True)
def fresh_rate_limit() -> Iterator[None]:
    ratelimit.reset()
    yield
    ratelimit.reset()


def _codes_matching(prefix: str, hazardous: bool) -> set[str]:
    """The six-digit codes a card showing ``prefix`` (a subchapter or chapter) and the
    hazardous flag can stand for: what the attacker reads from the public List of Waste."""
    with (DATA / "list_of_waste.csv").open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["level"] not in ("chapter", "subchapter")]
    return {
        r["code_compact"]
        for r in rows
        if r["code_compact"].startswith(prefix) and (r["hazardous"] in ("1", "true")) == hazardous
    }


def test_reference_data_flag_and_subchapter_name_a_single_code() -> None:
    # The premise, on the public reference data alone.
    with (DATA / "list_of_waste.csv").open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if len(r["code_compact"]) == 6]
    by_flag: dict[tuple[str, bool], set[str]] = defaultdict(set)
    for r in rows:
        by_flag[(r["code_compact"][:4], r["hazardous"] in ("1", "true"))].add(r["code_compact"])
    unique = {key for key, codes in by_flag.items() if len(codes) == 1}
    assert _codes_matching("1502", True) == {"150202"}
    assert len(unique) >= 30


def _victim_and_two_rags(session: Session) -> tuple[Member, list[Member]]:
    # Three legal units of the région with subchapter 15 02: the victim alone with 15 02 02*
    # (hazardous absorbents), two others with 15 02 03. No code cell holds three legal units
    # (two for 15 02 03); on the old rule the run showed all three at the subchapter in the région.
    victim = member(session, "Absorbants Victime SA", NORD_ELSEWHERE[0], low_code="15 02 02")
    others = [
        member(session, "Chiffons Un SA", NORD_ELSEWHERE[1], low_code="15 02 03"),
        member(session, "Chiffons Deux SA", PAS_DE_CALAIS, low_code="15 02 03"),
    ]
    return victim, others


def test_hazardous_flag_gives_away_the_code_the_k_check_refused(
    client: TestClient, session: Session
) -> None:
    victim, others = _victim_and_two_rags(session)
    target = publish(client, victim)
    for m in others:
        publish(client, m)
    publication_run(session)

    shown = card(client, target)  # one anonymous request
    if shown is None:
        return  # brokered only: the card tells nothing (the fixed behaviour here)
    assert shown["low_code"] is None, "the k-check refused the code (one legal unit has it)"
    prefix = shown["low_subchapter"] or shown["low_chapter"]
    candidates = _codes_matching(prefix, shown["hazardous"])
    assert len(candidates) > 1, (
        f"the card's {prefix!r} + hazardous={shown['hazardous']} names the exact code "
        f"{sorted(candidates)}, which the k-check refused to publish"
    )


def test_every_shown_prefix_and_flag_is_shared_by_k_legal_units(
    client: TestClient, session: Session
) -> None:
    # Two more hazardous absorbents (15 02 02*) in the région: the pair (1502, hazardous) names
    # that code, and now three legal units have it, so the victim may show.
    victim, others = _victim_and_two_rags(session)
    others += [
        member(session, "Absorbants Deux SA", NORD_ELSEWHERE[2], low_code="15 02 02"),
        member(session, "Absorbants Trois SA", PAS_DE_CALAIS, low_code="15 02 02"),
    ]
    target = publish(client, victim)
    for m in others:
        publish(client, m)
    publication_run(session)

    shown = card(client, target)
    assert shown is not None and shown["hazardous"] is True
    cells = published_cells(session)
    k = get_settings().k_anonymity
    for key, units in cells.items():
        assert len(units) >= k, f"published cell {key} holds {len(units)} legal units"
    # The cells the checks count are the cells the run placed listings in, flag included.
    shown_rows = session.exec(
        select(Listing).where(
            Listing.status == ListingStatus.PUBLISHED,
            Listing.brokered_only == False,  # noqa: E712
        )
    ).all()
    assert shown_rows
    for row in shown_rows:
        assert row.public_cell is not None
        assert tuple(row.public_cell.split("|")) in cells
        assert ("hazardous" if row.hazardous else "non-hazardous") in row.public_cell.split("|")
