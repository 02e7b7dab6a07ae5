"""Mailing a company's notices from an outbox table (introductions, contracts): each row names a
recipient company, a kind and a payload; it is mailed to the company's active users once its
transaction committed, and a sweeper re-sends what a failure left (ARCHITECTURE.md, outbox).
The tables differ by what they are about; how a row is sent and found again is the same."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from core.db import unit_of_work
from core.mail import MailRefused, SendMail, compose, mail_session
from core.models import utcnow
from marketplace.accounts.models import User

log = logging.getLogger(__name__)


def send_notice(
    session: Session,
    table: type[Any],
    notice_id: uuid.UUID,
    send: SendMail,
    words: Callable[[Any], tuple[str, str]],
) -> bool:
    """Mail one notice of ``table`` to its recipient company's active users and mark it sent;
    True when sent. ``words``: the notice's subject and body. The row is locked (skipped when
    another worker holds it) and `sent_at` is written only after the relay took every message,
    so a failure leaves it to the sweeper."""
    notice = session.exec(
        select(table)
        .where(table.id == notice_id, col(table.sent_at).is_(None))
        .with_for_update(skip_locked=True)
    ).first()
    if notice is None:
        return False
    notice.attempts += 1
    users = session.exec(
        select(User).where(
            User.company_id == notice.recipient_company_id, col(User.is_active).is_(True)
        )
    ).all()
    subject, body = words(notice)
    try:
        for user in users:
            send(compose(user.email, subject, body))
    except MailRefused:
        log.warning("%s %s refused by the relay", table.__tablename__, notice.id)
        session.add(notice)
        return False
    notice.sent_at = utcnow()
    session.add(notice)
    session.flush()
    return True


def unsent_notices(
    session: Session, table: type[Any], since: datetime, most: int, attempts: int
) -> list[uuid.UUID]:
    """The notices of ``table`` not sent yet since ``since``, oldest first, fewer than
    ``attempts`` tries each (past that a row stays readable in the app only)."""
    query = (
        select(table.id)
        .where(
            col(table.sent_at).is_(None),
            col(table.created_at) >= since,
            col(table.attempts) < attempts,
        )
        .order_by(col(table.created_at))
        .limit(most)
    )
    return list(session.exec(query).all())


def mail_each(
    notice_ids: list[uuid.UUID], send_one: Callable[[Session, uuid.UUID, SendMail], bool]
) -> int:
    """A task's sending of notices through one relay session, one transaction per notice:
    those sent before a failure stay recorded as sent. The number sent."""
    sent = 0
    with mail_session() as send:
        for notice_id in notice_ids:
            with unit_of_work() as session:
                sent += send_one(session, notice_id, send)
    return sent
