"""Scoring one offer against one request: a score in [0, 1] and the reasons a person can read.

Six criteria, each scored in [0, 1] and weighted (WEIGHTS): material compatibility (the knowledge
base, codes, words and sectors: matching/compatibility.py), distance (against the farthest a kind
and material usually travel), quantity (how much of the need the offer covers, and of the offer
the need takes), timing (months both run, regularity), quality (temperature for heat and water,
physical state for materials) and the precision of the figures (measured or estimated).

A pair is a candidate only when the material is compatible at all (MATERIAL_GATE) and the
distance is within reach: a perfect quantity never makes gypsum into cement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from typing import Any

from marketplace.matching.compatibility import (
    Compatibility,
    MaterialSide,
    material_compatibility,
)
from marketplace.matching.facts import Facts
from marketplace.matching.knowledge import max_distance_km
from privacy.generalisation import DISTANCE_BANDS, haversine_km

WEIGHTS: dict[str, float] = {
    "material": 0.40,
    "distance": 0.20,
    "quantity": 0.15,
    "timing": 0.10,
    "quality": 0.10,
    "precision": 0.05,
}
# The criteria in the order a breakdown lists them, and a stored match holds their scores.
CRITERIA: tuple[str, ...] = tuple(WEIGHTS)
MATERIAL_GATE = 0.2
ALL_MONTHS = (1 << 12) - 1
# What a member's score takes for the distance to a card, from the band its own site is in: the
# band's middle (the farthest band: 300 km). A member's score then moves only when the band does.
BAND_MIDDLES_KM: tuple[float, ...] = (5.0, 20.0, 55.0, 140.0, 300.0)
_BAND_UPPERS = tuple(upper for upper, _ in DISTANCE_BANDS)


@dataclass(frozen=True)
class Criterion:
    name: str
    score: float
    weight: float
    reason: str  # English, for the API and the logs
    code: str  # the reason's case, for the pages' translations (web/messages.py)
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "criterion": self.name,
            "score": round(self.score, 3),
            "weight": self.weight,
            "reason": self.reason,
            "code": self.code,
            "params": self.params,
        }


@dataclass(eq=False)
class Scored:
    """A candidate pair's score; its criteria (with their reasons) are built when read, from the
    same facts: a territory's pass ranks a million pairs and stores or shows far fewer reasons.
    (Not frozen: a frozen dataclass's constructor costs twice as much, a million times.)"""

    offer: Facts
    request: Facts
    score: float
    distance_km: float
    compatibility: Compatibility
    band: str | None = None

    @property
    def archetype_id(self) -> str | None:
        return self.compatibility.archetype_id

    @cached_property
    def criteria(self) -> tuple[Criterion, ...]:
        return criteria_of(
            self.offer, self.request, self.distance_km, self.band, self.compatibility
        )

    def breakdown(self) -> list[dict[str, Any]]:
        return [c.as_dict() for c in self.criteria]


def band_middle_km(km: float) -> float:
    """The middle of the public distance band ``km`` falls in."""
    for index, upper in enumerate(_BAND_UPPERS):
        if km < upper:
            return BAND_MIDDLES_KM[index]
    return BAND_MIDDLES_KM[-1]


def material_side(facts: Facts) -> MaterialSide:
    return MaterialSide(
        kind=facts.kind,
        low_code=facts.low_code,
        label=facts.label,
        description=facts.description,
        virgin_material=facts.virgin_material,
        nace=facts.nace,
    )


def material(found: Compatibility) -> Criterion:
    reason = "; ".join(found.reasons) or "no known use of this material for this need"
    return Criterion(
        "material",
        max(0.0, min(1.0, found.score)),
        WEIGHTS["material"],
        reason,
        "material",
        {"reasons": list(found.reasons), "archetype": found.archetype_id},
    )


def reach_km(offer: Facts) -> float:
    return _reach(offer.kind, offer.low_code)


@lru_cache(maxsize=8_192)
def _reach(kind: str, low_code: str | None) -> float:
    return max_distance_km(kind, low_code)


def distance(km: float, reach: float, band: str | None = None) -> Criterion:
    """``band``: the public band a member sees instead of kilometres (``km`` is then its middle)."""
    score = max(0.0, 1.0 - km / reach) if reach > 0 else 0.0
    if band is not None:
        return Criterion(
            "distance",
            score,
            WEIGHTS["distance"],
            f"{band} from your site, within the {round(reach)} km this flow usually travels",
            "distance_band",
            {"band": band, "reach_km": round(reach)},
        )
    shown = round(km) if km >= 10 else round(km, 1)
    return Criterion(
        "distance",
        score,
        WEIGHTS["distance"],
        f"{shown} km apart, within the {round(reach)} km this flow usually travels",
        "distance",
        {"km": shown, "reach_km": round(reach)},
    )


def quantity(offer: Facts, request: Facts) -> Criterion:
    given, needed = offer.quantity_per_year, request.quantity_per_year
    if offer.base_unit and request.base_unit and offer.base_unit != request.base_unit:
        # A gas in m³ and a gas in MWh: no conversion without knowing the gas.
        return Criterion(
            "quantity",
            0.5,
            WEIGHTS["quantity"],
            "the quantities are stated in different units",
            "quantity_units_differ",
        )
    if not given or not needed:
        return Criterion(
            "quantity", 0.5, WEIGHTS["quantity"], "a quantity is not stated", "quantity_unknown"
        )
    covered = min(1.0, given / needed)
    taken = min(1.0, needed / given)
    return Criterion(
        "quantity",
        _quantity_score(offer, request),
        WEIGHTS["quantity"],
        f"the offer covers {round(covered * 100)} % of the need, "
        f"the need takes {round(taken * 100)} % of the offer",
        "quantity",
        {"covered_pct": round(covered * 100), "taken_pct": round(taken * 100)},
    )


def _months(facts: Facts) -> int:
    return facts.months_mask & ALL_MONTHS or ALL_MONTHS


def timing(offer: Facts, request: Facts) -> Criterion:
    needed = _months(request)
    common = bin(_months(offer) & needed).count("1")
    score = _timing_score(offer, request)
    return Criterion(
        "timing",
        score,
        WEIGHTS["timing"],
        f"{common} of the {bin(needed).count('1')} months needed are available"
        + ("" if score == common / bin(needed).count("1") else "; one side is one-off"),
        "timing",
        {"common": common, "needed": bin(needed).count("1")},
    )


def quality(offer: Facts, request: Facts) -> Criterion:
    weight = WEIGHTS["quality"]
    if offer.kind in ("heat", "water") and request.temperature_c is not None:
        if offer.temperature_c is None:
            return Criterion(
                "quality", 0.5, weight, "the offer's temperature is not stated", "t_unknown"
            )
        gap = request.temperature_c - offer.temperature_c
        if offer.kind == "heat" and gap > 0:
            # Heat below the need can only preheat: the score falls 2 % a degree short.
            score = max(0.0, 1.0 - gap / 50)
            return Criterion(
                "quality",
                score,
                weight,
                f"the offer is {round(gap)} °C below the temperature needed",
                "t_short",
                {"gap": round(gap)},
            )
        return Criterion("quality", 1.0, weight, "the offer's temperature meets the need", "t_met")
    if offer.physical_state and request.physical_state:
        same = offer.physical_state == request.physical_state
        return Criterion(
            "quality",
            1.0 if same else 0.5,
            weight,
            "same physical state" if same else "the physical states differ",
            "state_same" if same else "state_differs",
        )
    return Criterion("quality", 0.7, weight, "quality not stated on both sides", "quality_unknown")


def precision(offer: Facts, request: Facts) -> Criterion:
    measured = [p == "measured" for p in (offer.precision, request.precision) if p is not None]
    if len(measured) < 2:
        score, code, text = 0.7, "precision_unknown", "the precision of the figures is not known"
    elif all(measured):
        score, code, text = 1.0, "measured", "both quantities are measured"
    elif any(measured):
        score, code, text = 0.85, "one_estimated", "one quantity is an estimate"
    else:
        score, code, text = 0.7, "estimated", "both quantities are estimates"
    return Criterion("precision", score, WEIGHTS["precision"], text, code)


# --- the numbers alone -----------------------------------------------------------------------
#
# The same scores as the criteria above without their words, for ranking the candidates of a
# whole territory: only the pairs kept are then scored in full, with their reasons.


def quick_total(
    offer: Facts, request: Facts, material_score: float, km: float, reach: float
) -> float:
    weights = WEIGHTS
    total = material_score * weights["material"] + max(0.0, 1.0 - km / reach) * weights["distance"]
    total += _quantity_score(offer, request) * weights["quantity"]
    total += _timing_score(offer, request) * weights["timing"]
    total += _quality_score(offer, request) * weights["quality"]
    total += _precision_score(offer, request) * weights["precision"]
    return total / sum(weights.values())


def _quantity_score(offer: Facts, request: Facts) -> float:
    given, needed = offer.quantity_per_year, request.quantity_per_year
    if offer.base_unit and request.base_unit and offer.base_unit != request.base_unit:
        return 0.5
    if not given or not needed:
        return 0.5
    # The need covered matters most to the taker, the residue taken to the giver: both count.
    return 0.6 * min(1.0, given / needed) + 0.4 * min(1.0, needed / given)


def _timing_score(offer: Facts, request: Facts) -> float:
    needed = _months(request)
    score = bin(_months(offer) & needed).count("1") / bin(needed).count("1")
    if "one-off" in (offer.regularity, request.regularity) and offer.regularity != (
        request.regularity
    ):
        score *= 0.7  # a one-off lot for a continuous need (or the reverse) is a weaker fit
    return score


def _quality_score(offer: Facts, request: Facts) -> float:
    return quality(offer, request).score


def _precision_score(offer: Facts, request: Facts) -> float:
    return precision(offer, request).score


def criteria_of(
    offer: Facts, request: Facts, km: float, band: str | None, found: Compatibility
) -> tuple[Criterion, ...]:
    return (
        material(found),
        distance(km, reach_km(offer), band),
        quantity(offer, request),
        timing(offer, request),
        quality(offer, request),
        precision(offer, request),
    )


def criterion_scores(
    offer: Facts, request: Facts, km: float, found: Compatibility
) -> tuple[float, float, float, float, float, float]:
    """The criteria's scores in CRITERIA's order, without their words: what a stored match keeps
    (service.store_matches), the same numbers as criteria_of's."""
    reach = reach_km(offer)
    return (
        max(0.0, min(1.0, found.score)),
        max(0.0, 1.0 - km / reach) if reach > 0 else 0.0,
        _quantity_score(offer, request),
        _timing_score(offer, request),
        _quality_score(offer, request),
        _precision_score(offer, request),
    )


def criteria_with_scores(
    offer: Facts, request: Facts, km: float, found: Compatibility, scores: Sequence[float]
) -> tuple[Criterion, ...]:
    """A stored match's criteria: their words from the two flows (criteria_of), their scores
    the stored ones (CRITERIA's order), so that the reasons read agree with the score stored."""
    criteria = criteria_of(offer, request, km, None, found)
    return tuple(replace(c, score=score) for c, score in zip(criteria, scores, strict=True))


def score_pair(
    offer: Facts,
    request: Facts,
    km: float | None = None,
    band: str | None = None,
    compatibility: Compatibility | None = None,
) -> Scored | None:
    """The pair's score and reasons, or None when it is no candidate (material incompatible, or
    out of reach). ``km`` and ``band`` replace the distance for a member: its band's middle."""
    if offer.kind != request.kind or offer.direction == request.direction:
        return None
    found = compatibility or material_compatibility(material_side(offer), material_side(request))
    if found.score < MATERIAL_GATE:
        return None
    if km is None:
        km = haversine_km(offer.latitude, offer.longitude, request.latitude, request.longitude)
    reach = reach_km(offer)
    if km > reach:
        return None
    total = quick_total(offer, request, max(0.0, min(1.0, found.score)), km, reach)
    return Scored(offer, request, min(1.0, max(0.0, total)), km, found, band)
