"""Material compatibility of an offer and a request: a score in [0, 1] and the reasons a person
can read.

- Both sides carry a List of Waste code: the same code is 1.0, the same subchapter 0.6, the same
  chapter 0.3.
- Requests usually carry no code. The offer's code names the archetypes of the knowledge base
  whose residue it is; for each, two pieces of evidence come from the request: its company's
  sector falls under the archetype's receiving sectors (at any level: ``23.62Z`` under ``23.6``),
  and its words (label, description, virgin material; French or English, folded and stemmed)
  name the archetype's use, virgin material or residue. Both give a high score (0.7 to 0.95),
  words alone a partial one (up to 0.6), the sector alone 0.4, or 0.15 when the request's words
  name another use (a cement plant asking for fuel does not want fly ash).
- A request whose words name another residue (a brick works asking for « boues de papeterie »)
  gets 0.6 x the score from an offer of a residue its words do not even touch (coal fly ash).
- Heat, water and gas compare kinds (0 across kinds, 0.5 alike), then the same evidence over the
  archetypes of that kind lifts the score; two utilities that the texts name differently
  (hydrogen offered, CO2 asked for; process water offered, warm seawater asked for) score 0.1,
  and an offered gas that the text names only takes its own archetypes' uses.

Each side's reading is cached (one per distinct side), so scoring a pair is a few dictionary
look-ups: matching one flow calls this thousands of times.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from marketplace.matching.knowledge import (
    Archetype,
    Naming,
    archetypes,
    archetypes_for_code,
    archetypes_for_sector,
    named_archetypes,
    named_residues,
    words_of,
)


@dataclass(frozen=True)
class MaterialSide:
    kind: str
    low_code: str | None
    label: str
    description: str
    virgin_material: str | None = None
    nace: str | None = None


@dataclass(frozen=True)
class Compatibility:
    score: float
    reasons: tuple[str, ...]
    archetype_id: str | None


SAME_CODE = 1.0
SAME_SUBCHAPTER = 0.6
SAME_CHAPTER = 0.3
SECTOR_ONLY = 0.4
SECTOR_ONLY_OTHER_USE = 0.15
OTHER_CODE_CAP = 0.85
SAME_KIND = 0.5
OTHER_GAS = 0.1
OTHER_RESIDUE = 0.6
ASKED_SHARE = 2 / 3
TOUCHED_SHARE = 1 / 3


@dataclass(frozen=True)
class _Reading:
    """What one side says, read once: its code (compact), the archetypes its text names, those
    whose residue its text names, and the archetypes its sector receives (with the matched code)."""

    code: str | None
    named: Mapping[int, Naming]
    residues: frozenset[int]
    asked_residues: frozenset[int]
    touched_residues: frozenset[int]
    sector: Mapping[int, str]
    by_code: tuple[int, ...]


def _compact(code: str | None) -> str | None:
    compact = (code or "").replace(" ", "").rstrip("*")
    return compact or None


@lru_cache(maxsize=200_000)
def _read(side: MaterialSide) -> _Reading:
    text = " ".join(filter(None, (side.label, side.description, side.virgin_material)))
    words = words_of(text)
    code = _compact(side.low_code)
    return _Reading(
        code=code,
        named=named_archetypes(words),
        residues=named_residues(words),
        asked_residues=named_residues(words, ASKED_SHARE),
        touched_residues=named_residues(words, TOUCHED_SHARE),
        sector=archetypes_for_sector(side.nace),
        by_code=archetypes_for_code(code) if code else (),
    )


def _spaced(code: str) -> str:
    return " ".join(code[i : i + 2] for i in range(0, len(code), 2))


def _code_match(offer: str | None, request: str | None) -> float:
    if not offer or not request:
        return 0.0
    if offer == request:
        return SAME_CODE
    if offer[:4] == request[:4]:
        return SAME_SUBCHAPTER
    if offer[:2] == request[:2]:
        return SAME_CHAPTER
    return 0.0


def _code_reason(offer: str, request: str) -> str:
    """The words of _code_match's score (built only when it stays the best evidence)."""
    if offer == request:
        return f"same List of Waste code {_spaced(offer)}"
    if offer[:4] == request[:4]:
        return f"same subchapter {_spaced(offer[:4])}"
    return f"same chapter {offer[:2]}"


