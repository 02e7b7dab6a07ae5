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
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import product

import numpy as np
import numpy.typing as npt

from marketplace.matching.candidates import (
    Index,
    bucket_of,
    key_reach,
    offer_keys,
    request_keys,
)
from marketplace.matching.compatibility import (
    Compatibility,
    DeferredCompatibility,
    MaterialSide,
    RequestTable,
    material_compatibility,
)
from marketplace.matching.facts import Facts
from marketplace.matching.knowledge import archetypes, archetypes_for_code
from marketplace.matching.scoring import (
    MATERIAL_GATE,
    WEIGHTS,
    Scored,
    material_side,
    reach_km,
    score_pair,
)
from privacy.generalisation import EARTH_RADIUS_KM

# Each offer's requests kept (and scored in full): the facilitator's shortlist, and at least the
# 10 best that `symbiose match` prints.
KEEP = 12
# Offer materials whose scores against every request signature a Side keeps (an array of floats
# a signature each, and the compatibilities found).
MATERIAL_MEMORY = 64
# The largest offers x requests array a group's pass holds at once (8 bytes each).
GROUP_CELLS = 1 << 18
ALL_MONTHS = (1 << 12) - 1
_POPCOUNT = np.array([bin(m).count("1") for m in range(1 << 12)], dtype=np.float64)
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


def _material_key(facts: Facts) -> Hashable:
    """What the material criterion reads of an offer: its code, and its words when its code
    names no archetype of the knowledge base (compatibility.py then reads the residues its
    words name) or when it has no code."""
    if facts.low_code and archetypes_for_code(facts.low_code):
        return (facts.kind, facts.low_code)
    return (facts.kind, facts.low_code, facts.label, facts.description, facts.virgin_material)


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


_PRECISION = (0.7, 0.85, 1.0)  # by the number of measured quantities of the two


def _precision_code(facts: Facts) -> int:
    """0 estimated, 1 measured, 2 unknown."""
    return 2 if facts.precision is None else int(facts.precision == "measured")


class _Categories:
    """A flow's physical state, precision and regularity as one integer per side, and the
    tables of what two of them score: quality (materials), precision, and the one-off factor
    of timing; scoring.py's rules, tabulated once for the states the requests hold."""

    def __init__(self, states: list[str]) -> None:
        self.states = {state: i for i, state in enumerate(states)}
        offer_states, request_states = len(states) + 2, len(states) + 1
        shape = (offer_states * 6, request_states * 6)
        self.quality = np.zeros(shape)
        self.precision = np.zeros(shape)
        self.one_off = np.zeros(shape)
        for o_state, r_state, o_prec, r_prec, o_once, r_once in product(
            range(offer_states), range(request_states), range(3), range(3), range(2), range(2)
        ):
            # States: offer 0 unknown, 1 one no request holds, 2 + i; request 0 unknown, 1 + i.
            if o_state == 0 or r_state == 0:
                quality = 0.7
            else:
                quality = 1.0 if o_state - 2 == r_state - 1 else 0.5
            at = ((o_state * 3 + o_prec) * 2 + o_once, (r_state * 3 + r_prec) * 2 + r_once)
            self.quality[at] = quality
            self.precision[at] = 0.7 if 2 in (o_prec, r_prec) else _PRECISION[o_prec + r_prec]
            self.one_off[at] = 0.7 if o_once != r_once else 1.0

    def of_request(self, facts: Facts) -> int:
        state = 0 if facts.physical_state is None else 1 + self.states[facts.physical_state]
        return (state * 3 + _precision_code(facts)) * 2 + int(facts.regularity == "one-off")

    def of_offer(self, facts: Facts) -> int:
        if facts.physical_state is None:
            state = 0
        else:
            known = self.states.get(facts.physical_state)
            state = 1 if known is None else 2 + known
        return (state * 3 + _precision_code(facts)) * 2 + int(facts.regularity == "one-off")


