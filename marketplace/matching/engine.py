"""The whole-territory pass: each offer's best requests (and each request's best offers),
without scoring every pair in full.

The requests of one kind are held as arrays (``Side``): position, quantity, months, regularity,
temperature, state, precision, company, and a *signature* (kind, code, words, sector): what the
material criterion reads of a request. For an offer, the index (matching/candidates.py) gives the
candidate requests; their distances and the five numeric criteria are computed on the arrays at
once; the material criterion, the costly one, depends only on the offer's code (or, without
one, its words) and on the request's signature, so it is computed once per offer code and
signature and reused. Only the best KEEP of each offer are then scored in full, with their
reasons (scoring.score_pair), on the same facts: the ranking and the stored scores agree.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from marketplace.matching.candidates import (
    Index,
    distances_km,
    offer_keys,
    offers_for,
    request_keys,
)
from marketplace.matching.compatibility import Compatibility, material_compatibility
from marketplace.matching.facts import Facts
from marketplace.matching.scoring import (
    MATERIAL_GATE,
    WEIGHTS,
    Scored,
    material_side,
    quick_total,
    reach_km,
    score_pair,
)
from privacy.generalisation import haversine_km

# Each offer's requests kept (and scored in full): the facilitator's shortlist, and at least the
# 10 best that `symbiose match` prints.
KEEP = 12
ALL_MONTHS = (1 << 12) - 1
_POPCOUNT = np.array([bin(m).count("1") for m in range(1 << 12)], dtype=np.float64)
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


def _material_key(facts: Facts) -> Hashable:
    """What the material criterion reads of an offer (its words only when it has no code)."""
    if facts.low_code:
        return (facts.kind, facts.low_code)
    return (facts.kind, facts.label, facts.description)


def _signature(facts: Facts) -> Hashable:
    """What the material criterion reads of a request."""
    return (
        facts.kind,
        facts.low_code,
        facts.label,
        facts.description,
        facts.virgin_material,
        facts.nace,
    )


@dataclass(frozen=True)
class _Row:
    """A flow with its row in the side's arrays (what the index holds)."""

    facts: Facts
    row: int

    @property
    def ref(self) -> uuid.UUID:
        return self.facts.ref

    @property
    def latitude(self) -> float:
        return self.facts.latitude

    @property
    def longitude(self) -> float:
        return self.facts.longitude


@dataclass
class Side:
    """One side's flows as arrays, and its index by key and coarse cell (positions of rows)."""

    flows: list[Facts]
    index: Index[_Row]
    lat: Floats = field(init=False)
    lon: Floats = field(init=False)
    quantity: Floats = field(init=False)
    months: Ints = field(init=False)
    one_off: npt.NDArray[np.bool_] = field(init=False)
    temperature: Floats = field(init=False)
    state: Ints = field(init=False)
    measured: Floats = field(init=False)  # 1 measured, 0 estimated, nan unknown
    company: Ints = field(init=False)
    unit: Ints = field(init=False)
    signature: Ints = field(init=False)
    signatures: list[Facts] = field(init=False)  # one request per signature, to score it

    def __post_init__(self) -> None:
        flows = self.flows
        self.lat = np.radians(np.array([f.latitude for f in flows], dtype=np.float64))
        self.lon = np.radians(np.array([f.longitude for f in flows], dtype=np.float64))
        self.quantity = np.array([f.quantity_per_year or np.nan for f in flows], dtype=np.float64)
        self.months = np.array([f.months_mask & ALL_MONTHS or ALL_MONTHS for f in flows])
        self.one_off = np.array([f.regularity == "one-off" for f in flows], dtype=bool)
        self.temperature = np.array(
            [np.nan if f.temperature_c is None else f.temperature_c for f in flows]
        )
        self._codes: dict[Hashable, int] = {None: -1}
        self.state = self._encode([f.physical_state for f in flows])
        self.measured = np.array(
            [np.nan if f.precision is None else float(f.precision == "measured") for f in flows]
        )
        self.company = self._encode([f.company_id for f in flows])
        self.unit = self._encode([f.base_unit or None for f in flows])
        known: dict[Hashable, int] = {}
        self.signatures = []
        rows = []
        for facts in flows:
            key = _signature(facts)
            if key not in known:
                known[key] = len(self.signatures)
                self.signatures.append(facts)
            rows.append(known[key])
        self.signature = np.array(rows, dtype=np.int64)
        # The index's buckets as arrays of rows, built once per (key, bucket).
        self._arrays: dict[int, Ints] = {}

    def _encode(self, values: Sequence[Hashable]) -> Ints:
        """Small integers standing for values (None is -1), for comparisons over arrays."""
        codes = self._codes
        return np.array([codes.setdefault(v, len(codes)) for v in values], dtype=np.int64)

    def code_of(self, value: Hashable) -> int:
        """The integer of a value from the other side: -1 for None, -2 when this side has none
        of it (equal to no row's)."""
        return self._codes.get(value, -2)

    def rows_near(self, origin: Facts, keys: set[str], reach: float) -> list[Ints]:
        parts = []
        for bucket in self.index.buckets_near(origin, keys, reach):
            rows = self._arrays.get(id(bucket))
            if rows is None:
                rows = self._arrays[id(bucket)] = np.array([r.row for r in bucket], np.int64)
            parts.append(rows)
        return parts


