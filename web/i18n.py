"""Translations of the web pages: gettext catalogues compiled at start-up, and the page's locale."""

from __future__ import annotations

import gettext
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

from starlette.requests import Request

from core.i18n import LOCALES as LOCALES  # re-exported: the pages import them from here
from core.i18n import N_ as N_
from core.i18n import Translate as Translate
from core.i18n import compile_catalogue, translator_of
from core.settings import get_settings

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANG_COOKIE = "symbiose_lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600


def catalogue_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"


@lru_cache
def translations(locale: str) -> gettext.GNUTranslations:
    """The compiled catalogue of `locale`, built in memory from its .po: no build step."""
    return compile_catalogue(catalogue_path(locale), locale)


def load_all() -> None:
    """Compile every catalogue now, so a broken .po stops the start-up rather than a page."""
    for locale in LOCALES:
        translations(locale)


def translator(locale: str) -> Translate:
    return translator_of(translations(locale))


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