@dataclass
class Side:
    """One side's flows as arrays, and its index by key and coarse cell (positions of rows).
    Usually the requests (requests_side); the offers when requests come one by one
    (offers_side)."""

    flows: list[Facts]
    index: Index[_Row]
    # What the material criterion reads of a flow of this side (flows alike share its scores).
    signature_of: Callable[[Facts], Hashable] = field(default=lambda facts: _signature(facts))
    reach: Floats = field(init=False)  # how far each offer travels (an offers side only)
    xyz: Floats = field(init=False)  # positions on the unit sphere
    quantity: Floats = field(init=False)
    months: Ints = field(init=False)
    one_off: npt.NDArray[np.bool_] = field(init=False)
    temperature: Floats = field(init=False)
    per_month: Floats = field(init=False)  # 1 / the number of months needed
    # State, precision and regularity as one small integer: the quality, precision and
    # one-off criteria are then read from tables (_Categories) rather than computed per pair.
    category: Ints = field(init=False)
    company: Ints = field(init=False)
    unit: Ints = field(init=False)
    signature: Ints = field(init=False)
    mark: npt.NDArray[np.bool_] = field(init=False)
    signatures: list[Facts] = field(init=False)  # one flow per signature, to score it

    def __post_init__(self) -> None:
        flows = self.flows
        self.xyz = _unit_vectors(flows) if flows else np.zeros((0, 3))
        self.quantity = np.array([f.quantity_per_year or np.nan for f in flows], dtype=np.float64)
        self.months = np.array([f.months_mask & ALL_MONTHS or ALL_MONTHS for f in flows])
        self.per_month = 1.0 / _POPCOUNT[self.months] if flows else np.zeros(0)
        self.one_off = np.array([f.regularity == "one-off" for f in flows], dtype=bool)
        self.temperature = np.array(
            [np.nan if f.temperature_c is None else f.temperature_c for f in flows]
        )
        self._codes: dict[Hashable, int] = {None: -1}
        self.categories = _Categories(sorted({f.physical_state for f in flows if f.physical_state}))
        self.category = np.array([self.categories.of_request(f) for f in flows], dtype=np.int64)
        self.company = self._encode([f.company_id for f in flows])
        self.unit = self._encode([f.base_unit or None for f in flows])
        known: dict[Hashable, int] = {}
        self.signatures = []
        rows = []
        for facts in flows:
            key = self.signature_of(facts)
            if key not in known:
                known[key] = len(self.signatures)
                self.signatures.append(facts)
            rows.append(known[key])
        self.signature = np.array(rows, dtype=np.int64)
        self.reach = np.zeros(0)
        self._sides: dict[int, MaterialSide] = {}
        self._materials: dict[Hashable, _MaterialScores] = {}
        self._table: RequestTable | None = None
        self.mark = np.zeros(len(flows), dtype=bool)  # scratch for _candidates, left all False
        # The index's buckets as arrays of rows, built once per (key, bucket).
        self._arrays: dict[int, Ints] = {}

    def _encode(self, values: Sequence[Hashable]) -> Ints:
        """Small integers standing for values (None is -1), for comparisons over arrays."""
        codes = self._codes
        return np.array([codes.setdefault(v, len(codes)) for v in values], dtype=np.int64)

    def material_scores(self, key: Hashable) -> _MaterialScores:
        """An offer material's scores against each request signature (nan: not computed yet)
        and their compatibilities, kept for the next offers of that material: a worker keeps
        its Side between tasks (service.py), so a new offer of a known material scores no
        signature twice. The MATERIAL_MEMORY most recent materials are kept."""
        found = self._materials.pop(key, None)
        if found is None:
            found = _MaterialScores(np.full(len(self.signatures), np.nan))
        self._materials[key] = found
        while len(self._materials) > MATERIAL_MEMORY:
            self._materials.pop(next(iter(self._materials)))
        return found

    def material_table(self) -> RequestTable:
        """This side's signatures read once for every offer material (compatibility.py)."""
        if self._table is None:
            sides = [self.material_side(i) for i in range(len(self.signatures))]
            self._table = RequestTable(sides)
        return self._table

    def material_side(self, signature: int) -> MaterialSide:
        """What the material criterion reads of the requests of ``signature``."""
        found = self._sides.get(signature)
        if found is None:
            found = self._sides[signature] = material_side(self.signatures[signature])
        return found

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


