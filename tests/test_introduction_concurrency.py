"""Fifty accepts of one introduction at once: exactly one reveal, one reveal audit entry and one
outbox notice; the others get a 409 naming the state they found. Threads with their own client
and session, released together (as tests/test_concurrency.py); on SQLite and on PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from marketplace.introductions.models import Introduction, OutboxMessage
from privacy import audit
from privacy.models import AuditEntry
from tests.introduction_world import express, world
from tests.test_concurrency import _burst, _post

ACCEPTS = 50


def test_fifty_concurrent_accepts_reveal_exactly_once(client: TestClient, session: Session) -> None:
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
