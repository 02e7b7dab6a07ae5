"""Gettext catalogues compiled in memory from their .po files (no build step), for every layer
that speaks to people: the web pages (web/locale) and the e-mails (marketplace/alerts/locale).
Message ids are the English text; a locale without a translation falls back to it."""

from __future__ import annotations

import gettext
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any, Protocol

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES = ("fr", "en")


class Translate(Protocol):
    """`_("Saved %(name)s", name=...)`: the message in the reader's language, then formatted."""

    def __call__(self, message: str, **params: Any) -> str: ...


def N_(message: str) -> str:
    """Marks a message for the catalogues where it is defined; it is translated where shown."""
    return message


def compile_catalogue(path: Path, locale: str) -> gettext.GNUTranslations:
    """The .po file at ``path``, compiled in memory."""
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    compiled = BytesIO()
    # Fuzzy entries are left out, as msgfmt does: a doubtful translation falls back to English.
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def translator_of(translations: gettext.GNUTranslations) -> Translate:
    lookup: Callable[[str], str] = translations.gettext

    def translate(message: str, **params: Any) -> str:
        text = lookup(message)
        return text % params if params else text

    return translate
