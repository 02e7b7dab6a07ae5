"""Translations of the web pages: gettext catalogues compiled at start-up, and the page's locale."""

from __future__ import annotations

import gettext
from collections.abc import Callable
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from starlette.requests import Request

from core.settings import get_settings

LOCALES = ("fr", "en")
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANG_COOKIE = "symbiose_lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600


class Translate(Protocol):
    """`_("Saved %(name)s", name=...)`: the message in the page's language, then formatted."""

    def __call__(self, message: str, **params: Any) -> str: ...


def N_(message: str) -> str:
    """Marks a message for the catalogues where it is defined; it is translated where shown."""
    return message


def catalogue_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"


@lru_cache
def translations(locale: str) -> gettext.GNUTranslations:
    """The compiled catalogue of `locale`, built in memory from its .po: no build step."""
    with catalogue_path(locale).open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    compiled = BytesIO()
    # Fuzzy entries are left out, as msgfmt does: a doubtful translation falls back to English.
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def load_all() -> None:
    """Compile every catalogue now, so a broken .po stops the start-up rather than a page."""
    for locale in LOCALES:
        translations(locale)


def translator(locale: str) -> Translate:
    lookup: Callable[[str], str] = translations(locale).gettext

    def translate(message: str, **params: Any) -> str:
        text = lookup(message)
        return text % params if params else text

    return translate


def page_translator(request: Request) -> Translate:
    return translator(page_locale(request))


def valid_locale(value: str | None) -> str | None:
    return value if value in LOCALES else None


def page_locale(request: Request) -> str:
    """?lang= first, then the language cookie, then the user's own setting, then the default."""
    user_locale = getattr(request.state, "user_locale", None)
    for candidate in (
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        user_locale,
    ):
        if valid_locale(candidate):
            return str(candidate)
    return get_settings().default_locale


def lang_url(request: Request, locale: str) -> str:
    """The current page in another language: same path and query, `lang` replaced."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    params.append(("lang", locale))
    return f"{request.url.path}?{urlencode(params)}"
