"""Red team: the date order as a clock. A card shows the day it was published (``published_on``)
and the cursor is encrypted so that no client reads exact timestamps; but the catalogue sorts by
the exact publication instant. A member that publishes listings of its own at known instants
(withdraw, publish again: one anchor per write) reads another company's publication time from
where its card falls between them: n anchors cut the day into n + 1 slices. For a listing that
waited for the daily run this is the moment its owner pressed "publish", which nothing public
shows.

The test publishes eight listings at known instants of one day and reads the date order once:
it must not be the order of the instants (a fix that orders a day's cards by a keyed hash of
their id would fail this test by chance once in 40,320 runs)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from core import ratelimit
from marketplace.catalogue import service
from tests.members import CELL, NORD_ELSEWHERE, member, publication_run, publish

POSITIONS = [*CELL, *NORD_ELSEWHERE, (51.0105, 2.3010)]


@pytest.fixture(autouse=True)
def fresh_rate_limit() -> Iterator[None]:
    ratelimit.reset()
    yield
    ratelimit.reset()


def test_the_date_order_does_not_time_publications_within_their_day(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    clock = {"now": day}
    monkeypatch.setattr(service, "utcnow", lambda: clock["now"])
    companies = [member(session, f"Société {i} SA", p) for i, p in enumerate(POSITIONS)]
    assert len(companies) == 8
    published = []
    for minutes, company in zip((0, 47, 95, 170, 233, 301, 377, 412), companies, strict=True):
        clock["now"] = day + timedelta(minutes=minutes)  # one instant each, in this order
        published.append(publish(client, company))
    clock["now"] = day + timedelta(hours=12)
    publication_run(session)

    page = client.get("/api/v1/catalogue", params={"sort": "date", "limit": 100})
    assert page.status_code == 200, page.text
    shown = [item for item in page.json()["items"] if item["id"] in published]
    assert len(shown) == 8 and {item["published_on"] for item in shown} == {"2026-11-30"}
    newest_first = list(reversed(published))
    assert [item["id"] for item in shown] != newest_first, (
        "eight cards of one day come in the exact order of their publication instants: the "
        "order tells what published_on hides, and anchors of one's own place a rival's instant"
    )
