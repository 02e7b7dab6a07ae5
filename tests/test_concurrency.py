"""Concurrent state changes of listings and flows: of N racing transitions exactly the legal ones
win, the others get a 409 naming the current state, and a transition's side effects (alerts)
happen once. Real concurrency: threads, each with its own client and database session, released
together by a barrier; on SQLite and on PostgreSQL, with the real Celery worker when a broker is
set (SYMBIOSE_TEST_BROKER_URL)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from marketplace.accounts.service import actor_of
from marketplace.alerts import service as alerts
from marketplace.alerts.models import Notification
from marketplace.catalogue.models import Listing
from marketplace.flows.models import Flow
from tests.conftest import TEST_BROKER_URL
from tests.members import CELL, Member, draft, member, publication_run, publish
from tests.test_alerts import _member as _alerted_member
from tests.test_alerts import start_worker

ROUNDS = 5
Call = Callable[[TestClient], httpx.Response]


def _burst(calls: list[Call]) -> list[httpx.Response]:
    """Run ``calls`` at once, each in its own thread with its own client (so its own request
    and session), released together by a barrier."""
    from api.app import app

    clients = [TestClient(app) for _ in calls]
    barrier = threading.Barrier(len(calls))
    answers: list[httpx.Response | None] = [None] * len(calls)
    failures: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            answers[index] = calls[index](clients[index])
        except BaseException as error:  # a thread's failure must fail the test, not vanish
            failures.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    return [a for a in answers if a is not None]


def _post(url: str, headers: dict[str, str]) -> Call:
    return lambda client: client.post(url, headers=headers)


def _assert_conflicts_name_the_state(losers: list[httpx.Response], *states: str) -> None:
    for answer in losers:
        assert answer.status_code == 409, answer.text
        body = answer.json()
        assert body["error"] == "Conflict" and body["field"] == "status", body
        assert any(state in body["detail"] for state in states), body


def _shown_cell(client: TestClient, session: Session) -> None:
    """Three companies published in one cell and placed by a run: the catalogue shows the cell,
    so a fourth listing published there joins it at once (public, and alerting)."""
    for i in range(3):
        publish(client, member(session, f"Centrale {i} SAS", CELL[i]))
    publication_run(session)


def _status(session: Session, model: type[Listing] | type[Flow], row_id: Any) -> str:
    session.expire_all()
    row = session.get(model, uuid.UUID(str(row_id)))
    assert row is not None
    return str(getattr(row, "status"))


# --- 20 publishes of one draft -----------------------------------------------------------------


@pytest.fixture
def worker(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The real Celery worker on the test broker when there is one; otherwise tasks run
    in-process after each commit, as the other tests run them."""
    if not TEST_BROKER_URL:
        yield
        return
    process = start_worker(monkeypatch, smtp_port=9)  # no relay: notifications are kept
    try:
        yield
    finally:
        process.terminate()
        process.wait(timeout=20)


def _notified(session: Session, listing_id: str) -> int:
    session.expire_all()
    query = select(Notification).where(col(Notification.listing_id) == uuid.UUID(listing_id))
    return len(session.exec(query).all())


def test_twenty_concurrent_publishes_one_wins_and_alerts_once(
    client: TestClient, session: Session, worker: None
) -> None:
    buyer = _alerted_member(session, "Briqueterie Acheteuse SAS", 3)
    alerts.save_search(session, actor_of(buyer.user), "Cendres", {"kind": "material"})
    session.commit()
    _shown_cell(client, session)
    owner = member(session, "Centrale Quatre SAS", CELL[3])
    listing_id = draft(client, owner)["listing"]["id"]

    answers = _burst([_post(f"/api/v1/listings/{listing_id}/publish", owner.headers)] * 20)

    won = [a for a in answers if a.status_code == 200]
    assert len(won) == 1, [a.status_code for a in answers]
    _assert_conflicts_name_the_state([a for a in answers if a.status_code != 200], "published")
    assert won[0].json()["status"] == "published" and not won[0].json()["waiting"]
    # A sentinel published after the burst: once its alert is in, every task enqueued by the
    # burst has run too (one worker takes the queue in order; in-process tasks ran at commit).
    sentinel = publish(client, member(session, "Centrale Cinq SAS", CELL[0]))
    deadline = time.monotonic() + 60
    while not _notified(session, sentinel) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _notified(session, sentinel) == 1
    assert _notified(session, listing_id) == 1


# --- withdraw racing pause ---------------------------------------------------------------------


