"""Background task of accounts: tell an account's owner that its address was added again."""

from __future__ import annotations

import logging
import smtplib
import uuid
from typing import Any

from core.db import unit_of_work
from core.mail import MailRefused, mail_session
from core.models import utcnow
from core.settings import get_settings
from core.worker import celery_app
from marketplace.accounts.mail import existing_account_message, password_reset_message
from marketplace.accounts.models import PasswordReset, User

log = logging.getLogger(__name__)
MAIL_ERRORS = (OSError, smtplib.SMTPException)


@celery_app.task(
    name="accounts.notify_existing_account",
    bind=True,
    autoretry_for=MAIL_ERRORS,
    max_retries=3,
    retry_backoff=60,
)
def notify_existing_account(self: Any, user_id: str) -> bool:
    """Mail the owner; True when the relay took it. Run in-process, a relay failure is logged."""
    with unit_of_work() as session:
        user = session.get(User, uuid.UUID(user_id))
        if user is None or not user.is_active:
            return False
        message = existing_account_message(user.email, user.locale)
    try:
        with mail_session() as send:
            send(message)
    except MailRefused:
        log.warning("existing-account notice refused by the relay")
        return False
    except MAIL_ERRORS as exc:
        if not self.request.is_eager:
            raise
        log.warning("existing-account notice unsent, relay unreachable: %s", type(exc).__name__)
        return False
    return True


@celery_app.task(
    name="accounts.send_password_reset",
    bind=True,
    autoretry_for=MAIL_ERRORS,
    max_retries=3,
    retry_backoff=30,
)
def send_password_reset(self: Any, token_hash: str, link: str) -> bool:
    """Mail the reset link; True when the relay took it. The row is read again: a link already
    used, expired or superseded by the time the task runs is not sent."""
    with unit_of_work() as session:
        reset = session.get(PasswordReset, token_hash)
        if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
            return False
        user = session.get(User, reset.user_id)
        if user is None or not user.is_active:
            return False
        minutes = get_settings().password_reset_ttl_minutes
        message = password_reset_message(user.email, user.locale, link, minutes)
    try:
        with mail_session() as send:
            send(message)
    except MailRefused:
        log.warning("password reset mail refused by the relay")
        return False
    except MAIL_ERRORS as exc:
        if not self.request.is_eager:
            raise
        log.warning("password reset mail unsent, relay unreachable: %s", type(exc).__name__)
        return False
    return True
