"""The catalogue's filter form: query parameters read into a CatalogueQuery, the choices the form
offers, the parameters of a link to the same search, and a saved search told in words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError

from core.text import collation_key
from marketplace.catalogue.labels import departement_names, low_labels, region_names
from marketplace.catalogue.search import BAND_KEYS, BAND_LABELS, MAX_WORDS, CatalogueQuery
from privacy.generalisation import FAMILIES, QUANTITY_BOUNDS
from web.cards import family_label, readable, spaced
from web.forms import FieldErrors, validation_errors
from web.i18n import N_, Translate
from web.labels import DIRECTIONS, KINDS, REGULARITIES, SORT_ORDERS, label
from web.templating import format_number

# What selects listings (a saved search keeps these), then what orders and pages them.
FILTER_FIELDS = (
    "q",
    "direction",
    "kind",
    "family",
    "low_chapter",
    "low_subchapter",
    "low_code",
    "hazardous",
    "quantity_band",
    "regularity",
    "departement",
    "region",
    "from_site",
    "distance_band",
)
QUERY_FIELDS = (*FILTER_FIELDS, "sort", "cursor")
# Cards per page; the API lets a client choose, a page keeps one size (the cursor is size-free).
PAGE_SIZE = 20
# Distances start from one of the searcher's own sites: visitors and accounts without sites
# have none, so these parameters are dropped for them rather than refused.
MEASURING_FIELDS = ("from_site", "distance_band")

FIELD_LABELS = {
    "q": N_("Words"),
    "direction": N_("Direction"),
    "kind": N_("Kind"),
    "family": N_("Material family"),
    "low_chapter": N_("Chapter"),
    "low_subchapter": N_("Subchapter"),
    "low_code": N_("LoW code"),
    "hazardous": N_("Hazardous"),
    "quantity_band": N_("Quantity class"),
    "regularity": N_("Regularity"),
    "departement": N_("Département"),
    "region": N_("Région"),
    "from_site": N_("From my site"),
    "distance_band": N_("Distance"),
    "sort": N_("Sort by"),
    "cursor": N_("Page of results"),
}
HAZARD_CHOICES = {"true": N_("Hazardous only"), "false": N_("Non-hazardous only")}
LOW_DIGITS = {
    "low_chapter": ("2", "10"),
    "low_subchapter": ("4", "10 01"),
    "low_code": ("6", "10 01 02"),
}


@dataclass(frozen=True)
class ParsedSearch:
    values: dict[str, str]  # as typed, to fill the form again
    query: CatalogueQuery | None  # None when a field is refused
    errors: FieldErrors = field(default_factory=dict)


def read_search(params: Mapping[str, str], may_measure: bool, translate: Translate) -> ParsedSearch:
    values = {name: params.get(name, "").strip() for name in QUERY_FIELDS}
    values = {name: value for name, value in values.items() if value}
    if not may_measure:
        for name in MEASURING_FIELDS:
            values.pop(name, None)
        if values.get("sort") == "distance":
            values.pop("sort")
    errors: FieldErrors = {}
    if "from_site" not in values:
        if "distance_band" in values:
            errors["distance_band"] = translate(
                N_("Choose one of your sites to filter by distance.")
            )
        if values.get("sort") == "distance":
            errors["sort"] = translate(N_("Choose one of your sites to sort by distance."))
    if errors:
        return ParsedSearch(values, None, errors)
    try:
        query = CatalogueQuery.model_validate({**values, "limit": PAGE_SIZE})
    except ValidationError as exc:
        return ParsedSearch(values, None, _errors(exc, translate))
    return ParsedSearch(values, query)


def _errors(exc: ValidationError, translate: Translate) -> FieldErrors:
    errors = validation_errors(exc, translate)
    for name, (digits, example) in LOW_DIGITS.items():
        if name in errors:
            message = N_("A code of %(digits)s digits, e.g. %(example)s.")
            errors[name] = translate(message, digits=digits, example=example)
    if "q" in errors:
        errors["q"] = translate(N_("At most %(count)s words."), count=MAX_WORDS)
    return errors


def param_text(value: Any) -> str:
    """A filter's value as a URL carries it (true/false for a yes-or-no filter)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def search_params(query: CatalogueQuery, with_sort: bool = True) -> list[tuple[str, str]]:
    """The parameters that ask for this search again (no page position)."""
    excluded = {"limit", "cursor"} if with_sort else {"limit", "cursor", "sort"}
    data = query.model_dump(mode="json", exclude_none=True, exclude_defaults=True, exclude=excluded)
    return [(name, param_text(value)) for name, value in data.items()]