def test_ten_withdraws_racing_ten_pauses_never_lose_the_withdrawal(
    client: TestClient, session: Session
) -> None:
    owner = member(session, "Centrale Seule SAS", CELL[0])
    for _ in range(ROUNDS):
        listing_id = publish(client, owner)
        url = f"/api/v1/listings/{listing_id}"
        calls = [_post(f"{url}/withdraw", owner.headers), _post(f"{url}/pause", owner.headers)]

        answers = _burst(calls * 10)

        withdrawn = [a for a in answers[0::2] if a.status_code == 200]
        paused = [a for a in answers[1::2] if a.status_code == 200]
        assert len(withdrawn) == 1 and len(paused) <= 1, [a.status_code for a in answers]
        _assert_conflicts_name_the_state(
            [a for a in answers if a.status_code != 200], "withdrawn", "paused"
        )
        # The withdrawal was confirmed: it is what stands, whatever the pauses answered.
        assert _status(session, Listing, listing_id) == "withdrawn"


# --- a flow withdrawn while its listing is published -------------------------------------------


def test_a_flow_withdrawn_while_its_listing_is_published_leaves_nothing_public(
    client: TestClient, session: Session
) -> None:
    _shown_cell(client, session)
    for round_ in range(ROUNDS):
        owner: Member = member(session, f"Centrale Tour {round_} SAS", CELL[3])
        listing_id = draft(client, owner)["listing"]["id"]
        publishing = _post(f"/api/v1/listings/{listing_id}/publish", owner.headers)
        withdrawing = _post(f"/api/v1/flows/{owner.flow_id}/withdraw", owner.headers)

        answers = _burst([publishing, withdrawing])

        assert answers[1].status_code == 200, answers[1].text
        assert answers[0].status_code in (200, 409), answers[0].text
        assert _status(session, Flow, owner.flow_id) == "withdrawn"
        assert _status(session, Listing, listing_id) == "withdrawn"
        assert client.get(f"/api/v1/catalogue/{listing_id}").status_code == 404


def test_ten_concurrent_withdraws_of_a_flow_one_wins(client: TestClient, session: Session) -> None:
    owner = member(session, "Centrale Retrait SAS", CELL[0])
    publish(client, owner)

    answers = _burst([_post(f"/api/v1/flows/{owner.flow_id}/withdraw", owner.headers)] * 10)

    assert [a.status_code for a in answers].count(200) == 1, [a.status_code for a in answers]
    _assert_conflicts_name_the_state([a for a in answers if a.status_code != 200], "withdrawn")


# --- the lock order ----------------------------------------------------------------------------


def test_a_publication_run_racing_member_changes_in_its_group_waits_and_places_none_stale(
    client: TestClient, session: Session
) -> None:
    """Not a regression of main: it guards the lock order (flows, groups, listings, pools). A
    run, pauses, a withdrawal, an edit and a publish in one group at once all finish (a deadlock
    would answer 503), and the run places no listing from a stale read."""
    from core.db import unit_of_work
    from marketplace.catalogue.service import run_publication

    def run(_: TestClient) -> httpx.Response:
        with unit_of_work() as own:
            run_publication(own)
        return httpx.Response(200)

    for round_ in range(ROUNDS):
        owners = [member(session, f"Centrale R{round_}-{i} SAS", CELL[i]) for i in range(4)]
        ids = [publish(client, owner) for owner in owners[:3]]
        publication_run(session)
        fourth = draft(client, owners[3])["listing"]["id"]

        answers = _burst(
            [
                run,
                _post(f"/api/v1/listings/{ids[0]}/pause", owners[0].headers),
                _post(f"/api/v1/listings/{ids[1]}/withdraw", owners[1].headers),
                lambda c: c.patch(
                    f"/api/v1/flows/{owners[2].flow_id}", headers=owners[2].headers,
                    json={"quantity": 5000},
                ),
                _post(f"/api/v1/listings/{fourth}/publish", owners[3].headers),
            ]
        )  # fmt: skip

        assert [a.status_code for a in answers] == [200] * 5, [a.text for a in answers]
        assert _status(session, Listing, ids[0]) == "paused"
        assert _status(session, Listing, ids[1]) == "withdrawn"
        for hidden in ids[:2]:
            assert client.get(f"/api/v1/catalogue/{hidden}").status_code == 404
            row = session.get(Listing, uuid.UUID(hidden))
            assert row is not None and row.public_step is None and row.brokered_only
