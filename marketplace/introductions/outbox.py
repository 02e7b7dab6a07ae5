"""The introductions' notifications: written as outbox rows in the deciding transaction, then
sent (e-mail, and kept as the in-app notice) by a task after commit, and again by a sweeper.

A payload holds ids and states only: an e-mail tells its reader where to look, never who the
counterpart is, since mail travels and is kept outside the platform's audit."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.mail import SendMail
from core.models import utcnow
from core.settings import get_settings
from core.worker import enqueue
from marketplace.accounts.notices import send_notice, unsent_notices
from marketplace.introductions.errors import NoSuchNotice
from marketplace.introductions.models import Introduction, OutboxMessage

log = logging.getLogger(__name__)

# Words of each kind of notice, French then English (the mail goes to people of both).
SUBJECTS = {
    "introduction.proposed": (
        "Symbiose : une entreprise s'intéresse à votre annonce",
        "Symbiose: a company is interested in your listing",
    ),
    "introduction.accepted": (
        "Symbiose : votre demande de mise en relation a été acceptée, à vous de confirmer",
        "Symbiose: your introduction was accepted, please confirm",
    ),
    "introduction.revealed": (
        "Symbiose : mise en relation effectuée",
        "Symbiose: introduction made",
    ),
}
# A sweeper gives up on a row after this many failed sends (it stays readable in the app).
MAX_ATTEMPTS = 10


def add(session: Session, intro: Introduction, kind: str, recipient: uuid.UUID) -> OutboxMessage:
    """One notice to `recipient` (a company), sent once this transaction commits."""
    message = OutboxMessage(
        kind=kind,
        introduction_id=intro.id,
        recipient_company_id=recipient,
        payload={"introduction_id": str(intro.id), "state": intro.state},
    )
    session.add(message)
    session.flush()
    # Imported here: the task module imports this one.
    from marketplace.introductions.tasks import send_outbox

    enqueue(session, send_outbox, [str(message.id)])
    return message


def _body(kind: str, introduction_id: str) -> str:
    french, english = SUBJECTS[kind]
    link = f"{get_settings().base_url}/introductions/{introduction_id}"
    return f"{french}\n{link}\n\n{english}\n{link}\n"


def send_one(session: Session, message_id: uuid.UUID, send: SendMail) -> bool:
    """Mail one notice to the recipient company's active users and mark it sent; True when
    sent (accounts.notices: locked, `sent_at` written once the relay took every message)."""

    def words(message: OutboxMessage) -> tuple[str, str]:
        return SUBJECTS[message.kind][0], _body(message.kind, message.payload["introduction_id"])

    return send_notice(session, OutboxMessage, message_id, send, words)


def unsent(session: Session, since: datetime, most: int = 500) -> list[uuid.UUID]:
    return unsent_notices(session, OutboxMessage, since, most, MAX_ATTEMPTS)


def mark_read(session: Session, company_id: uuid.UUID, notice_id: uuid.UUID) -> OutboxMessage:
    """Mark one of the company's notices read (again: idempotent, the first time kept); another
    company's notice is "no such notice", as one that never existed."""
    notice = session.get(OutboxMessage, notice_id)
    if notice is None or notice.recipient_company_id != company_id:
        raise NoSuchNotice(field="notice_id")
    if notice.read_at is None:
        notice.read_at = utcnow()
        session.add(notice)
        session.flush()
    return notice


def mark_all_read(session: Session, company_id: uuid.UUID) -> int:
    """Mark every unread notice of the company read; how many were."""
    result = session.execute(
        sa.update(OutboxMessage)
        .where(
            col(OutboxMessage.recipient_company_id) == company_id,
            col(OutboxMessage.read_at).is_(None),
        )
        .values(read_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def notices(session: Session, company_id: uuid.UUID) -> Sequence[OutboxMessage]:
    """The company's in-app notices, newest first."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.recipient_company_id == company_id)
        .order_by(col(OutboxMessage.created_at).desc())
        .limit(100)
    )
    return session.exec(query).all()
