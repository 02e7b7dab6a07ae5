"""The flow form: which fields a direction and kind show, reading them, and filling them again."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from starlette.datastructures import FormData

from marketplace.flows.models import Direction, Kind
from marketplace.flows.schemas import FlowFields, FlowRead
from web.forms import checked, number, optional_text, text

ALL_KINDS = frozenset(Kind)
# Fields that only make sense for some kinds or one direction. The create form shows them all and
# hides the others with CSS (:has on the checked radio, no script); the edit form, whose kind and
# direction are fixed, leaves them out. Either way they are dropped before validation, so a value
# typed then hidden can never block the form with an error the user cannot see.
KINDS_OF_FIELD: dict[str, frozenset[Kind]] = {
    "low_code": frozenset({Kind.MATERIAL, Kind.WATER, Kind.GAS}),
    "hazardous": frozenset({Kind.MATERIAL, Kind.WATER, Kind.GAS}),
    "physical_state": frozenset({Kind.MATERIAL, Kind.WATER}),
    "temperature_c": frozenset({Kind.HEAT, Kind.WATER}),
    "medium": frozenset({Kind.HEAT}),
    "power_kw": frozenset({Kind.HEAT}),
    "water_quality": frozenset({Kind.WATER}),
}
DIRECTION_OF_FIELD: dict[str, Direction] = {
    "current_operation": Direction.OFFER,
    "current_cost_eur_per_unit": Direction.OFFER,
    "replaces_material": Direction.REQUEST,
    "virgin_price_eur_per_unit": Direction.REQUEST,
}

_REQUIRED_TEXT = ("label", "unit")
_OPTIONAL_TEXT = ("low_code", "medium", "water_quality", "current_operation", "replaces_material")
_LONG_TEXT = ("quality_spec", "description")
_NUMBERS = (
    "quantity",
    "temperature_c",
    "power_kw",
    "current_cost_eur_per_unit",
    "virgin_price_eur_per_unit",
)
_CHOICES = ("physical_state", "period", "regularity", "precision")
FORM_FIELDS = (*FlowFields.model_fields, "site_id", "direction", "kind")
# Months may also be written ("10-3", "janv.-mars"), next to the twelve boxes.
MONTHS_TEXT = "months_text"


def applies(field: str, direction: Direction | str, kind: Kind | str) -> bool:
    kinds = KINDS_OF_FIELD.get(field, ALL_KINDS)
    wanted = DIRECTION_OF_FIELD.get(field)
    return kind in kinds and (wanted is None or wanted == direction)


def css_scope(field: str) -> str:
    """Classes naming the kinds and direction a field is shown for (see app.css)."""
    classes = []
    if field in KINDS_OF_FIELD:
        classes += ["by-kind", *(f"for-{k.value}" for k in sorted(KINDS_OF_FIELD[field]))]
    if field in DIRECTION_OF_FIELD:
        classes += ["by-direction", f"for-{DIRECTION_OF_FIELD[field].value}"]
    return " ".join(classes)


def months_in(form: FormData) -> list[int]:
    return [int(m) for m in form.getlist("months") if isinstance(m, str) and m.isdigit()]


def months_submitted(form: FormData) -> list[int] | str:
    """The ticked months, or with the written ones a text the schema reads as one ("10-3;5"):
    a written part that is not a month is refused naming it."""
    ticked = months_in(form)
    written = text(form, MONTHS_TEXT)
    return ";".join([written, *map(str, ticked)]) if written else ticked


def submitted_fields(form: FormData, direction: str, kind: str) -> dict[str, Any]:
    """FlowFields input from the form; empty fields left out so the schema's defaults apply and a
    missing required one is reported as such."""
    data: dict[str, Any] = {name: text(form, name) for name in _REQUIRED_TEXT + _LONG_TEXT}
    data.update({name: optional_text(form, name) for name in _OPTIONAL_TEXT + _CHOICES})
    data.update({name: number(form, name) for name in _NUMBERS})
    # Unticked means "as the code says", not "not hazardous": the service derives the flag.
    data["hazardous"] = True if checked(form, "hazardous") else None
    data["months"] = months_submitted(form)
    return {
        name: value
        for name, value in data.items()
        if value is not None and applies(name, direction, kind)
    }


_MONEY = ("current_cost_eur_per_unit", "virgin_price_eur_per_unit")


def _plain(value: float | None, locale: str, *, money: bool = False) -> str:
    """A number as typed back in a field, as the reader writes it: every digit it has, no
    exponent, no trailing zeros but a price's cents (18,50 €, not 18.5), and a decimal comma in
    French. No thousands separator, so the field holds exactly what `number()` reads back."""
    if value is None:
        return ""
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if money and "." in text:
        whole, cents = text.split(".")
        text = f"{whole}.{cents.ljust(2, '0')}"
    return text.replace(".", ",") if locale == "fr" else text


def values_of(flow: FlowRead, locale: str) -> dict[str, Any]:
    """A stored flow as the form's field values, numbers written in the page's language."""
    values: dict[str, Any] = {
        name: getattr(flow, name) or "" for name in (*_REQUIRED_TEXT, *_LONG_TEXT, *_OPTIONAL_TEXT)
    }
    values.update(
        {name: _plain(getattr(flow, name), locale, money=name in _MONEY) for name in _NUMBERS}
    )
    values.update({name: (getattr(flow, name) or "") for name in _CHOICES})
    if flow.low_code:
        values["low_code"] = f"{flow.low_code[:2]} {flow.low_code[2:4]} {flow.low_code[4:]}"
    values["hazardous"] = flow.hazardous
    values["months"] = flow.months
    values["site_id"] = str(flow.site_id)
    values["direction"], values["kind"] = flow.direction.value, flow.kind.value
    return values


def form_values(form: FormData) -> dict[str, Any]:
    """What was typed, to fill the form again after an error."""
    values: dict[str, Any] = {name: text(form, name) for name in FORM_FIELDS}
    values["hazardous"] = checked(form, "hazardous")
    values["months"] = months_in(form)
    values[MONTHS_TEXT] = text(form, MONTHS_TEXT)
    return values


DEFAULTS: dict[str, Any] = {
    "direction": Direction.OFFER.value,
    "kind": Kind.MATERIAL.value,
    "period": "year",
    "regularity": "continuous",
    "precision": "estimated",
    "hazardous": False,
    "months": [],
}