def _words_reason(naming: Naming) -> str:
    what = "this residue" if naming.residue else "this use"
    if naming.strength >= 1.0:
        return f"the request's words « {naming.phrase} » name {what}"
    return f"the request's words partly name {what} (« {naming.phrase} »)"


def _name(archetype: Archetype) -> str:
    return archetype.residue_en.split(";")[0].strip()


def _naming(index: int, request: _Reading, *, utility: bool) -> Naming | None:
    """How the request names archetype ``index``: its words, or its own code when the archetype
    lists it. For a utility only a whole use phrase counts: its residue names ("waste heat") and
    its kind's own words ("chaleur" in « récupération de chaleur ») say nothing of the use."""
    naming = request.named.get(index)
    if utility and naming is not None and (naming.residue or naming.strength < 1.0):
        naming = None
    if index in request.by_code and (naming is None or naming.strength < 1.0):
        naming = Naming(1.0, f"List of Waste {_spaced(request.code or '')}", True)
    return naming


def _evidence_score(
    sector: str | None, naming: Naming | None, request: _Reading, *, base: float
) -> float:
    """Score one archetype by the request's sector and words (module doc); ``base`` is what a
    pair gets with no evidence at all (0 for materials, SAME_KIND for utilities)."""
    words = naming.strength if naming else 0.0
    if sector and words:
        score = 0.7 + 0.25 * words
    elif words:
        score = 0.3 + 0.3 * words
    elif sector:
        other_use = any(n.strength >= 1.0 for n in request.named.values())
        score = SECTOR_ONLY_OTHER_USE if other_use else SECTOR_ONLY
    else:
        return base
    if base:
        score = base + (1 - base) * (score - 0.15) / 0.85
    return score


def _evidence(
    archetype: Archetype, sector: str | None, naming: Naming | None, request: _Reading
) -> list[str]:
    """The reasons of _evidence_score's score, in words (built for the best archetype only)."""
    tag = f"[archetype {archetype.id}]"
    words = naming.strength if naming else 0.0
    if sector and words:
        reasons = [
            f"{_name(archetype)} is a usual input for {archetype.use_en} "
            f"in the requester's sector (NACE {sector}) {tag}"
        ]
    elif words:
        reasons = [f"{_name(archetype)} can serve for {archetype.use_en} {tag}"]
    elif sector:
        reasons = [
            f"the requester's sector (NACE {sector}) usually takes "
            f"{_name(archetype)} for {archetype.use_en} {tag}"
        ]
        if any(n.strength >= 1.0 for n in request.named.values()):
            reasons.append("but the request's words name another use")
    else:
        return []
    if naming:
        reasons.append(_words_reason(naming))
    return reasons


def _across(candidates: tuple[int, ...], request: _Reading) -> tuple[float, list[str], str | None]:
    """The requester's sector takes this residue for one use, and its words name another use of
    the same residue (a cement plant asking for "ciment" meets fly ash through the concrete
    archetype's words): a fairly high score, below both pieces of evidence on one archetype."""
    table = archetypes()
    sector = next(((i, request.sector[i]) for i in candidates if i in request.sector), None)
    if sector is None:
        return 0.0, [], None
    named = [
        (i, n)
        for i in candidates
        if (n := _naming(i, request, utility=False)) and n.strength >= 1.0
    ]
    if not named:
        return 0.0, [], None
    index, naming = max(named, key=lambda item: item[1].strength)
    taker, other = table[sector[0]], table[index]
    return (
        0.65 + 0.2 * naming.strength,
        [
            f"{_name(taker)} is a usual input for {taker.use_en} in the requester's sector "
            f"(NACE {sector[1]}) [archetype {taker.id}]",
            f"{_words_reason(naming)}: {other.use_en} [archetype {other.id}]",
        ],
        taker.id,
    )