def catalogue_url(params: list[tuple[str, str]]) -> str:
    return "/catalogue" + (f"?{urlencode(params)}" if params else "")


# --- the choices the form offers ----------------------------------------------------------------

Choices = list[tuple[str, str]]


def _translated(table: Mapping[Any, str], translate: Translate) -> Choices:
    return [(str(code), translate(word)) for code, word in table.items()]


def quantity_bands(locale: str) -> Choices:
    """The quantity classes, "< 10" to "≥ 100 000": the same bands in every unit (t, MWh, m³)."""
    bounds = [format_number(bound, locale) for bound in QUANTITY_BOUNDS]
    bands = [f"< {bounds[0]}"]
    bands += [f"{low} – {high}" for low, high in pairwise(bounds)]
    bands.append(f"≥ {bounds[-1]}")
    return [(str(index), text) for index, text in enumerate(bands)]


def chapters(locale: str) -> Choices:
    index = 0 if locale == "fr" else 1
    rows = sorted((code, labels[index]) for code, labels in low_labels().items() if len(code) == 2)
    return [(code, f"{code} · {readable(text)}") for code, text in rows]


def departements() -> Choices:
    return [(code, f"{code} · {name}") for code, name in sorted(departement_names().items())]


def regions() -> Choices:
    return sorted(region_names().items(), key=lambda pair: collation_key(pair[1]))


def form_choices(
    locale: str, translate: Translate, sites: Choices, may_measure: bool
) -> dict[str, Choices]:
    sorts = _translated(SORT_ORDERS, translate)
    return {
        "directions": _translated(DIRECTIONS, translate),
        "kinds": _translated(KINDS, translate),
        "families": [(key, family_label(key, locale)) for key in FAMILIES],
        "chapters": chapters(locale),
        "hazards": _translated(HAZARD_CHOICES, translate),
        "quantity_bands": quantity_bands(locale),
        "regularities": _translated(REGULARITIES, translate),
        "departements": departements(),
        "regions": regions(),
        "sites": sites,
        "distance_bands": list(zip(BAND_KEYS, BAND_LABELS, strict=True)),
        "sorts": sorts if may_measure else [s for s in sorts if s[0] != "distance"],
    }


# --- a saved search told in words --------------------------------------------------------------


def describe(
    filters: Mapping[str, Any], locale: str, translate: Translate, sites: Mapping[str, str]
) -> list[tuple[str, str]]:
    """(field, value) pairs in the page's language, in the form's order."""
    named: dict[str, Mapping[str, str]] = {
        "direction": dict(_translated(DIRECTIONS, translate)),
        "kind": dict(_translated(KINDS, translate)),
        "family": {key: family_label(key, locale) for key in FAMILIES},
        "low_chapter": dict(chapters(locale)),
        "hazardous": dict(_translated(HAZARD_CHOICES, translate)),
        "quantity_band": dict(quantity_bands(locale)),
        "regularity": {str(k): translate(v) for k, v in REGULARITIES.items()},
        "departement": dict(departements()),
        "region": region_names(),
        "from_site": sites,
        "distance_band": dict(zip(BAND_KEYS, BAND_LABELS, strict=True)),
    }
    pairs = []
    for name in FILTER_FIELDS:
        if name not in filters:
            continue
        value = param_text(filters[name])
        if name in ("low_subchapter", "low_code"):
            shown = spaced(value)
        else:
            shown = named.get(name, {}).get(value, value)
        pairs.append((label(FIELD_LABELS, name, translate), shown))
    return pairs
