"""Every message of the web pages is in both catalogues and translated into French."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

from web.i18n import LOCALES, catalogue_path, translations, translator

WEB = Path(__file__).resolve().parent.parent / "web"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def used_messages() -> dict[str, str]:
    """msgid → where it is first used, from the templates (`_()`, `{% trans %}`) and from the
    Python modules (`N_()`, `translate("...")`)."""
    found: dict[str, str] = {}
    options = {"newstyle_gettext": "true", "silent": "false"}
    for path in sorted((WEB / "templates").glob("*.html")):
        with path.open("rb") as handle:
            for line, _func, message, _comments in babel_extract(
                handle, ("_", "gettext", "ngettext"), [], options
            ):
                for msgid in message if isinstance(message, tuple) else (message,):
                    if msgid:
                        found.setdefault(msgid, f"{path.name}:{line}")
    for path in sorted(WEB.glob("*.py")):
        with path.open("rb") as handle:
            keywords = {"N_": None, "translate": None, "_": None}
            for line, python_id, _comments, _context in extract(
                "python", handle, keywords=keywords
            ):
                if isinstance(python_id, str) and python_id:
                    found.setdefault(python_id, f"{path.name}:{line}")
    return found


def catalogue(locale: str) -> Catalog:
    # abort_invalid: an entry that lost its msgstr (a merge of two catalogues) is an error, not
    # an entry silently swallowed with its neighbour.
    with catalogue_path(locale).open("rb") as handle:
        return read_po(handle, locale=locale, abort_invalid=True)


def test_the_extraction_finds_the_pages_messages() -> None:
    messages = used_messages()
    # A sample from templates, {% trans %}-free `_()` calls and Python-side labels.
    for msgid in (
        "My flows",
        "List of Waste code",
        "hazardous",
        "Offer",
        "per year",
        "This field is required.",
    ):
        assert msgid in messages, msgid


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_in_the_catalogue(locale: str) -> None:
    ids = {m.id for m in catalogue(locale) if m.id}
    missing = {msgid: where for msgid, where in used_messages().items() if msgid not in ids}
    assert not missing, f"add to web/locale/{locale}/LC_MESSAGES/messages.po: {missing}"


@pytest.mark.parametrize("locale", LOCALES)
def test_no_catalogue_keeps_messages_nothing_uses(locale: str) -> None:
    used = used_messages()
    stale = [m.id for m in catalogue(locale) if m.id and m.id not in used]
    assert not stale, f"remove from web/locale/{locale}/LC_MESSAGES/messages.po: {stale}"


def test_every_message_has_a_french_translation_with_the_same_placeholders() -> None:
    problems = []
    for message in catalogue("fr"):
        if not message.id:
            continue
        if not message.string or message.fuzzy:
            problems.append(f"untranslated or fuzzy: {message.id!r}")
        elif set(PLACEHOLDER.findall(str(message.id))) != set(
            PLACEHOLDER.findall(str(message.string))
        ):
            problems.append(f"placeholders differ: {message.id!r} → {message.string!r}")
    assert not problems, "\n".join(problems)


def test_the_product_vocabulary_is_used() -> None:
    """PRODUCT.md's "Words on screen": the French words practitioners use."""
    french = translator("fr")
    assert french("List of Waste code").startswith("Code déchet")
    assert french("hazardous") == "dangereux"
    assert french("Facilitator") == "Animateur"
    assert french("Offer") == "Offre" and french("Request") == "Demande"
    assert "chaleur fatale" in french("incl. waste heat")


def test_catalogues_compile_in_memory() -> None:
    assert translations("fr").gettext("My flows") == "Mes flux"
    # English ids are the English text: an empty translation falls back to the id.
    assert translations("en").gettext("My flows") == "My flows"
    assert translator("fr")("At most %(count)s characters.", count=3) == "Au plus 3 caractères."