def _material(offer: _Reading, request: _Reading) -> Compatibility:
    best = _code_match(offer.code, request.code)
    best_reasons = [_code_reason(offer.code or "", request.code or "")] if best else []
    best_index: int | None = None
    candidates = offer.by_code or tuple(sorted(offer.residues))
    table = archetypes()
    cap = OTHER_CODE_CAP if request.code and request.code != offer.code else 1.0
    for index in candidates:
        naming = _naming(index, request, utility=False)
        score = min(_evidence_score(request.sector.get(index), naming, request, base=0.0), cap)
        if score > best:
            best, best_index = score, index
    best_id: str | None = None
    if best_index is not None:
        naming = _naming(best_index, request, utility=False)
        archetype = table[best_index]
        best_reasons = _evidence(archetype, request.sector.get(best_index), naming, request)
        best_id = archetype.id
    across, why, taker = _across(candidates, request)
    if min(across, cap) > best:
        best, best_reasons, best_id = min(across, cap), why, taker
    asked = request.asked_residues
    if best_id and asked and not request.touched_residues & set(candidates):
        best *= OTHER_RESIDUE
        best_reasons = [*best_reasons, f"but the request names {_name(table[min(asked)])}"]
    if not best_reasons:
        best_reasons = ["no known substitution links this residue to the request"]
    return Compatibility(round(best, 4), tuple(best_reasons), best_id)


def _utility(kind: str, offer: _Reading, request: _Reading) -> Compatibility:
    table = archetypes()
    if offer.residues and request.residues and not (offer.residues & request.residues):
        offered = _name(table[min(offer.residues)])
        asked = _name(table[min(request.residues)])
        return Compatibility(
            OTHER_GAS,
            (f"both are {kind}", f"the offer is {offered}; the request names {asked}"),
            None,
        )
    candidates = {i for i, a in enumerate(table) if a.kind == kind}
    if kind == "gas" and offer.residues:
        candidates = set(offer.residues)
    best, best_reasons, best_id = SAME_KIND, [f"both are {kind}"], None
    for index in sorted(candidates):
        naming = _naming(index, request, utility=True)
        sector = request.sector.get(index)
        score = _evidence_score(sector, naming, request, base=SAME_KIND)
        if score > best:
            why = _evidence(table[index], sector, naming, request)
            best, best_reasons, best_id = score, [f"both are {kind}", *why], table[index].id
    return Compatibility(round(best, 4), tuple(best_reasons), best_id)


def material_compatibility(offer: MaterialSide, request: MaterialSide) -> Compatibility:
    """How well an offer's residue or utility meets a request (module doc)."""
    if offer.kind != request.kind:
        return Compatibility(
            0.0, (f"an offer of {offer.kind} does not meet a request for {request.kind}",), None
        )
    offer_reading, request_reading = _read(offer), _read(request)
    if offer.kind == "material":
        return _material(offer_reading, request_reading)
    return _utility(offer.kind, offer_reading, request_reading)


class DeferredCompatibility(Compatibility):
    """A material compatibility whose score and archetype are known (RequestTable.scores) and
    whose reasons are built only when read: a territory's pass keeps a million pairs and shows
    or stores the reasons of far fewer. They are material_compatibility's, for the same sides."""

    _sides: tuple[MaterialSide, MaterialSide]

    def __init__(
        self, score: float, archetype_id: str | None, offer: MaterialSide, request: MaterialSide
    ) -> None:
        object.__setattr__(self, "score", score)
        object.__setattr__(self, "archetype_id", archetype_id)
        object.__setattr__(self, "_sides", (offer, request))

    @property  # read-only here: built from the sides when first read
    def reasons(self) -> tuple[str, ...]:
        found: tuple[str, ...] | None = self.__dict__.get("_reasons")
        if found is None:
            found = material_compatibility(*self._sides).reasons
            object.__setattr__(self, "_reasons", found)
        return found

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Compatibility):
            return NotImplemented
        return (self.score, self.reasons, self.archetype_id) == (
            other.score,
            other.reasons,
            other.archetype_id,
        )

    __hash__ = Compatibility.__hash__


class _ByArchetype:
    """Rows (request signatures) and a value per row, for one archetype."""

    __slots__ = ("rows", "values")

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.values: list[float] = []

    def add(self, row: int, value: float) -> None:
        self.rows.append(row)
        self.values.append(value)


