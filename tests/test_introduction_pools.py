"""Introductions to a pooled offer over HTTP: each contributor answers for its own share; the
requester sees only the contributors who accepted, the contributors see the requester only (never
each other), a contributor who declined stays hidden, a third company sees nothing; the deadline
reveals the accepting ones; contributors' concurrent answers count once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from core.models import utcnow
from core.settings import get_settings
from marketplace.accounts.models import Role
from marketplace.introductions import service
from marketplace.introductions.models import Introduction, IntroductionShare, OutboxMessage
from privacy import audit
from privacy.models import AuditEntry
from tests.factories import bearer, create_user_row
from tests.introduction_world import Side, leaks, side
from tests.members import NORD_ELSEWHERE, PAS_DE_CALAIS, member, publication_run
from tests.test_concurrency import _burst, _post

# Three contributors' sites in one département (the Nord), a few km apart.
CONTRIBUTORS = [(50.3600, 3.5200), (50.3700, 3.5400), (50.3500, 3.5000)]


@dataclass
class Pool:
    contributors: list[Side]
    requester: Side
    third: Side
    listing_id: str
    facilitator: dict[str, str]


def pool_world(client: TestClient, session: Session, tag: str = "") -> Pool:
    names = ["Aciérie Alpha", "Brasserie Bravo", "Chaufferie Charlie"]
    contributors = [
        member(session, f"{name}{tag} SAS", position, quantity=500.0)
        for name, position in zip(names, CONTRIBUTORS, strict=True)
    ]
    staff = bearer(session, create_user_row(session, Role.FACILITATOR))
    body = {
        "flow_ids": [str(m.flow_id) for m in contributors],
        "area": "departement",
        "title": "Cendres mutualisées",
    }
    pool = client.post("/api/v1/pools", headers=staff, json=body)
    assert pool.status_code == 201, pool.text
    listing_id = pool.json()["id"]
    published = client.post(f"/api/v1/listings/{listing_id}/publish", headers=staff)
    assert published.status_code == 200, published.text
    assert published.json()["brokered_only"] is False
    publication_run(session)
    requester = member(
        session, f"Briqueterie Delta{tag} SARL", NORD_ELSEWHERE[0], direction="request"
    )
    third = member(session, f"Fonderie Echo{tag} SAS", PAS_DE_CALAIS)
    return Pool(
        [side(session, m) for m in contributors],
        side(session, requester),
        side(session, third),
        listing_id,
        staff,
    )


def express(client: TestClient, p: Pool) -> Any:
    return client.post(
        "/api/v1/introductions",
        headers=p.requester.headers,
        json={"listing_id": p.listing_id, "requester_flow_id": str(p.requester.member.flow_id)},
    )


def _get(client: TestClient, who: Side, intro_id: str) -> Any:
    return client.get(f"/api/v1/introductions/{intro_id}", headers=who.headers)


def _everything(client: TestClient, who: Side, intro_id: str) -> str:
    """Every introduction route's answer to `who`, as one text."""
    base = f"/api/v1/introductions/{intro_id}"
    answers = [
        client.get("/api/v1/introductions", headers=who.headers),
        client.get("/api/v1/introductions/notices", headers=who.headers),
        client.get(base, headers=who.headers),
        client.get(f"{base}/messages", headers=who.headers),
    ]
    return "\n".join(a.text for a in answers)


