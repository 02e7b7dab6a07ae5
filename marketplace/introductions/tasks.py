"""Introductions in the background: their notices sent after commit and swept again, and
pending introductions expired (beat)."""

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
from marketplace.introductions import outbox, service

log = logging.getLogger(__name__)

MAIL_ERRORS = (OSError, smtplib.SMTPException)
# Past this age a notice is no longer news: it stays in the app, and no late e-mail goes out.
RESEND_WITHIN = timedelta(days=3)


def _send(ids: list[uuid.UUID]) -> int:
    return mail_each(ids, outbox.send_one)


@celery_app.task(name="introductions.send_outbox", bind=True, acks_late=True)
def send_outbox(self: Any, message_ids: list[str]) -> int:
    """Idempotent: a notice already sent is skipped. A relay that is down leaves the rows
    unsent for the sweeper rather than failing whatever committed them."""
    try:
        return _send([uuid.UUID(i) for i in message_ids])
    except MAIL_ERRORS as exc:
        log.warning("introduction notices left unsent: %s", type(exc).__name__)
        return 0


@celery_app.task(name="introductions.resend_outbox", acks_late=True)
def resend_outbox() -> int:
    """Beat: send the notices a crash or a relay outage left unsent."""
    with unit_of_work() as session:
        ids = outbox.unsent(session, utcnow() - RESEND_WITHIN)
    return _send(ids) if ids else 0


@celery_app.task(name="introductions.expire_due", acks_late=True)
def expire_due() -> int:
    """Beat: pending introductions past their deadline expire. Idempotent."""
    with unit_of_work() as session:
        return service.expire_due(session)
