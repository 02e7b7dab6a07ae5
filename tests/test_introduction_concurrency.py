"""Fifty accepts of one introduction at once: exactly one reveal, one reveal audit entry and one
outbox notice; the others get a 409 naming the state they found. Threads with their own client
and session, released together (as tests/test_concurrency.py); on SQLite and on PostgreSQL."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from marketplace.introductions.models import Introduction, OutboxMessage
from marketplace.introductions.outbox import SUBJECTS
from privacy import audit
from privacy.models import AuditEntry
from tests.conftest import TEST_BROKER_URL
from tests.introduction_world import express, world
from tests.test_alerts import SmtpServer, start_worker
from tests.test_concurrency import _burst, _post
from tests.test_introductions import relay  # noqa: F401 - the local SMTP relay fixture

ACCEPTS = 50


def test_fifty_concurrent_accepts_reveal_exactly_once(client: TestClient, session: Session) -> None:
    _fifty_accepts(client, session)


@pytest.mark.celery
@pytest.mark.skipif(not TEST_BROKER_URL, reason="SYMBIOSE_TEST_BROKER_URL is not set")
def test_fifty_concurrent_accepts_on_a_real_worker_mail_the_requester_once(
    client: TestClient,
    session: Session,
    relay: SmtpServer,  # noqa: F811 - the fixture imported above
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    worker = start_worker(monkeypatch, relay.port)
    try:
        _fifty_accepts(client, session)
        revealed = SUBJECTS["introduction.revealed"][0]
        deadline = time.monotonic() + 60
        while not _subjects(relay).count(revealed) and time.monotonic() < deadline:
            assert worker.poll() is None, "the worker died"
            time.sleep(0.2)
        time.sleep(1.0)  # a second e-mail, were there one, would come now
        assert _subjects(relay).count(revealed) == 1
        session.expire_all()
        notice = session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == "introduction.revealed")
        ).one()
        assert notice.sent_at is not None and notice.attempts == 1
    finally:
        worker.terminate()
        worker.wait(timeout=20)


def _subjects(server: SmtpServer) -> list[str]:
    return [str(m["Subject"]) for m in server.inbox.messages]


def _fifty_accepts(client: TestClient, session: Session) -> None:
    w = world(client, session)
    intro_id = express(client, w).json()["id"]
    url = f"/api/v1/introductions/{intro_id}/accept"
    answers = _burst([_post(url, w.owner.headers) for _ in range(ACCEPTS)])
    assert len(answers) == ACCEPTS
    winners = [a for a in answers if a.status_code == 200]
    assert len(winners) == 1, [a.text for a in answers if a.status_code != 409]
    assert winners[0].json()["state"] == "revealed"
    for loser in [a for a in answers if a.status_code != 200]:
        assert loser.status_code == 409, loser.text
        body = loser.json()
        assert (body["error"], body["field"]) == ("Conflict", "state"), body
        assert "revealed" in body["detail"], body
    session.expire_all()
    intro = session.exec(select(Introduction)).one()
    assert intro.state == "revealed"
    reveals = session.exec(
        select(AuditEntry).where(AuditEntry.action == "introduction.reveal")
    ).all()
    assert [e.subject_id for e in reveals] == [intro.id]
    notices = session.exec(
        select(OutboxMessage).where(OutboxMessage.kind == "introduction.revealed")
    ).all()
    assert len(notices) == 1 and notices[0].recipient_company_id == w.requester.company_id
    assert audit.verify(session).intact