def test_a_pool_reveals_to_the_requester_only_the_contributors_who_accepted(
    client: TestClient, session: Session
) -> None:
    p = pool_world(client, session)
    alpha, bravo, charlie = p.contributors
    created = express(client, p)
    assert created.status_code == 201, created.text
    intro_id = created.json()["id"]
    assert created.json()["pooled"] is True and created.json()["state"] == "proposed"

    # Each contributor is proposed the introduction, with the requester's anonymized card.
    for contributor in p.contributors:
        (mine,) = client.get("/api/v1/introductions", headers=contributor.headers).json()
        assert (mine["side"], mine["state"]) == ("owner", "proposed")
        assert mine["requester"]["sector_division"] == "23"
        assert mine["next_action"] == "accept or decline"
    # A message from one contributor is not shown to another.
    said = client.post(
        f"/api/v1/introductions/{intro_id}/messages",
        headers=alpha.headers,
        json={"body": "Quel tonnage par mois ?"},
    )
    assert said.status_code == 201, said.text
    assert (
        "tonnage"
        in client.get(
            f"/api/v1/introductions/{intro_id}/messages", headers=p.requester.headers
        ).text
    )
    assert (
        "tonnage"
        not in client.get(f"/api/v1/introductions/{intro_id}/messages", headers=bravo.headers).text
    )

    accepted = client.post(f"/api/v1/introductions/{intro_id}/accept", headers=alpha.headers)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "accepted" and accepted.json()["counterpart"] is None
    # Its second accept is refused, naming what it sees: counted once.
    again = client.post(f"/api/v1/introductions/{intro_id}/accept", headers=alpha.headers)
    assert again.status_code == 409 and "accepted" in again.json()["detail"]
    # The requester is told nothing yet: not that one accepted, nor that one declines.
    assert _get(client, p.requester, intro_id).json()["state"] == "proposed"
    declined = client.post(f"/api/v1/introductions/{intro_id}/decline", headers=bravo.headers)
    assert declined.status_code == 200 and declined.json()["state"] == "declined"
    assert _get(client, p.requester, intro_id).json()["state"] == "proposed"
    assert (
        client.post(f"/api/v1/introductions/{intro_id}/accept", headers=bravo.headers).status_code
        == 409
    )

    # The last answer reveals: Charlie reads the requester in its answer.
    last = client.post(f"/api/v1/introductions/{intro_id}/accept", headers=charlie.headers)
    assert last.status_code == 200, last.text
    assert last.json()["state"] == "revealed"
    assert last.json()["counterpart"]["legal_name"] == p.requester.secrets[0]

    mine = _get(client, p.requester, intro_id).json()
    assert mine["state"] == "revealed" and mine["counterpart"] is None
    names = sorted(c["legal_name"] for c in mine["contributors"])
    assert names == sorted([alpha.secrets[0], charlie.secrets[0]])
    sites = {s["name"] for c in mine["contributors"] for s in c["sites"]}
    assert sites == {alpha.secrets[3], charlie.secrets[3]}
    # The requester sees nothing of the contributor who declined, on any route.
    assert leaks(_everything(client, p.requester, intro_id), bravo) == []
    # Each accepting contributor sees the requester, never another contributor.
    for contributor, others in ((alpha, (bravo, charlie)), (charlie, (alpha, bravo))):
        text = _everything(client, contributor, intro_id)
        assert p.requester.secrets[0] in text
        for other in others:
            assert leaks(text, other) == []
    # The one who declined sees its decline, and no one.
    text = _everything(client, bravo, intro_id)
    assert _get(client, bravo, intro_id).json()["state"] == "declined"
    for other in (p.requester, alpha, charlie):
        assert leaks(text, other) == []
    # A third company sees nothing of it.
    assert _get(client, p.third, intro_id).status_code == 404
    text = _everything(client, p.third, intro_id)
    for other in (p.requester, *p.contributors):
        assert leaks(text, other) == []
    assert intro_id not in client.get("/api/v1/introductions", headers=p.third.headers).text

    # One reveal, one entry per contributor revealed, each naming the introduction; notices to
    # the requester and to the accepting contributor that did not act.
    session.expire_all()
    entries = session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))).all()
    assert [e.action for e in entries].count("introduction.reveal") == 1
    assert [e.action for e in entries].count("introduction.reveal_share") == 2
    for entry in entries:
        if entry.action.startswith("introduction."):
            assert entry.data is not None and entry.data["introduction_id"] == intro_id, entry
    revealed = session.exec(
        select(OutboxMessage).where(OutboxMessage.kind == "introduction.revealed")
    ).all()
    recipients = sorted(str(n.recipient_company_id) for n in revealed)
    assert recipients == sorted([str(p.requester.company_id), str(alpha.company_id)])
    assert audit.verify(session).intact


def test_at_the_deadline_the_accepting_contributors_are_revealed(
    client: TestClient, session: Session
) -> None:
    p = pool_world(client, session)
    alpha, bravo, _charlie = p.contributors
    intro_id = express(client, p).json()["id"]
    assert client.post(f"/api/v1/introductions/{intro_id}/accept", headers=alpha.headers).is_success
    # Before the deadline nothing moves: two contributors have not answered.
    assert service.expire_due(session) == 0
    session.commit()
    assert _get(client, p.requester, intro_id).json()["state"] == "proposed"
    assert service.expire_due(session, utcnow() + timedelta(days=16)) == 0
    session.commit()
    mine = _get(client, p.requester, intro_id).json()
    assert mine["state"] == "revealed"
    assert [c["legal_name"] for c in mine["contributors"]] == [alpha.secrets[0]]
    # Who did not answer in time reads "expired" and can no longer accept.
    assert _get(client, bravo, intro_id).json()["state"] == "expired"
    late = client.post(f"/api/v1/introductions/{intro_id}/accept", headers=bravo.headers)
    assert late.status_code == 409 and "expired" in late.json()["detail"]