class RequestTable:
    """Many requests read once for every offer of a material: what _material reads of a request
    that does not depend on the offer (its code, and per archetype its evidence score, whether
    its words fully name it, whether its sector takes it, whether its words touch its residue),
    held per archetype, so that an offer material's scores against every request are a few array
    operations (scores) instead of a _material call each. Materials only: a request of another
    kind scores 0 against a material offer."""

    def __init__(self, requests: Sequence[MaterialSide]) -> None:
        size = len(requests)
        self.size = size
        self.material = np.array([r.kind == "material" for r in requests], dtype=bool)
        codes = [(_read(r).code or "") if r.kind == "material" else "" for r in requests]
        self.has_code = np.array([bool(c) for c in codes], dtype=bool)
        self.code = np.array(codes, dtype=object)
        self.code4 = np.array([c[:4] for c in codes], dtype=object)
        self.code2 = np.array([c[:2] for c in codes], dtype=object)
        self.asked = np.zeros(size, dtype=bool)
        self.evidence: dict[int, _ByArchetype] = {}
        self.full_naming: dict[int, _ByArchetype] = {}
        self.sector: dict[int, _ByArchetype] = {}
        self.touched: dict[int, _ByArchetype] = {}
        for row, request in enumerate(requests):
            if request.kind != "material":
                continue
            reading = _read(request)
            self.asked[row] = bool(reading.asked_residues)
            for index in reading.sector:
                self.sector.setdefault(index, _ByArchetype()).add(row, 1.0)
            for index in reading.touched_residues:
                self.touched.setdefault(index, _ByArchetype()).add(row, 1.0)
            for index in {*reading.sector, *reading.named, *reading.by_code}:
                naming = _naming(index, reading, utility=False)
                score = _evidence_score(reading.sector.get(index), naming, reading, base=0.0)
                if score > 0:
                    self.evidence.setdefault(index, _ByArchetype()).add(row, score)
                if naming is not None and naming.strength >= 1.0:
                    self.full_naming.setdefault(index, _ByArchetype()).add(row, naming.strength)

    def _column(self, table: dict[int, _ByArchetype], index: int) -> npt.NDArray[np.float64]:
        column = np.zeros(self.size)
        found = table.get(index)
        if found is not None:
            column[found.rows] = found.values
        return column

    def scores(self, offer: MaterialSide) -> tuple[list[float], npt.NDArray[np.int64]]:
        """A material offer's score against each request (rounded as material_compatibility
        rounds it) and the index of the archetype that made it (-1: none): the same as
        material_compatibility's, step by step as _material takes them."""
        reading = _read(offer)
        code = reading.code or ""
        best = np.zeros(self.size)
        if code:
            best[self.has_code & (self.code2 == code[:2])] = SAME_CHAPTER
            best[self.has_code & (self.code4 == code[:4])] = SAME_SUBCHAPTER
            best[self.has_code & (self.code == code)] = SAME_CODE
        cap = np.where(self.has_code & (self.code != code), OTHER_CODE_CAP, 1.0)
        chosen = np.full(self.size, -1, dtype=np.int64)
        candidates = reading.by_code or tuple(sorted(reading.residues))
        for index in candidates:
            score = np.minimum(self._column(self.evidence, index), cap)
            better = score > best
            best[better] = score[better]
            chosen[better] = index
        # _across: the first candidate the sector takes, and the strongest full naming.
        taker = np.full(self.size, -1, dtype=np.int64)
        named = np.zeros(self.size)
        touched = np.zeros(self.size, dtype=bool)
        for index in candidates:
            takes = (self._column(self.sector, index) > 0) & (taker < 0)
            taker[takes] = index
            named = np.maximum(named, self._column(self.full_naming, index))
            touched |= self._column(self.touched, index) > 0
        across = np.where((taker >= 0) & (named >= 1.0), 0.65 + 0.2 * named, 0.0)
        across = np.minimum(across, cap)
        wins = across > best
        best[wins] = across[wins]
        chosen[wins] = taker[wins]
        penalised = (chosen >= 0) & self.asked & ~touched
        best[penalised] *= OTHER_RESIDUE
        best[~self.material] = 0.0
        chosen[~self.material] = -1
        return [round(value, 4) for value in best.tolist()], chosen