@dataclass
class _MaterialScores:
    """One offer material against a Side's signatures: the scores (nan: not computed yet), the
    compatibilities built, and for a material offer the archetype of each score (all computed
    at once through the Side's RequestTable; -1: none)."""

    scores: Floats
    found: dict[int, Compatibility] = field(default_factory=dict)
    archetype: Ints | None = None


def requests_side(requests: Iterable[Facts]) -> Side:
    flows = list(requests)
    return Side(flows, Index(_rows(flows), lambda row: request_keys(row.facts)))


def offers_side(offers: Iterable[Facts]) -> Side:
    """The offers as a Side, for matching requests one by one (best_for_request): offers alike
    for the material criterion (_material_key) share their scores against a request."""
    flows = list(offers)
    side = Side(flows, Index(_rows(flows), lambda row: offer_keys(row.facts)), _material_key)
    side.reach = np.array([reach_km(f) for f in flows], dtype=np.float64)
    return side


def _rows(flows: list[Facts]) -> list[_Row]:
    return [_Row(f, i) for i, f in enumerate(flows)]


def _column(values: Sequence[float]) -> Floats:
    return np.array(values, dtype=np.float64)[:, None]


@dataclass
class _Pairs:
    """What the five numeric criteria read of offers and requests, as arrays that broadcast to
    one shape: offers x requests for a group of offers (best_for_offers), or one request's
    candidate offers (best_for_request)."""

    kind: str
    km: Floats
    reach: Floats | float
    given: Floats  # the offers' quantities (nan: unknown)
    needed: Floats  # the requests' quantities
    other_unit: npt.NDArray[np.bool_]  # both sides state units, and they differ
    offered: Ints  # the offers' months
    months: Ints  # the requests' months
    per_month: Floats  # 1 / the number of months the requests need
    tables: _Categories
    # Categories in ``tables``: of the flows outside the Side (the tables' first axis, encoded by
    # _Categories.of_offer) and of the Side's rows (second axis). The tables are symmetric in
    # the two flows' roles, so the Side may hold either the requests or the offers.
    outside: Ints
    inside: Ints
    wanted: Floats  # the requests' temperatures (heat and water)
    temperature: Floats  # the offers' temperatures


def _weighted(pairs: _Pairs) -> Floats:
    """The five numeric criteria, weighted (the material criterion is added by the caller):
    scoring.py's formulas over arrays (tests/test_matching.py checks both agree)."""
    total = np.maximum(0.0, 1.0 - pairs.km / pairs.reach) * WEIGHTS["distance"]
    # Quantity: the need covered and the offer taken; 0.5 when unknown or in other units.
    given, needed = pairs.given, pairs.needed
    with np.errstate(divide="ignore", invalid="ignore"):
        quantity = 0.6 * np.minimum(1.0, given / needed) + 0.4 * np.minimum(1.0, needed / given)
    quantity = np.where(np.isnan(quantity) | pairs.other_unit, 0.5, quantity)
    total += quantity * WEIGHTS["quantity"]
    # Timing: the months needed that the offer covers; one-off against regular, x 0.7.
    tables, mine, theirs = pairs.tables, pairs.outside, pairs.inside
    timing = _POPCOUNT[pairs.offered & pairs.months] * pairs.per_month
    timing *= tables.one_off[mine, theirs]
    total += timing * WEIGHTS["timing"]
    total += tables.precision[mine, theirs] * WEIGHTS["precision"]
    # Quality: temperature for heat and water, the physical state for materials.
    if pairs.kind in ("heat", "water"):
        wanted, temperature = pairs.wanted, pairs.temperature
        gap = wanted - temperature
        short = np.maximum(0.0, 1.0 - gap / 50) if pairs.kind == "heat" else 1.0
        stated = np.where(gap > 0, short, 1.0)
        quality = np.where(np.isnan(wanted), 0.7, np.where(np.isnan(temperature), 0.5, stated))
        total += quality * WEIGHTS["quality"]
    else:
        total += tables.quality[mine, theirs] * WEIGHTS["quality"]
    return np.asarray(total)


