"""Contracts in the background: notices sent after commit and swept again, contracts past their
end date expired, and the reminders (end in 30 days, deliveries overdue), all by beat."""

from __future__ import annotations

import logging
import smtplib
import uuid
from datetime import timedelta
from typing import Any

from core.db import unit_of_work
from core.models import utcnow
from core.worker import celery_app
from marketplace.accounts.notices import mail_each
from marketplace.exchanges import outbox, reminders

log = logging.getLogger(__name__)

MAIL_ERRORS = (OSError, smtplib.SMTPException)
RESEND_WITHIN = timedelta(days=3)


def _send(ids: list[uuid.UUID]) -> int:
    return mail_each(ids, outbox.send_one)


@celery_app.task(name="exchanges.send_notices", bind=True, acks_late=True)
def send_notices(self: Any, notice_ids: list[str]) -> int:
    """Idempotent: a notice already sent is skipped; a relay down leaves it to the sweeper."""
    try:
        return _send([uuid.UUID(i) for i in notice_ids])
    except MAIL_ERRORS as exc:
        log.warning("contract notices left unsent: %s", type(exc).__name__)
        return 0


@celery_app.task(name="exchanges.resend_notices", acks_late=True)
def resend_notices() -> int:
    """Beat: send the notices a crash or a relay outage left unsent."""
    with unit_of_work() as session:
        ids = outbox.unsent(session, utcnow() - RESEND_WITHIN)
    return _send(ids) if ids else 0


@celery_app.task(name="exchanges.expire_due", acks_late=True)
def expire_due() -> int:
    """Beat: contracts past their end date expire. Idempotent."""
    with unit_of_work() as session:
        return reminders.expire_due(session)


@celery_app.task(name="exchanges.remind_due", acks_late=True)
def remind_due() -> int:
    """Beat: contracts ending within 30 days, and active ones without a delivery in their
    expected period, get one notice each (once per period). Idempotent."""
    with unit_of_work() as session:
        return reminders.remind_due(session)
