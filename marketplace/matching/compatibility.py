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

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

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
