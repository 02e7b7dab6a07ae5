"""Every generalised value the catalogue can show has plain words in French and in English: each
level of the material and location ladders, each quantity band and « présent », each temperature
and distance band. A new level, band or class added without its words fails here."""

from __future__ import annotations

import re

import pytest

from core.i18n import LOCALES
from core.settings import get_settings
from marketplace.catalogue import explanations
from marketplace.catalogue.explanations import Note
from privacy.generalisation import (
    DISTANCE_BANDS,
    FARTHEST_BAND,
    KIND_LADDER,
    MATERIAL_LADDER,
    QUANTITY_BOUNDS,
    TEMPERATURE_LABELS,
    UNIT_LABELS,
    LocationLevel,
    MaterialLevel,
    distance_band,
    quantity_class,
)

# Words only one of the two languages uses: a text in the wrong language shows one of them.
FRENCH = re.compile(r"\b(le|la|les|des|est|dans|entreprises|au moins|ou)\b")
ENGLISH = re.compile(r"\b(the|is|are|in|of|companies|at least|or)\b")


def every_note() -> list[tuple[str, str, Note]]:
    """(what, locale, note) for everything the generaliser can produce."""
    notes: list[tuple[str, str, Note]] = []
    quantities = (0.0, 5.0, *QUANTITY_BOUNDS, QUANTITY_BOUNDS[-1] * 7)
    labels = {
        q.label
        for unit in UNIT_LABELS
        for q in (quantity_class("gas", amount, base_unit=unit) for amount in quantities)
    }
    # Every distance the server can compute lands in a band that has words.
    bands = {distance_band(km) for km in (0, 9.99, 10, 29, 30, 79, 80, 199, 200, 5000)}
    assert bands == {*(label for _, label in DISTANCE_BANDS), FARTHEST_BAND}
    for locale in LOCALES:
        for pooled in (False, True):
            for level in MaterialLevel:
                notes.append(
                    (f"material {level} {pooled}", locale, _material(level, locale, pooled))
                )
            for location in LocationLevel:
                notes.append(
                    (
                        f"location {location} {pooled}",
                        locale,
                        explanations.location_note(location, locale, pooled),
                    )
                )
            for band in (None, *range(len(QUANTITY_BOUNDS) + 1)):
                notes.append(
                    (
                        f"quantity {band} {pooled}",
                        locale,
                        explanations.quantity_note(band, locale, pooled),
                    )
                )
            for label in labels:
                notes.append(
                    (
                        f"label {label}",
                        locale,
                        explanations.quantity_label_note(label, locale, pooled),
                    )
                )
        for label in TEMPERATURE_LABELS:
            notes.append(
                (f"temperature {label}", locale, explanations.temperature_note(label, locale))
            )
        for band in sorted(bands):
            for to_requester in (False, True):
                notes.append(
                    (
                        f"distance {band} {to_requester}",
                        locale,
                        explanations.distance_note(band, locale, to_requester),
                    )
                )
        notes.append(("requester quantity", locale, explanations.requester_quantity_note(locale)))
        notes.append(("requester sector", locale, explanations.requester_sector_note(locale)))
    return notes


def _material(level: MaterialLevel, locale: str, pooled: bool) -> Note:
    return explanations.material_note(level, locale, pooled)


def test_the_ladders_use_only_levels_with_words() -> None:
    for material, location in (*MATERIAL_LADDER, *KIND_LADDER):
        assert material in explanations.MATERIAL_LEVELS
        assert location in explanations.LOCATION_LEVELS


@pytest.mark.parametrize("what, locale, note", every_note(), ids=lambda v: str(v)[:40])
def test_every_generalised_value_has_words_in_both_languages(
    what: str, locale: str, note: Note
) -> None:
    assert note.text.strip(), what
    assert "%(" not in note.text and "%%" not in note.text, what  # every placeholder filled
    assert note.section in explanations.HELP_SECTIONS, what
    if locale == "fr":
        assert FRENCH.search(note.text), f"{what}: not French: {note.text}"
    else:
        assert ENGLISH.search(note.text) and not re.search(
            r"[éèà]\w", note.text.replace("département", "")
        ), f"{what}: not English: {note.text}"


def test_the_words_say_the_settings_k(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "k_anonymity", 7)
    text = explanations.location_note(LocationLevel.REGION, "fr").text
    assert "ne réunissait pas 7 entreprises" in text
    assert (
        "at least 7 distinct companies" in explanations.material_note(MaterialLevel.CODE, "en").text
    )


def test_a_pool_and_a_single_listing_are_explained_apart() -> None:
    """« présent » means one company dominates a pool; on a single listing it only means the
    listing is not placed yet (a single listing's band never depends on others)."""
    pooled = explanations.quantity_note(None, "fr", pooled=True).text
    single = explanations.quantity_note(None, "fr", pooled=False).text
    assert "85 %" in pooled and "offre groupée" in pooled
    assert "85" not in single and "catalogue" in single
    assert explanations.quantity_label_note("présent", "en", True).text.startswith("“Present”")


def test_an_unknown_value_has_no_words_rather_than_wrong_ones() -> None:
    for call in (
        lambda: explanations.quantity_note(6, "fr"),
        lambda: explanations.quantity_label_note("beaucoup", "fr"),
        lambda: explanations.temperature_note("tiède", "fr"),
        lambda: explanations.distance_note("5 km", "fr"),
    ):
        with pytest.raises(ValueError):
            call()


def test_the_shown_material_level_is_the_finest_public_column() -> None:
    level = explanations.shown_material_level
    assert level("100102", "1001", "10") is MaterialLevel.CODE
    assert level(None, "1001", "10") is MaterialLevel.SUBCHAPTER
    assert level(None, None, "10") is MaterialLevel.CHAPTER
    assert level(None, None, None) is MaterialLevel.FAMILY