def requests_side(requests: Iterable[Facts]) -> Side:
    flows = list(requests)
    return Side(flows, Index(_rows(flows), lambda row: request_keys(row.facts)))


def _rows(flows: list[Facts]) -> list[_Row]:
    return [_Row(f, i) for i, f in enumerate(flows)]


def _distances(lat: float, lon: float, side: Side, rows: Ints) -> Floats:
    return distances_km(lat, lon, side.lat[rows], side.lon[rows])


def _numbers(offer: Facts, requests: Side, rows: Ints, km: Floats, reach: float) -> Floats:
    """The five numeric criteria of ``offer`` against requests ``rows``, weighted (the
    material criterion is added by the caller): scoring.py's formulas over arrays, for a whole
    territory's candidates at once (tests/test_matching.py checks both agree)."""
    n = len(rows)
    total = np.maximum(0.0, 1.0 - km / reach) * WEIGHTS["distance"]
    # Quantity: the need covered and the offer taken; 0.5 when unknown or in other units.
    needed = requests.quantity[rows]
    given = offer.quantity_per_year or np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        quantity = 0.6 * np.minimum(1.0, given / needed) + 0.4 * np.minimum(1.0, needed / given)
    unit = requests.code_of(offer.base_unit or None)
    other_unit = bool(offer.base_unit) & (requests.unit[rows] >= 0) & (requests.unit[rows] != unit)
    quantity = np.where(np.isnan(quantity) | other_unit, 0.5, quantity)
    total += quantity * WEIGHTS["quantity"]
    # Timing: the months needed that the offer covers; one-off against regular, × 0.7.
    offered = offer.months_mask & ALL_MONTHS or ALL_MONTHS
    months = requests.months[rows]
    timing = _POPCOUNT[offered & months] / _POPCOUNT[months]
    one_off = offer.regularity == "one-off"
    regularity_differs = requests.one_off[rows] != one_off
    timing = np.where(regularity_differs & (one_off | requests.one_off[rows]), timing * 0.7, timing)
    total += timing * WEIGHTS["timing"]
    # Quality.
    if offer.kind in ("heat", "water"):
        wanted = requests.temperature[rows]
        if offer.temperature_c is None:
            quality = np.where(np.isnan(wanted), 0.7, 0.5)
        else:
            gap = wanted - offer.temperature_c
            short = np.maximum(0.0, 1.0 - gap / 50) if offer.kind == "heat" else np.ones(n)
            quality = np.where(np.isnan(wanted), 0.7, np.where(gap > 0, short, 1.0))
    else:
        state = requests.code_of(offer.physical_state)
        theirs = requests.state[rows]
        unknown = (offer.physical_state is None) | (theirs < 0)
        quality = np.where(unknown, 0.7, np.where(theirs == state, 1.0, 0.5))
    total += quality * WEIGHTS["quality"]
    # Precision.
    mine = np.nan if offer.precision is None else float(offer.precision == "measured")
    theirs_measured = requests.measured[rows]
    both = mine + theirs_measured
    precision = np.where(
        np.isnan(both), 0.7, np.where(both == 2, 1.0, np.where(both == 1, 0.85, 0.7))
    )
    total += precision * WEIGHTS["precision"]
    return np.asarray(total)