def _other_unit(
    units: Ints, unit: Ints | int, stated: npt.NDArray[np.bool_] | bool
) -> npt.NDArray[np.bool_]:
    """Both sides state a unit and they differ: ``units`` the Side's codes (-1 none), ``unit``
    the other side's code in the Side (-1 none, -2 one no row holds) and whether it states one."""
    return np.asarray(stated & (units >= 0) & (units != unit))


def _numbers(
    offers: Sequence[Facts], requests: Side, rows: Ints, km: Floats, reach: float
) -> Floats:
    """The numeric criteria of ``offers`` (of one kind) against requests ``rows``, weighted, as
    an offers x rows array; ``km`` is offers x rows; an offer's own figures are columns."""
    units = requests.unit[rows][None, :]
    unit = np.array([requests.code_of(o.base_unit or None) for o in offers])[:, None]
    stated = np.array([bool(o.base_unit) for o in offers])[:, None]
    return _weighted(
        _Pairs(
            kind=offers[0].kind,
            km=km,
            reach=reach,
            given=_column([o.quantity_per_year or np.nan for o in offers]),
            needed=requests.quantity[rows][None, :],
            other_unit=_other_unit(units, unit, stated),
            offered=np.array([o.months_mask & ALL_MONTHS or ALL_MONTHS for o in offers])[:, None],
            months=requests.months[rows][None, :],
            per_month=requests.per_month[rows][None, :],
            tables=requests.categories,
            outside=np.array([requests.categories.of_offer(o) for o in offers])[:, None],
            inside=requests.category[rows][None, :],
            wanted=requests.temperature[rows][None, :],
            temperature=_column(
                [np.nan if o.temperature_c is None else o.temperature_c for o in offers]
            ),
        )
    )


def _numbers_of_request(request: Facts, offers: Side, rows: Ints, km: Floats) -> Floats:
    """The numeric criteria of ``request`` against offers ``rows`` (each at its own reach),
    weighted, one per row."""
    months = request.months_mask & ALL_MONTHS or ALL_MONTHS
    stated = bool(request.base_unit)
    unit = offers.code_of(request.base_unit or None)
    return _weighted(
        _Pairs(
            kind=request.kind,
            km=km,
            reach=offers.reach[rows],
            given=offers.quantity[rows],
            needed=np.array(request.quantity_per_year or np.nan, dtype=np.float64),
            other_unit=_other_unit(offers.unit[rows], unit, stated),
            offered=offers.months[rows],
            months=np.array(months, dtype=np.int64),
            per_month=1.0 / _POPCOUNT[months],
            tables=offers.categories,
            outside=np.array(offers.categories.of_offer(request), dtype=np.int64),
            inside=offers.category[rows],
            wanted=np.array(
                np.nan if request.temperature_c is None else request.temperature_c, dtype=np.float64
            ),
            temperature=offers.temperature[rows],
        )
    )


def _candidates(side: Side, origin: Facts, keys: set[str], reach: float) -> Ints:
    """The rows of the requests sharing a key with ``origin`` in buckets within reach, once."""
    parts = side.rows_near(origin, keys, reach)
    if not parts:
        return np.zeros(0, dtype=np.int64)
    if len(parts) == 1:
        return parts[0]
    # A request under several of the keys comes once: marked, then read back in row order
    # (cheaper than sorting the concatenation).
    mark = side.mark
    mark[np.concatenate(parts)] = True
    rows = np.flatnonzero(mark)
    mark[rows] = False
    return rows


