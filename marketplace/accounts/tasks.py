"""Background tasks of accounts: tell an account's owner that its address was added again; issue
and mail a password reset link."""

from __future__ import annotations

import hashlib
import logging
import secrets
import smtplib
import uuid
from datetime import timedelta
from typing import Any

from sqlmodel import col, select

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


# The path of the reset form; the e-mailed link is the site's address, this, and the token.
RESET_PATH = "/password/reset/"


@celery_app.task(
    name="accounts.send_password_reset",
    bind=True,
    autoretry_for=MAIL_ERRORS,
    max_retries=3,
    retry_backoff=30,
)
def send_password_reset(self: Any, index: str) -> bool:
    """Issue a reset link to the active account whose e-mail has the blind index `index`, if
    there is one, and mail it; True when the relay took it.

    The request only enqueues this, whether or not the address has an account, so the request
    does the same work and takes the same time either way; the broker carries the blind index,
    never the address nor the token. Only the newest link works: issuing one deletes the
    account's unused older ones (a retry after a relay failure issues a fresh one)."""
    token = secrets.token_urlsafe(32)
    settings = get_settings()
    with unit_of_work() as session:
        user = session.exec(select(User).where(User.email_index == index)).first()
        if user is None or not user.is_active:
            return False
        older = select(PasswordReset).where(
            PasswordReset.user_id == user.id, col(PasswordReset.used_at).is_(None)
        )
        for row in session.exec(older).all():
            session.delete(row)
        ttl = timedelta(minutes=settings.password_reset_ttl_minutes)
        session.add(
            PasswordReset(
                token_hash=hashlib.sha256(token.encode()).hexdigest(),
                user_id=user.id,
                expires_at=utcnow() + ttl,
            )
        )
        link = settings.base_url + RESET_PATH + token
        message = password_reset_message(
            user.email, user.locale, link, settings.password_reset_ttl_minutes
        )
    # Sent once the link is committed: a link that arrives always works.
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
