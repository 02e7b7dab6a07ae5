"""Listing cards: the words a catalogue card shows, drawn from the public view alone.

A card is built from nothing but a ListingPublic, so no template that shows another company's
listing can reach its owner, site, exact quantity, price or position.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from babel.dates import format_date, format_datetime

from marketplace.catalogue import explanations
from marketplace.catalogue.explanations import Note
from marketplace.catalogue.labels import low_label
from marketplace.catalogue.schemas import ListingPublic
from privacy.generalisation import FAMILIES, LocationLevel, quantity_label_en
from web.i18n import N_, Translate
from web.labels import DIRECTIONS, KINDS, REGULARITIES, label, month_names

# The public view speaks French (it is also what the alert e-mails say); an English page shows
# the same class in English.
PRESENT_FR = "présent"
PRESENT = N_("present")


def quantity_label(public_label: str, locale: str, translate: Translate) -> str:
    if public_label == PRESENT_FR:
        return translate(PRESENT)
    if locale == "fr":
        return public_label
    return quantity_label_en(public_label) or public_label


def spaced(code: str) -> str:
    """ "100102" → "10 01 02", "1001" → "10 01" (the way the List of Waste is written)."""
    return " ".join(code[i : i + 2] for i in range(0, len(code), 2))


@dataclass(frozen=True)
class Material:
    code: str  # as the public level allows: "10 01 02", "10 01" or "10"
    label: str


def public_material(listing: ListingPublic, locale: str) -> Material | None:
    """The List of Waste entry at the finest level the k-check allows: the code when public,
    else its subchapter, else its chapter."""
    for code in (listing.low_code, listing.low_subchapter, listing.low_chapter):
        if code:
            return Material(spaced(code), readable(low_label(code, locale) or ""))
    return None


def readable(text: str) -> str:
    """Chapter titles of the List of Waste are in capitals; a card shows them in sentence case."""
    return text.capitalize() if text.isupper() else text


def family_label(family: str, locale: str) -> str:
    entry = FAMILIES.get(family)
    if entry is None:
        return family
    return entry.label_fr if locale == "fr" else entry.label_en


def place_label(listing: ListingPublic) -> str:
    """The département ("Nord (59)"), or the région alone when the listing is generalised to it."""
    if listing.departement is not None:
        return f"{listing.departement.name} ({listing.departement.code})"
    return listing.region.name


def date_label(value: date | None, locale: str) -> str:
    return format_date(value, format="medium", locale=locale) if value else ""


def run_label(value: datetime, locale: str) -> str:
    """When the next publication run is, in UTC, as the settings and beat count hours."""
    return format_datetime(value, format="medium", tzinfo=UTC, locale=locale) + " UTC"


@dataclass(frozen=True)
class Card:
    listing: ListingPublic
    is_offer: bool
    direction: str
    kind: str
    family: str
    material: Material | None
    quantity: str
    regularity: str
    months: str
    place: str
    published_on: str
    notes: dict[str, Note]  # why each generalised value is shown as it is: "quantity", "place"…


def notes_of(listing: ListingPublic, locale: str) -> dict[str, Note]:
    """The plain-language explanation of each generalised value of the card, from the public
    view alone (the levels it shows, whether it is pooled)."""
    pooled = listing.aggregated
    level = explanations.shown_material_level(
        listing.low_code, listing.low_subchapter, listing.low_chapter
    )
    notes = {
        "material": explanations.material_note(level, locale, pooled),
        "place": explanations.location_note(LocationLevel(listing.location_level), locale, pooled),
        "quantity": explanations.quantity_label_note(listing.quantity_class, locale, pooled),
    }
    if listing.temperature_class:
        notes["temperature"] = explanations.temperature_note(listing.temperature_class, locale)
    if listing.distance_band:
        notes["distance"] = explanations.distance_note(listing.distance_band, locale)
    return notes


def card_of(listing: ListingPublic, locale: str, translate: Translate) -> Card:
    names = month_names(locale)
    return Card(
        listing=listing,
        is_offer=listing.direction == "offer",
        direction=label(DIRECTIONS, listing.direction, translate),
        kind=label(KINDS, listing.kind, translate),
        family=family_label(listing.family, locale),
        material=public_material(listing, locale),
        quantity=quantity_label(listing.quantity_class, locale, translate),
        regularity=label(REGULARITIES, listing.regularity, translate),
        months=", ".join(names[m] for m in listing.months if m in names),
        place=place_label(listing),
        published_on=date_label(listing.published_on, locale),
        notes=notes_of(listing, locale),
    )
