"""The words of a match: each criterion's reason from its `code` and `params` (the engine speaks
English in `reason`; a page says the same in its own language), and the € / CO₂e estimate with
numbers written the page's way.

Each line reads « Critère : raison ». A reason whose code has no entry here is shown as the engine
wrote it rather than hidden. The material criterion's reasons come from the knowledge base, in
English: they are shown as given, after the translated « Matière : », marked lang="en".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from babel.numbers import format_decimal

from web.i18n import N_, Translate
from web.templating import format_number

CRITERIA = {
    "material": N_("Material"),
    "distance": N_("Distance"),
    "quantity": N_("Quantity"),
    "timing": N_("Timing"),
    "quality": N_("Quality"),
    "precision": N_("Precision"),
}

# code → the reason's words, formatted with the criterion's params (numbers already formatted).
REASONS = {
    "distance_band": N_(
        "%(band)s from your site, within the %(reach_km)s km this flow usually travels"
    ),
    "distance": N_("%(km)s km apart, within the %(reach_km)s km this flow usually travels"),
    "quantity": N_(
        "the offer covers %(covered_pct)s %% of the need, "
        "the need takes %(taken_pct)s %% of the offer"
    ),
    "quantity_unknown": N_("a quantity is not stated"),
    "timing": N_("%(common)s of the %(needed)s months needed are available"),
    # The timing score is the share of months in common, lowered when one side alone is one-off.
    "timing_one_off": N_(
        "%(common)s of the %(needed)s months needed are available; one side is one-off"
    ),
    "t_unknown": N_("the offer's temperature is not stated"),
    "t_short": N_("the offer is %(gap)s °C below the temperature needed"),
    "t_met": N_("the offer's temperature meets the need"),
    "state_same": N_("same physical state"),
    "state_differs": N_("the physical states differ"),
    "quality_unknown": N_("quality not stated on both sides"),
    "measured": N_("both quantities are measured"),
    "one_estimated": N_("one quantity is an estimate"),
    "estimated": N_("both quantities are estimates"),
    "precision_unknown": N_("the precision of the figures is not known"),
}
NO_MATERIAL_REASON = N_("no known use of this material for this need")


@dataclass(frozen=True)
class Why:
    criterion: str  # translated: « Matière »
    score: int  # out of 100
    text: str
    lang: str  # the text's language: the knowledge base's reasons are English


def _formatted(params: Mapping[str, Any], locale: str) -> dict[str, Any]:
    return {
        key: format_number(value, locale)
        if isinstance(value, int | float) and not isinstance(value, bool)
        else value
        for key, value in params.items()
    }


def _timing_one_off(entry: Mapping[str, Any]) -> bool:
    params = entry.get("params") or {}
    needed = params.get("needed") or 0
    if not needed:
        return False
    return float(entry.get("score", 0)) < params.get("common", 0) / needed - 0.001


def why_line(entry: Mapping[str, Any], locale: str, translate: Translate) -> Why:
    """One criterion of a breakdown (Criterion.as_dict) as a line of « Pourquoi »."""
    name = str(entry.get("criterion", ""))
    code = str(entry.get("code", ""))
    params = dict(entry.get("params") or {})
    score = round(float(entry.get("score", 0)) * 100)
    criterion = translate(CRITERIA[name]) if name in CRITERIA else name
    lang = locale
    if code == "material":
        reasons = [str(r) for r in params.get("reasons") or []]
        text = "; ".join(reasons) if reasons else translate(NO_MATERIAL_REASON)
        lang = "en" if reasons else locale
    elif code in REASONS:
        if code == "timing" and _timing_one_off(entry):
            code = "timing_one_off"
        values = _formatted(params, locale)
        text = translate(REASONS[code], **values) if values else translate(REASONS[code])
    else:
        text, lang = str(entry.get("reason", "")), "en"
    return Why(criterion, score, text, lang)


def why_lines(
    breakdown: Sequence[Mapping[str, Any]], locale: str, translate: Translate
) -> list[Why]:
    return [why_line(entry, locale, translate) for entry in breakdown]


def _factor(value: Any, locale: str) -> str:
    """A factor as its file gives it (0.09 kgCO2e/t.km keeps its digits)."""
    if not isinstance(value, int | float):
        return str(value or "")
    return format_decimal(value, format="#,##0.######", locale=locale)


@dataclass(frozen=True)
class Assumption:
    key: str
    value: str
    unit: str
    source: str


@dataclass(frozen=True)
class Estimate:
    """A match's yearly € and CO₂e, its numbers formatted for the page."""

    quantity: str  # with its unit
    eur_giver: str
    eur_taker: str
    co2e_t: str
    investment: str  # "" when no connection is needed
    payback_years: str
    payback_within_a_year: bool
    notes: list[str]  # the engine's, in English
    assumptions: list[Assumption]


def estimate_of(found: Mapping[str, Any] | None, unit: str, locale: str) -> Estimate | None:
    """``unit``: the flows' base unit, as the page writes it (« t/an »). Quantities and euros are
    shown whole: they are orders of magnitude from default factors."""
    if not found:
        return None

    def number(key: str, digits: int = 0) -> str:
        value = found.get(key)
        return format_number(None if value is None else round(float(value), digits), locale)

    return Estimate(
        quantity=f"{number('quantity_per_year')} {unit}",
        eur_giver=number("eur_giver_per_year"),
        eur_taker=number("eur_taker_per_year"),
        co2e_t=number("co2e_t_per_year", 1),
        investment=number("investment_eur"),
        payback_years=number("payback_years", 1),
        payback_within_a_year=found.get("payback_years") is not None
        and float(found["payback_years"]) < 1,
        notes=[str(n) for n in found.get("notes") or []],
        assumptions=[
            Assumption(
                str(a.get("key", "")),
                _factor(a.get("value"), locale),
                str(a.get("unit", "")),
                str(a.get("source", "")),
            )
            for a in found.get("assumptions") or []
        ],
    )
