"""Background task of the alerts: match changed listings against saved searches, then mail."""

from __future__ import annotations

import logging
import smtplib
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from core.db import unit_of_work
from core.mail import mail_session
from core.models import utcnow
from core.worker import celery_app
from marketplace.alerts import service

log = logging.getLogger(__name__)
MAIL_ERRORS = (OSError, smtplib.SMTPException)


@celery_app.task(
    name="alerts.match_listings",
    bind=True,
    acks_late=True,
    autoretry_for=MAIL_ERRORS,
    max_retries=3,
    # A relay that is down tends to stay down a while: wait about 1, 2 then 4 minutes.
    retry_backoff=60,
    retry_backoff_max=600,
)
def match_listings(self: Any, listing_ids: list[str]) -> int:
    """Notify every saved search these listings fit; returns how many notifications are new.

    Safe to run twice or to retry: notifications are keyed by listing revision, and only those
    not yet e-mailed are mailed.
    """
    ids = [uuid.UUID(listing_id) for listing_id in listing_ids]
    with unit_of_work() as session:
        created = service.notify_matches(session, ids)
    # Committed before any e-mail goes out: a relay failure never loses an alert.
    try:
        _send_pending(ids)
    except MAIL_ERRORS as exc:
        if not self.request.is_eager:
            raise  # autoretry_for: Celery runs the task again later
        # Run in-process (no broker): there is no queue to retry from, and raising would only
        # surface in whatever committed the listing. The alert stays in the app, unmailed, and
        # the next run for these listings mails it.
        log.warning("alert e-mails left unsent, relay unreachable: %s", type(exc).__name__)
    return len(created)


def _send_pending(listing_ids: Sequence[uuid.UUID]) -> int:
    """Mail the alerts about these listings not mailed yet; returns how many went out."""
    with unit_of_work() as session:
        pending = service.pending_emails(session, listing_ids)
    if not pending:
        return 0
    sent = 0
    with mail_session() as send:
        for notification_id in pending:
            # One transaction per e-mail: those sent before a failure stay recorded as sent.
            with unit_of_work() as session:
                sent += service.email_notification(session, notification_id, send)
    return sent


# Past this age an alert is no longer news: it stays in the app, and no late e-mail goes out.
RESEND_WITHIN = timedelta(days=2)


@celery_app.task(name="alerts.resend_unsent", acks_late=True)
def resend_unsent() -> int:
    """Mail the alerts whose task gave up (the relay was down longer than its retries last),
    run by beat; returns how many e-mails went out. A relay still down fails this run, and the
    next one tries again. Never twice for one alert: email_notification locks and marks it."""
    with unit_of_work() as session:
        listing_ids = service.unsent_listings(session, utcnow() - RESEND_WITHIN)
    return _send_pending(listing_ids) if listing_ids else 0
