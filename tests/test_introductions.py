"""Introductions over HTTP: the whole path for two companies, with a third that sees nothing;
silence towards the requester; limits; expiry; the outbox; a reveal the vault cannot serve."""

from __future__ import annotations

import base64
import os
import socket
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from core.models import utcnow
from core.settings import get_settings
from core.worker import celery_app
from marketplace.flows.keys import rotate_keys
from marketplace.introductions import service
from marketplace.introductions.models import Introduction, OutboxMessage
from marketplace.introductions.tasks import expire_due, resend_outbox
from privacy import audit, vault
from privacy.models import AuditEntry
from tests.introduction_world import express, leaks, world
from tests.test_alerts import SmtpServer


@pytest.fixture
def relay(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A local SMTP relay (aiosmtpd) keeping what it is sent."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = SmtpServer(port=port)
    server.start()
    monkeypatch.setattr(get_settings(), "smtp_host", "127.0.0.1")
    monkeypatch.setattr(get_settings(), "smtp_port", port)
    yield server
    server.stop()


def _all_calls(client: TestClient, headers: dict[str, str], intro_id: str) -> list[Any]:
    """Every introduction route one company can call on an introduction."""
    base = f"/api/v1/introductions/{intro_id}"
    return [
        client.get("/api/v1/introductions", headers=headers),
        client.get("/api/v1/introductions/notices", headers=headers),
        client.get(base, headers=headers),
        client.get(f"{base}/messages", headers=headers),
    ]


def test_the_whole_path_reveals_both_sides_to_each_other_only(
    client: TestClient, session: Session
) -> None:
    w = world(client, session)
    created = express(client, w)
    assert created.status_code == 201, created.text
    body = created.json()
    intro_id = body["id"]
    assert (body["side"], body["state"]) == ("requester", "proposed")
    seen: list[tuple[str, str]] = [("requester", created.text)]

    # The owner reads the requester's anonymized card, no finer than a public card.
    mine = client.get("/api/v1/introductions", headers=w.owner.headers)
    assert mine.status_code == 200
    (owned,) = mine.json()
    assert owned["side"] == "owner" and owned["state"] == "proposed"
    assert owned["next_action"] == "accept or decline"
    card = owned["requester"]
    assert card["sector_division"] == "23" and card["quantity_class"]
    assert card["distance_band"] in ("< 10 km", "10–30 km", "30–80 km", "80–200 km", "> 200 km")
    seen.append(("owner", mine.text))

    # Messages are relayed, and refused when they would name their author's company.
    said = client.post(
        f"/api/v1/introductions/{intro_id}/messages",
        headers=w.requester.headers,
        json={"body": "Nous pouvons reprendre environ 400 t par an, en vrac."},
    )
    assert said.status_code == 201, said.text
    named = client.post(
        f"/api/v1/introductions/{intro_id}/messages",
        headers=w.requester.headers,
        json={"body": f"Ici {w.requester.secrets[0]}, appelez-nous"},
    )
    assert named.status_code == 422 and named.json()["field"] == "body"
    read = client.get(f"/api/v1/introductions/{intro_id}/messages", headers=w.owner.headers)
    assert [m["author_side"] for m in read.json()] == ["requester"]
    seen.append(("owner", read.text))
    for who, headers in (("requester", w.requester.headers), ("owner", w.owner.headers)):
        seen += [(who, r.text) for r in _all_calls(client, headers, intro_id)]

    # A third company: nothing, at any point.
    for response in _all_calls(client, w.third.headers, intro_id)[2:]:
        assert response.status_code == 404, response.text
    assert client.get("/api/v1/introductions", headers=w.third.headers).json() == []
    for action in ("accept", "decline", "withdraw"):
        answer = client.post(f"/api/v1/introductions/{intro_id}/{action}", headers=w.third.headers)
        assert answer.status_code == 404

    # Before the reveal no answer of either side carries the other's identity or position.
    for who, text in seen:
        other = w.owner if who == "requester" else w.requester
        assert leaks(text, other) == [], who

    accepted = client.post(f"/api/v1/introductions/{intro_id}/accept", headers=w.owner.headers)
    assert accepted.status_code == 200, accepted.text
    revealed = accepted.json()
    assert revealed["state"] == "revealed"
    assert revealed["counterpart"]["legal_name"] == w.requester.secrets[0]
    assert revealed["counterpart"]["siret"] == w.requester.secrets[1]
    assert revealed["counterpart"]["sites"][0]["name"] == w.requester.secrets[3]

    theirs = client.get(f"/api/v1/introductions/{intro_id}", headers=w.requester.headers)
    counterpart = theirs.json()["counterpart"]
    assert counterpart["legal_name"] == w.owner.secrets[0]
    (site,) = counterpart["sites"]
    assert (site["latitude"], site["longitude"]) == pytest.approx(w.owner.position)
    for response in _all_calls(client, w.third.headers, intro_id)[2:]:
        assert response.status_code == 404
    for response in _all_calls(client, w.third.headers, intro_id)[:2]:
        assert leaks(response.text, w.owner) == leaks(response.text, w.requester) == []
    # After the reveal the two sides talk directly.
    closed = client.post(
        f"/api/v1/introductions/{intro_id}/messages",
        headers=w.owner.headers,
        json={"body": "Bonjour"},
    )
    assert closed.status_code == 409

    session.expire_all()
    actions = [e.action for e in session.exec(select(AuditEntry).order_by(col(AuditEntry.seq)))]
    assert actions.count("introduction.reveal") == 1
    # Each read of a counterpart's identity: one entry, naming who and whose.
    assert actions.count("identity.reveal") == 2
    assert audit.verify(session).intact
    notices = session.exec(
        select(OutboxMessage).where(OutboxMessage.kind == "introduction.revealed")
    ).all()
    assert [n.recipient_company_id for n in notices] == [w.requester.company_id]


def test_a_decline_looks_like_a_withdrawn_listing_to_the_requester(
    client: TestClient, session: Session
) -> None:
    w = world(client, session)
    declined_id = express(client, w).json()["id"]
    gone_id = express(client, w, w.others[0]).json()["id"]
    decline = f"/api/v1/introductions/{declined_id}/decline"
    assert client.post(decline, headers=w.owner.headers).status_code == 200

    # Right after the decline, and until a random moment, the requester sees what it saw.
    def while_silent(intro_id: str) -> list[Any]:
        url = f"/api/v1/introductions/{intro_id}"
        headers = w.requester.headers
        return [
            client.get(url, headers=headers),
            client.post(f"{url}/accept", headers=headers),
            client.post(f"{url}/decline", headers=headers),
            client.post(f"{url}/messages", headers=headers, json={"body": "Quel volume ?"}),
            client.get(f"{url}/messages", headers=headers),
        ]

    # Until a random moment the requester sees the declined one as the pending one.
    silent = zip(while_silent(declined_id), while_silent(gone_id), strict=True)
    for declined, pending in silent:
        assert declined.status_code == pending.status_code, (declined.text, pending.text)
        assert _without_ids(declined.json()) == _without_ids(pending.json())
    before = client.get(f"/api/v1/introductions/{declined_id}", headers=w.requester.headers)
    assert before.json()["state"] == "proposed"
    past = utcnow() - timedelta(seconds=1)
    session.execute(sa.update(Introduction).values(requester_sees_from=past))
    session.commit()
    # The other listing's owner withdraws it.
    withdrawn = client.post(
        f"/api/v1/listings/{w.others[0]}/withdraw", headers=w.neighbours[0].headers
    )
    assert withdrawn.status_code == 200, withdrawn.text

    def answers(intro_id: str, listing_id: str) -> list[Any]:
        url = f"/api/v1/introductions/{intro_id}"
        headers = w.requester.headers
        return [
            client.get(url, headers=headers),
            client.get(f"{url}/messages", headers=headers),
            client.post(f"{url}/accept", headers=headers),
            client.post(f"{url}/messages", headers=headers, json={"body": "Toujours preneurs"}),
            client.post(f"{url}/withdraw", headers=headers),
            express(client, w, listing_id),
        ]

    pairs = zip(answers(declined_id, w.listing_id), answers(gone_id, w.others[0]), strict=True)
    for declined, gone in pairs:
        assert declined.status_code == gone.status_code, (declined.text, gone.text)
        assert _without_ids(declined.json()) == _without_ids(gone.json())
    state = client.get(f"/api/v1/introductions/{declined_id}", headers=w.requester.headers)
    assert state.json()["state"] == "not_available"
    first, second = client.get("/api/v1/introductions", headers=w.requester.headers).json()
    assert _without_ids(first) == _without_ids(second)


def _without_ids(body: Any) -> Any:
    if isinstance(body, list):
        return [_without_ids(item) for item in body]
    ids = ("id", "listing_id", "created_at", "request_id", "expires_at")
    return {k: v for k, v in body.items() if k not in ids}


def test_interests_per_company_and_day_are_limited(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = world(client, session)
    monkeypatch.setattr(get_settings(), "introduction_interests_per_day", 2)
    assert express(client, w).status_code == 201
    assert express(client, w, w.others[0]).status_code == 201
    refused = express(client, w, w.others[1])
    assert refused.status_code == 429, refused.text
    assert refused.json()["field"] == "listing_id" and "24 hours" in refused.json()["detail"]
    assert refused.headers.get("retry-after")


def test_pending_introductions_expire_through_the_beat_task(
    client: TestClient, session: Session
) -> None:
    w = world(client, session)
    intro_id = uuid.UUID(express(client, w).json()["id"])
    assert service.expire_due(session) == 0
    session.execute(sa.update(Introduction).values(expires_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    assert expire_due.apply().get() == 1
    assert expire_due.apply().get() == 0  # idempotent
    beat = {e["task"] for e in celery_app.conf.beat_schedule.values()}
    assert {"introductions.expire_due", "introductions.resend_outbox"} <= beat
    answer = client.get(f"/api/v1/introductions/{intro_id}", headers=w.owner.headers).json()
    assert answer["state"] == "expired" and answer["next_action"] is None
    late = client.post(f"/api/v1/introductions/{intro_id}/accept", headers=w.owner.headers)
    assert late.status_code == 409 and late.json()["field"] == "state"
    assert "expired" in late.json()["detail"]


def test_without_the_key_encryption_key_the_reveal_is_refused_and_nothing_changes(
    client: TestClient, session: Session
) -> None:
    w = world(client, session)
    intro_id = express(client, w).json()["id"]
    # The requester's data key is wrapped by a key-encryption key no longer configured (a
    # rotation whose old key was removed before every company was re-wrapped).
    session.exec(
        sa.text("UPDATE companies SET kek_id = 'retired' WHERE id = :id").bindparams(
            id=w.requester.company_id
        )
    )  # type: ignore[call-overload]
    session.commit()
    before = audit.count(session)
    refused = client.post(f"/api/v1/introductions/{intro_id}/accept", headers=w.owner.headers)
    assert refused.status_code == 503, refused.text
    assert "key" in refused.json()["detail"]
    session.expire_all()
    intro = session.get(Introduction, uuid.UUID(intro_id))
    assert intro is not None and intro.state == "proposed" and intro.revealed_at is None
    assert audit.count(session) == before
    assert (
        session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == "introduction.revealed")
        ).all()
        == []
    )


def test_the_outbox_is_sent_once_and_swept_after_a_relay_outage(
    client: TestClient, session: Session, relay: SmtpServer
) -> None:
    w = world(client, session)
    intro_id = express(client, w).json()["id"]
    accepted = client.post(f"/api/v1/introductions/{intro_id}/accept", headers=w.owner.headers)
    assert accepted.status_code == 200
    session.expire_all()
    rows = session.exec(select(OutboxMessage)).all()
    assert rows and all(r.sent_at is not None for r in rows)
    sent = len(relay.inbox.messages)
    assert sent >= 2
    for message in relay.inbox.messages:
        text = message.get_content()
        assert leaks(text, w.owner) == leaks(text, w.requester) == []
    # A row left unsent (a crash between commit and send) goes out with the sweeper, once.
    session.execute(sa.update(OutboxMessage).values(sent_at=None))
    session.commit()
    assert resend_outbox.apply().get() == len(rows)
    assert resend_outbox.apply().get() == 0
    assert len(relay.inbox.messages) == 2 * sent


def _one_byte_off(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        text = value.hex
        return uuid.UUID(text[:-1] + ("0" if text[-1] != "0" else "1"))
    if isinstance(value, str):
        return value[:-1] + ("x" if value[-1] != "x" else "y")
    if isinstance(value, dict):
        return {key: _one_byte_off(item) for key, item in value.items()}
    return value + timedelta(microseconds=1)


def test_changing_any_audit_row_of_an_introduction_breaks_the_chain_at_that_row(
    client: TestClient, session: Session
) -> None:
    w = world(client, session)
    intro_id = express(client, w).json()["id"]
    message = {"body": "Quelle granulométrie ?"}
    client.post(f"/api/v1/introductions/{intro_id}/messages", headers=w.owner.headers, json=message)
    client.post(f"/api/v1/introductions/{intro_id}/accept", headers=w.owner.headers)
    client.get(f"/api/v1/introductions/{intro_id}", headers=w.requester.headers)
    session.expire_all()
    assert audit.verify(session).intact
    written = session.exec(
        select(AuditEntry)
        .where(
            sa.or_(
                col(AuditEntry.action).startswith("introduction."),
                col(AuditEntry.action) == "identity.reveal",
            )
        )
        .order_by(col(AuditEntry.seq))
    ).all()
    actions = {e.action for e in written}
    assert {"introduction.express", "introduction.propose", "introduction.message"} <= actions
    assert {"introduction.accept", "introduction.reveal", "identity.reveal"} <= actions
    # Each entry names the introduction in its data, the identity reads of its reveal too.
    assert all(
        e.data == {"introduction_id": intro_id}
        for e in written
        if e.action != "introduction.message"
    )
    (said,) = [e for e in written if e.action == "introduction.message"]
    assert said.data is not None and said.data["introduction_id"] == intro_id
    assert said.data["message_id"] == str(said.subject_id)
    for entry in written:
        for column in ("at", "actor_id", "action", "subject_id", "data", "prev_hash", "hash"):
            original = getattr(entry, column)
            if original is None:
                continue
            setattr(entry, column, _one_byte_off(original))
            session.add(entry)
            session.commit()
            report = audit.verify(session)
            assert report.first_broken == entry.seq, (entry.action, column, report)
            assert f"entry {entry.seq}" in report.reason
            setattr(entry, column, original)
            session.add(entry)
            session.commit()
    assert audit.verify(session).intact


def test_with_screening_the_owner_hears_only_of_what_the_facilitator_proposes(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "introduction_screening", True)
    w = world(client, session)
    first = express(client, w).json()
    second = express(client, w, w.others[0]).json()
    assert first["state"] == second["state"] == "interest_expressed"
    assert client.get("/api/v1/introductions", headers=w.owner.headers).json() == []
    url = f"/api/v1/introductions/{first['id']}"
    assert client.get(url, headers=w.owner.headers).status_code == 404
    # A member cannot screen or propose (403 whatever the id, so it tells nothing); the
    # facilitator does.
    for headers in (w.owner.headers, w.requester.headers, w.third.headers):
        assert client.post(f"{url}/screen", headers=headers, json={}).status_code == 403
    note = {"note": "Permis ICPE vérifié"}
    screened = client.post(f"{url}/screen", headers=w.facilitator, json=note)
    assert screened.status_code == 200, screened.text
    assert screened.json()["screening_note"] == note["note"]
    queue = client.get("/api/v1/introductions?state=screening", headers=w.facilitator).json()
    assert [i["id"] for i in queue] == [first["id"]]
    seen = client.get(url, headers=w.requester.headers).json()
    assert seen["state"] == "screening" and "screening_note" not in {
        k for k, v in seen.items() if v is not None
    }
    proposed = client.post(f"{url}/propose", headers=w.facilitator, json={})
    assert proposed.json()["state"] == "proposed"
    assert client.get(url, headers=w.owner.headers).json()["state"] == "proposed"
    # A proposal twice is a 409 naming the state.
    again = client.post(f"{url}/propose", headers=w.facilitator, json={})
    assert again.status_code == 409 and "proposed" in again.json()["detail"]
    # The facilitator declines the other in screening: its owner never hears of it.
    other = f"/api/v1/introductions/{second['id']}"
    assert client.post(f"{other}/decline", headers=w.facilitator).status_code == 200
    owned = client.get("/api/v1/introductions", headers=w.owner.headers).json()
    assert [i["id"] for i in owned] == [first["id"]]


def test_when_the_requester_confirms_the_reveal_waits_for_it(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "introduction_requester_confirms", True)
    w = world(client, session)
    url = f"/api/v1/introductions/{express(client, w).json()['id']}"
    early = client.post(f"{url}/accept", headers=w.requester.headers)
    assert early.status_code == 403  # the owner answers first
    accepted = client.post(f"{url}/accept", headers=w.owner.headers).json()
    assert accepted["state"] == "accepted" and accepted["counterpart"] is None
    assert client.post(f"{url}/accept", headers=w.owner.headers).status_code == 403
    mine = client.get(url, headers=w.requester.headers).json()
    assert mine["next_action"] == "confirm (accept), or withdraw"
    assert leaks(str(mine), w.owner) == []
    confirmed = client.post(f"{url}/accept", headers=w.requester.headers).json()
    assert confirmed["state"] == "revealed"
    assert confirmed["counterpart"]["legal_name"] == w.owner.secrets[0]
    owner_view = client.get(url, headers=w.owner.headers).json()
    assert owner_view["counterpart"]["legal_name"] == w.requester.secrets[0]


def test_a_member_starts_from_a_match_only_once_the_facilitator_suggested_it(
    client: TestClient, session: Session
) -> None:
    from marketplace.matching.models import Match

    w = world(client, session)
    session.expire_all()
    match = session.exec(
        select(Match).where(
            Match.request_flow_id == w.requester.member.flow_id,
            Match.offer_flow_id == w.owner.member.flow_id,
        )
    ).first()
    if match is None:
        pytest.skip("the engine found no match between the two flows")
    body = {"match_id": str(match.id)}
    hidden = client.post("/api/v1/introductions", headers=w.requester.headers, json=body)
    assert hidden.status_code == 404 and hidden.json()["field"] == "match_id"
    suggested = client.post(f"/api/v1/matches/{match.id}/suggest", headers=w.facilitator)
    assert suggested.status_code == 200
    third = client.post("/api/v1/introductions", headers=w.third.headers, json=body)
    assert third.status_code == 404
    created = client.post("/api/v1/introductions", headers=w.requester.headers, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["match_id"] == str(match.id)
    owner_of_flow = client.get("/api/v1/introductions", headers=w.owner.headers).json()
    assert [i["side"] for i in owner_of_flow] == ["owner"]
    both = client.post(
        "/api/v1/introductions",
        headers=w.requester.headers,
        json={"match_id": str(match.id), "listing_id": w.listing_id},
    )
    assert both.status_code == 422 and both.json()["field"] == "listing_id"


def test_after_a_key_rotation_and_the_old_key_gone_the_reveal_still_opens_identities(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = world(client, session)
    url = f"/api/v1/introductions/{express(client, w).json()['id']}"
    said = {"body": "Livraison possible par barge ?"}
    assert client.post(f"{url}/messages", headers=w.owner.headers, json=said).status_code == 201
    current = get_settings().vault_keks
    new = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setattr(get_settings(), "vault_keks", f"rotated:{new},{current}")
    vault.clear_key_cache()
    assert rotate_keys(session).companies >= 2
    session.commit()
    monkeypatch.setattr(get_settings(), "vault_keks", f"rotated:{new}")
    vault.clear_key_cache()
    try:
        revealed = client.post(f"{url}/accept", headers=w.owner.headers)
        assert revealed.status_code == 200, revealed.text
        assert revealed.json()["counterpart"]["legal_name"] == w.requester.secrets[0]
        theirs = client.get(url, headers=w.requester.headers).json()
        assert theirs["counterpart"]["siret"] == w.owner.secrets[1]
        messages = client.get(f"{url}/messages", headers=w.requester.headers).json()
        assert [m["body"] for m in messages] == [said["body"]]
    finally:
        vault.clear_key_cache()


@pytest.mark.parametrize("refusal", ["decline", "withdraw"])
def test_an_owner_refusing_after_its_acceptance_looks_like_a_withdrawn_listing(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch, refusal: str
) -> None:
    """The attack: with the requester asked to confirm, the owner accepts (the requester is told
    so), then declines or withdraws. Were the decline silent for a while, the requester's
    confirmation in that while would be refused as "accepted", where an accepted introduction
    reveals: it would know it was refused. Whatever the owner does, the requester must read what
    it reads when the listing is withdrawn after the acceptance: same words, same fields, at
    once (a withdrawn listing is not available at once)."""
    monkeypatch.setattr(get_settings(), "introduction_requester_confirms", True)
    # The longest silence the settings allow for: no random delay may save the owner here.
    monkeypatch.setattr(get_settings(), "introduction_silent_delay_hours", 1000.0)
    w = world(client, session)
    refused_id = express(client, w).json()["id"]
    gone_id = express(client, w, w.others[0]).json()["id"]
    owners = ((refused_id, w.owner.headers), (gone_id, w.neighbours[0].headers))
    for intro_id, headers in owners:
        accepted = client.post(f"/api/v1/introductions/{intro_id}/accept", headers=headers)
        assert accepted.json()["state"] == "accepted", accepted.text
    for intro_id in (refused_id, gone_id):
        mine = client.get(f"/api/v1/introductions/{intro_id}", headers=w.requester.headers)
        assert mine.json()["next_action"] == "confirm (accept), or withdraw"
    refused = client.post(f"/api/v1/introductions/{refused_id}/{refusal}", headers=w.owner.headers)
    assert refused.status_code == 200, refused.text
    withdrawn = client.post(
        f"/api/v1/listings/{w.others[0]}/withdraw", headers=w.neighbours[0].headers
    )
    assert withdrawn.status_code == 200, withdrawn.text

    def answers(intro_id: str, listing_id: str) -> list[Any]:
        url = f"/api/v1/introductions/{intro_id}"
        headers = w.requester.headers
        return [
            client.get(url, headers=headers),
            client.get(f"{url}/messages", headers=headers),
            client.post(f"{url}/accept", headers=headers),
            client.post(f"{url}/decline", headers=headers),
            client.post(f"{url}/messages", headers=headers, json={"body": "Toujours preneurs"}),
            client.post(f"{url}/withdraw", headers=headers),
            client.get(url, headers=headers),
            express(client, w, listing_id),
        ]

    pairs = zip(answers(refused_id, w.listing_id), answers(gone_id, w.others[0]), strict=True)
    for refused_answer, gone in pairs:
        assert refused_answer.status_code == gone.status_code, (refused_answer.text, gone.text)
        assert _without_ids(refused_answer.json()) == _without_ids(gone.json())
    seen = client.get(f"/api/v1/introductions/{refused_id}", headers=w.requester.headers).json()
    assert seen["state"] == "not_available" and seen["counterpart"] is None
    assert leaks(str(seen), w.owner) == []
    # The notices tell it the same: one "accepted" each, and nothing after.
    kinds = [
        (n["introduction_id"], n["kind"])
        for n in client.get("/api/v1/introductions/notices", headers=w.requester.headers).json()
    ]
    assert sorted(k for i, k in kinds if i == refused_id) == ["introduction.accepted"]
    assert sorted(k for i, k in kinds if i == gone_id) == ["introduction.accepted"]


def test_notices_are_marked_read_one_or_all_and_only_ones_own(
    client: TestClient, session: Session
) -> None:
    w = world(client, session)
    for listing_id in (w.listing_id, w.others[0]):
        intro_id = express(client, w, listing_id).json()["id"]
    (owners_notice,) = client.get("/api/v1/introductions/notices", headers=w.owner.headers).json()
    assert owners_notice["read_at"] is None
    url = f"/api/v1/introductions/notices/{owners_notice['id']}/read"
    # Another company's notice is no notice of its own: 404, and still unread.
    for stranger in (w.requester, w.third):
        foreign = client.post(url, headers=stranger.headers)
        assert foreign.status_code == 404, foreign.text
        assert (foreign.json()["error"], foreign.json()["field"]) == ("NotFound", "notice_id")
    assert client.post("/api/v1/introductions/notices/read", headers=w.third.headers).json() == {
        "marked": 0
    }
    listed = client.get("/api/v1/introductions/notices", headers=w.owner.headers).json()
    assert listed[0]["read_at"] is None
    marked = client.post(url, headers=w.owner.headers)
    assert marked.status_code == 200, marked.text
    first = marked.json()["read_at"]
    assert first is not None
    # Marking again keeps the first time.
    assert client.post(url, headers=w.owner.headers).json()["read_at"] == first
    bad = client.post("/api/v1/introductions/notices/not-an-id/read", headers=w.owner.headers)
    assert bad.status_code == 422 and bad.json()["field"] == "notice_id"
    # All at once: the neighbour's one notice; then nothing left to mark.
    neighbour = w.neighbours[0].headers
    assert client.post("/api/v1/introductions/notices/read", headers=neighbour).json() == {
        "marked": 1
    }
    assert client.post("/api/v1/introductions/notices/read", headers=neighbour).json() == {
        "marked": 0
    }
    (read,) = client.get("/api/v1/introductions/notices", headers=neighbour).json()
    assert read["read_at"] is not None and read["introduction_id"] == intro_id
    spec = client.get("/api/v1/openapi.json").json()["paths"]
    one = spec["/api/v1/introductions/notices/{notice_id}/read"]["post"]["responses"]
    every = spec["/api/v1/introductions/notices/read"]["post"]["responses"]
    assert {"401", "403", "404", "409", "422"} <= set(one) and {"401", "403", "409"} <= set(every)
