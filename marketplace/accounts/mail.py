"""The e-mail telling an account's owner that someone tried to add their address again, in the
owner's language. Its words are in the gettext catalogues of marketplace/accounts/locale."""

from __future__ import annotations

from email.message import EmailMessage
from functools import lru_cache
from pathlib import Path

from core.i18n import LOCALES, Translate, compile_catalogue, translator_of
from core.mail import compose
from core.settings import get_settings

LOCALE_DIR = Path(__file__).resolve().parent / "locale"


@lru_cache
def translator(locale: str) -> Translate:
    return translator_of(compile_catalogue(LOCALE_DIR / locale / "LC_MESSAGES" / "mail.po", locale))


def existing_account_message(to: str, locale: str | None) -> EmailMessage:
    # Says neither who tried nor for which company: the owner learns only that it happened.
    _ = translator(locale if locale in LOCALES else get_settings().default_locale)
    body = "\n\n".join(
        [
            _("Hello,"),
            _(
                "Someone tried to create a Symbiose account with this e-mail address, which "
                "already has one. Your account has not been changed."
            ),
            _(
                "If you did not expect this, there is nothing to do. You can sign in at "
                "%(url)s as usual.",
                url=get_settings().base_url + "/login",
            ),
            "— Symbiose",
        ]
    )
    return compose(to, _("Your Symbiose account"), body + "\n")


def password_reset_message(to: str, locale: str | None, link: str, minutes: int) -> EmailMessage:
    """The reset link, in the owner's language. Says how long it works and that it works once,
    and what to do when the owner did not ask for it (nothing: the password is unchanged)."""
    _ = translator(locale if locale in LOCALES else get_settings().default_locale)
    body = "\n\n".join(
        [
            _("Hello,"),
            _(
                "Someone asked to reset the password of the Symbiose account of this e-mail "
                "address. To choose a new password, open this link:"
            ),
            link,
            _(
                "The link works once, within %(minutes)s minutes. Once the password is changed, "
                "every session and API token of the account is closed.",
                minutes=minutes,
            ),
            _(
                "If you did not ask for it, there is nothing to do: your password has not been "
                "changed."
            ),
            "— Symbiose",
        ]
    )
    return compose(to, _("Reset your Symbiose password"), body + "\n")