def best_for_offers(offers: Iterable[Facts], requests: Side, keep: int = KEEP) -> Iterator[Scored]:
    """Each offer's ``keep`` best requests, scored in full, as they come (a caller storing them
    in chunks never holds a whole territory's pairs).

    Offers sharing a material key (hence a reach) and a coarse cell share their candidates: the
    requests of their keys in buckets within reach, and the material scores of those requests.
    Both are found once per group; each offer then only measures its distances and the numeric
    criteria over the group's fitting requests."""
    by_material: dict[Hashable, dict[str, list[Facts]]] = defaultdict(lambda: defaultdict(list))
    for offer in offers:
        by_material[_material_key(offer)][bucket_of(offer)].append(offer)
    weight, total_weight = WEIGHTS["material"], sum(WEIGHTS.values())
    for key, cells in by_material.items():
        # One material key at a time: its scores per request signature, computed on demand.
        known = requests.material_scores(key)
        material, found_for = known.scores, known.found
        for group in cells.values():
            first = group[0]
            reach = reach_km(first)
            rows = _candidates(requests, first, offer_keys(first), reach)
            if not len(rows):
                continue
            offer_side = material_side(first)
            signatures = requests.signature[rows]
            if first.kind == "material":
                if known.archetype is None:
                    # Every signature at once, over arrays (the same scores as one by one).
                    values, known.archetype = requests.material_table().scores(offer_side)
                    material[:] = values
            else:
                missing = np.isnan(material[signatures])
                for signature in np.unique(signatures[missing]) if missing.any() else ():
                    compatibility = material_compatibility(
                        offer_side, requests.material_side(signature)
                    )
                    material[signature] = compatibility.score
                    found_for[int(signature)] = compatibility
            scores = material[signatures]
            fit = scores >= MATERIAL_GATE
            rows, scores = rows[fit], scores[fit] * weight
            # The buckets within reach hold requests beyond reach of every offer of the group:
            # those farther from the group's centre than its farthest offer plus the reach.
            points = _unit_vectors(group)
            centre = points.mean(axis=0)
            centre /= np.linalg.norm(centre)
            spread = float(_chord_km(points @ centre).max())
            close = _chord_km(requests.xyz[rows] @ centre) <= reach + spread + 1.0
            rows, scores = rows[close], scores[close]
            if not len(rows):
                continue
            rows_of, signatures_of = rows.tolist(), requests.signature[rows].tolist()
            xyz, company = requests.xyz[rows], requests.company[rows]
            # Offers of the group in slices, so that an offers x rows array stays small.
            step = max(1, GROUP_CELLS // len(rows))
            for start in range(0, len(group), step):
                part = group[start : start + step]
                km = _chord_km(points[start : start + step] @ xyz.T)
                owner = np.array([requests.code_of(o.company_id) for o in part])[:, None]
                totals = scores[None, :] + _numbers(part, requests, rows, km, reach)
                totals = np.where((km <= reach) & (company[None, :] != owner), totals, -np.inf)
                totals = np.minimum(1.0, totals / total_weight)  # every criterion is at least 0
                best = _top(totals, keep)
                best_totals = np.take_along_axis(totals, best, axis=1).tolist()
                best_km = np.take_along_axis(km, best, axis=1).tolist()
                for offer, positions, offer_totals, offer_km in zip(
                    part, best.tolist(), best_totals, best_km, strict=True
                ):
                    for i, total, pair_km in zip(positions, offer_totals, offer_km, strict=True):
                        if total < 0:
                            break  # out of reach (or the offer's own company): ranked last
                        signature = signatures_of[i]
                        found = found_for.get(signature)
                        if found is None:
                            found = found_for[signature] = _deferred(
                                requests, known, offer_side, signature
                            )
                        yield Scored(offer, requests.flows[rows_of[i]], total, pair_km, found)


def _deferred(
    requests: Side, known: _MaterialScores, offer: MaterialSide, signature: int
) -> Compatibility:
    """A kept pair's material compatibility: its score and archetype from the table, its reasons
    when read."""
    assert known.archetype is not None
    index = int(known.archetype[signature])
    archetype_id = archetypes()[index].id if index >= 0 else None
    score = float(known.scores[signature])
    return DeferredCompatibility(score, archetype_id, offer, requests.material_side(signature))


def _unit_vectors(flows: Sequence[Facts]) -> Floats:
    """Points on the unit sphere (x, y, z), one row per flow."""
    phi = np.radians(np.array([f.latitude for f in flows], dtype=np.float64))
    lam = np.radians(np.array([f.longitude for f in flows], dtype=np.float64))
    return np.stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)], axis=1)


