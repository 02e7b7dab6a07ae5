"""« Comment nous protégeons l'anonymat »: the page every « Pourquoi ? » of a card links to, saying
in plain words what the catalogue publishes of a listing and why (open to visitors)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core.settings import get_settings
from marketplace.catalogue import explanations
from privacy.generalisation import (
    CHAPTER_FAMILY,
    DEFAULT_DOMINANCE,
    FAMILIES,
    QUANTITY_BOUNDS,
    TEMPERATURE_LABELS,
    LocationLevel,
    MaterialLevel,
    quantity_class,
)
from web.cards import family_label
from web.i18n import page_locale
from web.templating import render

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class FamilyRow:
    label: str
    chapters: str  # "06, 07, 08, 09, 14"


def _families(locale: str) -> list[FamilyRow]:
    rows = []
    for key in FAMILIES:
        chapters = [chapter for chapter, owner in CHAPTER_FAMILY.items() if owner == key]
        if chapters:
            rows.append(FamilyRow(family_label(key, locale), ", ".join(chapters)))
    return rows


@router.get(explanations.HELP_PATH)
def anonymity_page(request: Request) -> Response:
    locale = page_locale(request)
    # One quantity per band: below the first bound, then each bound (a band holds its lower bound).
    classes = [quantity_class("material", q) for q in (0.0, *QUANTITY_BOUNDS)]
    context = {
        "k": get_settings().k_anonymity,
        "share": round(DEFAULT_DOMINANCE * 100),
        "families": _families(locale),
        "material_levels": [
            explanations.material_note(level, locale).text for level in MaterialLevel
        ],
        "location_levels": [
            explanations.location_note(level, locale).text for level in LocationLevel
        ],
        "quantity_classes": [q.label if locale == "fr" else q.label_en for q in classes],
        "temperature_classes": TEMPERATURE_LABELS,
        "distance_bands": explanations.DISTANCE_LABELS,
        "distance": explanations.DISTANCE_FROM_OWN_SITE.say(locale),
    }
    return render(request, "help_anonymity.html", context)