def _candidates(side: Side, origin: Facts, keys: set[str], reach: float) -> Ints:
    """The rows of the requests sharing a key with ``origin`` in buckets within reach, once."""
    parts = side.rows_near(origin, keys, reach)
    if not parts:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.concatenate(parts)) if len(parts) > 1 else parts[0]


def best_for_offers(offers: Iterable[Facts], requests: Side, keep: int = KEEP) -> Iterator[Scored]:
    """Each offer's ``keep`` best requests, scored in full, as they come (a caller storing them
    in chunks never holds a whole territory's pairs)."""
    groups: dict[Hashable, list[Facts]] = defaultdict(list)
    for offer in offers:
        groups[_material_key(offer)].append(offer)
    weight, total_weight = WEIGHTS["material"], sum(WEIGHTS.values())
    for group in groups.values():
        material = np.full(len(requests.signatures), np.nan)
        found_for: dict[int, Compatibility] = {}
        for offer in group:
            reach = reach_km(offer)
            rows = _candidates(requests, offer, offer_keys(offer), reach)
            if not len(rows):
                continue
            km = _distances(offer.latitude, offer.longitude, requests, rows)
            company = requests.code_of(offer.company_id)
            near = (km <= reach) & (requests.company[rows] != company)
            rows, km = rows[near], km[near]
            signatures = requests.signature[rows]
            for signature in np.unique(signatures[np.isnan(material[signatures])]):
                compatibility = material_compatibility(
                    material_side(offer), material_side(requests.signatures[signature])
                )
                material[signature] = compatibility.score
                found_for[int(signature)] = compatibility
            scores = material[signatures]
            fit = scores >= MATERIAL_GATE
            rows, km, scores = rows[fit], km[fit], scores[fit]
            if not len(rows):
                continue
            totals = (scores * weight + _numbers(offer, requests, rows, km, reach)) / total_weight
            best = np.argsort(-totals, kind="stable")[:keep]
            for i in best:
                request = requests.flows[rows[i]]
                known = found_for[int(requests.signature[rows[i]])]
                scored = score_pair(offer, request, km=float(km[i]), compatibility=known)
                if scored is not None:
                    yield scored


def best_for_request(request: Facts, offers: Index[Facts], keep: int = KEEP) -> list[Scored]:
    """A request's ``keep`` best offers, scored in full. A request meets few offers (those of its
    codes and words within reach): they are ranked one by one (scoring.quick_total)."""
    materials: dict[Hashable, float] = {}
    ranked: list[tuple[float, str, Facts, float]] = []
    for offer in offers_for(offers, request):
        if offer.company_id == request.company_id:
            continue
        reach = reach_km(offer)
        km = haversine_km(offer.latitude, offer.longitude, request.latitude, request.longitude)
        if km > reach:
            continue
        key = _material_key(offer)
        if key not in materials:
            materials[key] = material_compatibility(
                material_side(offer), material_side(request)
            ).score
        if materials[key] < MATERIAL_GATE:
            continue
        total = quick_total(offer, request, materials[key], km, reach)
        ranked.append((total, str(offer.ref), offer, km))
    ranked.sort(key=lambda item: (-item[0], item[1]))
    return [s for _, _, offer, km in ranked[:keep] if (s := score_pair(offer, request, km=km))]