def _chord_km(dot: Floats) -> Floats:
    """Great-circle distances from the dot products of unit vectors (the chord between two
    points is sqrt(2 - 2 dot)): one product of matrices instead of a haversine per pair, exact
    to a metre at any distance a flow travels."""
    chord = np.sqrt(np.maximum(0.0, 2.0 - 2.0 * dot))
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, chord / 2)))


def _top(totals: Floats, keep: int) -> Ints:
    """For each row of ``totals`` (offers x candidates), the positions of its ``keep`` highest
    totals, best first, ties in position order (as a stable sort would give, without sorting
    every row in full). Positions of -inf (out of reach) may come last: callers drop them."""
    count = totals.shape[1]
    # Ties go to the earlier position: a shift far below any difference two scores can show.
    keyed = totals - np.arange(count) * 1e-12
    if count > keep:
        chosen = np.argpartition(-keyed, keep - 1, axis=1)[:, :keep]
    else:
        chosen = np.broadcast_to(np.arange(count), (len(totals), count))
    order = np.argsort(-np.take_along_axis(keyed, chosen, axis=1), axis=1, kind="stable")
    return np.asarray(np.take_along_axis(chosen, order, axis=1))


def best_for_request(request: Facts, offers: Side, keep: int = KEEP) -> list[Scored]:
    """A request's ``keep`` best offers, scored in full. Its candidates are the offers sharing a
    key in buckets within the farthest an offer of the key travels; their distances, material
    scores (once per offer material, kept by the Side for the next requests alike) and numeric
    criteria are computed over arrays; the best are then scored in full (scoring.score_pair),
    ties going to the lower offer reference."""
    parts = [
        rows
        for key in request_keys(request)
        for rows in offers.rows_near(request, {key}, key_reach(request.kind, key))
    ]
    if not parts:
        return []
    mark = offers.mark
    mark[np.concatenate(parts)] = True
    rows = np.flatnonzero(mark)
    mark[rows] = False
    km = _chord_km(offers.xyz[rows] @ _unit_vectors([request])[0])
    near = (km <= offers.reach[rows]) & (offers.company[rows] != offers.code_of(request.company_id))
    rows, km = rows[near], km[near]
    # The material criterion per offer material against this request's signature.
    material = offers.material_scores(("request", _signature(request))).scores
    signatures = offers.signature[rows]
    missing = np.isnan(material[signatures])
    request_side = material_side(request)
    for signature in np.unique(signatures[missing]) if missing.any() else ():
        found = material_compatibility(offers.material_side(int(signature)), request_side)
        material[signature] = found.score
    scores = material[signatures]
    fit = scores >= MATERIAL_GATE
    rows, km, scores = rows[fit], km[fit], scores[fit]
    if not len(rows):
        return []
    totals = scores * WEIGHTS["material"] + _numbers_of_request(request, offers, rows, km)
    totals = np.minimum(1.0, totals / sum(WEIGHTS.values()))
    # Every offer tied with the keep-th best is ranked by reference, as a full sort would.
    cut = np.sort(totals)[-keep] if len(totals) > keep else -np.inf
    chosen = np.flatnonzero(totals >= cut)
    ranked = sorted(
        ((float(totals[i]), str(offers.flows[rows[i]].ref), int(i)) for i in chosen),
        key=lambda item: (-item[0], item[1]),
    )
    return [
        s
        for _, _, i in ranked[:keep]
        if (s := score_pair(offers.flows[rows[i]], request, km=float(km[i])))
    ]