def test_a_pool_nobody_accepts_expires_and_one_all_decline_reads_not_available(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "introduction_silent_delay_hours", 0.0)
    p = pool_world(client, session)
    quiet = express(client, p).json()["id"]
    assert service.expire_due(session, utcnow() + timedelta(days=16)) == 1
    session.commit()
    assert _get(client, p.requester, quiet).json()["state"] == "expired"

    p2 = pool_world(client, session, tag=" 2")
    intro_id = express(client, p2).json()["id"]
    for contributor in p2.contributors:
        answer = client.post(
            f"/api/v1/introductions/{intro_id}/decline", headers=contributor.headers
        )
        assert answer.status_code == 200, answer.text
    mine = _get(client, p2.requester, intro_id).json()
    assert mine["state"] == "not_available" and mine["contributors"] is None
    assert mine["expires_at"] is None and mine["next_action"] is None


def test_with_confirmation_the_requester_confirms_a_ready_pool(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "introduction_requester_confirms", True)
    p = pool_world(client, session)
    alpha, bravo, charlie = p.contributors
    url = f"/api/v1/introductions/{express(client, p).json()['id']}"
    assert client.post(f"{url}/accept", headers=p.requester.headers).status_code == 403
    assert client.post(f"{url}/accept", headers=alpha.headers).is_success
    assert client.post(f"{url}/withdraw", headers=bravo.headers).is_success  # its own share
    assert client.post(f"{url}/accept", headers=charlie.headers).json()["state"] == "accepted"
    mine = client.get(url, headers=p.requester.headers).json()
    assert mine["next_action"] == "confirm (accept), or withdraw"
    assert leaks(str(mine), alpha) == [] and leaks(str(mine), charlie) == []
    confirmed = client.post(f"{url}/accept", headers=p.requester.headers).json()
    assert confirmed["state"] == "revealed"
    names = sorted(c["legal_name"] for c in confirmed["contributors"])
    assert names == sorted([alpha.secrets[0], charlie.secrets[0]])
    assert client.get(url, headers=bravo.headers).json()["state"] == "declined"


def test_a_contributor_asking_for_its_own_pool_is_told_not_available(
    client: TestClient, session: Session
) -> None:
    p = pool_world(client, session)
    own = client.post(
        "/api/v1/introductions",
        headers=p.contributors[0].headers,
        json={"listing_id": p.listing_id},
    )
    gone = client.post(
        "/api/v1/introductions",
        headers=p.contributors[0].headers,
        json={"listing_id": str(uuid.uuid4())},
    )
    assert own.status_code == gone.status_code == 404
    assert own.json()["detail"] == gone.json()["detail"]


def test_concurrent_answers_of_the_contributors_count_once_and_reveal_once(
    client: TestClient, session: Session
) -> None:
    """Each contributor's accept sent ten times at once, the three contributors together: each
    share is accepted once, the pool revealed once (one reveal entry, one entry per contributor,
    one notice to the requester), the other answers 409 naming what they found."""
    p = pool_world(client, session)
    intro_id = express(client, p).json()["id"]
    url = f"/api/v1/introductions/{intro_id}/accept"
    calls = [_post(url, c.headers) for c in p.contributors for _ in range(10)]
    answers = _burst(calls)
    winners = [a for a in answers if a.status_code == 200]
    assert len(winners) == 3, [a.text for a in answers if a.status_code != 409]
    for loser in (a for a in answers if a.status_code != 200):
        assert loser.status_code == 409, loser.text
        assert loser.json()["field"] == "state"
    assert [w.json()["state"] for w in winners].count("revealed") == 1
    session.expire_all()
    intro = session.get(Introduction, uuid.UUID(intro_id))
    assert intro is not None and intro.state == "revealed"
    shares = session.exec(select(IntroductionShare)).all()
    assert [s.state for s in shares] == ["accepted"] * 3
    assert all(s.version == 2 for s in shares)
    actions = [e.action for e in session.exec(select(AuditEntry)).all()]
    assert actions.count("introduction.share_accept") == 3
    assert actions.count("introduction.reveal") == 1
    assert actions.count("introduction.reveal_share") == 3
    notices = session.exec(
        select(OutboxMessage).where(OutboxMessage.kind == "introduction.revealed")
    ).all()
    to_requester = [n for n in notices if n.recipient_company_id == p.requester.company_id]
    assert len(to_requester) == 1 and len(notices) == 3  # the requester, two contributors
    assert audit.verify(session).intact
