"""Every message of the alert e-mails is in both of their catalogues, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract
from babel.messages.pofile import read_po

from core.i18n import LOCALES
from marketplace.alerts import mail

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def used_messages() -> set[str]:
    with Path(mail.__file__).open("rb") as handle:
        keywords = {"N_": None, "_": None}
        return {
            message
            for _line, message, _comments, _context in extract("python", handle, keywords=keywords)
            if isinstance(message, str) and message
        }


def test_the_extraction_finds_the_mails_messages() -> None:
    assert {"Hello,", "Offer", "in batches", "Location: %(place)s"} <= used_messages()


@pytest.mark.parametrize("locale", LOCALES)
def test_the_catalogue_holds_exactly_the_messages_used(locale: str) -> None:
    with mail.catalogue_path(locale).open("rb") as handle:
        catalogue = read_po(handle, locale=locale)
    translated = {m.id: m.string for m in catalogue if m.id}
    assert set(translated) == used_messages()
    for msgid, text in translated.items():
        assert isinstance(msgid, str) and isinstance(text, str) and text, msgid
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(text)), msgid
