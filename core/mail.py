"""Outgoing e-mail: the one SMTP gateway, to the relay named by the settings (smtp_host, smtp_port),
over TLS or STARTTLS and with a login when the settings ask for them (smtp_security, smtp_username).

Connection failures surface as OSError or smtplib.SMTPException so that tasks can retry them; a
recipient the relay refuses for good surfaces as MailRefused, which retrying would not cure.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from core.models import utcnow
from core.settings import get_settings

SMTP_TIMEOUT_SECONDS = 15.0

SendMail = Callable[[EmailMessage], None]


class MailRefused(Exception):
    """The relay refused every recipient with a permanent (5xx) answer."""


def compose(to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text UTF-8 message from the platform's sender address."""
    settings = get_settings()
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    # Header values may not hold line breaks (header injection): fold them into spaces.
    message["Subject"] = " ".join(subject.split())
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=settings.mail_from.rpartition("@")[2] or None)
    message.set_content(body, charset="utf-8")
    return message


def _connect() -> smtplib.SMTP:
    """A connection to the relay, encrypted and logged in as the settings say. A certificate that
    does not verify, or a relay without STARTTLS when it is asked for, fails here: mail is never
    sent in clear to a relay configured for TLS."""
    settings = get_settings()
    host, port = settings.smtp_host, settings.smtp_port
    context = ssl.create_default_context(cafile=settings.smtp_ca_file or None)
    smtp: smtplib.SMTP
    if settings.smtp_security == "tls":
        smtp = smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT_SECONDS, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_SECONDS)
    try:
        if settings.smtp_security == "starttls":
            smtp.starttls(context=context)
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
    except BaseException:
        smtp.close()
        raise
    return smtp


@contextmanager
def mail_session() -> Iterator[SendMail]:
    """One SMTP connection for a batch of messages; yields the function that sends one."""
    with _connect() as smtp:

        def send(message: EmailMessage) -> None:
            try:
                smtp.send_message(message)
            except smtplib.SMTPRecipientsRefused as exc:
                if all(code >= 500 for code, _ in exc.recipients.values()):
                    raise MailRefused("the relay refused the recipient") from exc
                raise

        yield send
