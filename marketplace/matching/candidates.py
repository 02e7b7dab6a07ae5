"""Candidate generation: which requests an offer is worth scoring against, without all pairs.

Scoring every offer against every request is quadratic. An index of the requests by what an
offer can share with them cuts that to the pairs with a chance:
- materials: the request's own LoW code, subchapter and chapter, and the knowledge base's
  archetypes the request's sector or words point to (a request usually has no code); an offer
  looks up its code, subchapter, chapter and the archetypes its code is a residue of;
- heat, water and gas: the kind alone (their compatibility is temperature and quality).
Within a key, requests are bucketed by coarse H3 cell, so an offer visits only the buckets within
its reach (heat a few km, bulk minerals a few hundred).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache

import h3

from core.text import fold
from marketplace.matching.facts import Facts
from marketplace.matching.knowledge import Archetype, archetypes, max_distance_km

# H3 resolution of the buckets: resolution 3 cells are ~70 km across, so a reach of r km visits
# a disk of about r / 60 + 1 rings.
BUCKET_RESOLUTION = 3
BUCKET_RING_KM = 60.0


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word[-1] in "sx" else word


def _words(text: str) -> set[str]:
    return {_stem(w) for w in fold(text).split() if len(w) > 2}


@lru_cache(maxsize=1)
def _archetype_words() -> tuple[tuple[Archetype, tuple[frozenset[str], ...]], ...]:
    """Each archetype with its phrases as sets of folded, stemmed words (both languages)."""
    table = []
    for archetype in archetypes():
        phrases = tuple(
            frozenset(_words(phrase))
            for phrase in (*archetype.words_fr, *archetype.words_en)
            if _words(phrase)
        )
        table.append((archetype, phrases))
    return tuple(table)


def _nace_under(nace: str | None, receiving: Iterable[str]) -> bool:
    if not nace:
        return False
    return any(nace.startswith(prefix) for prefix in receiving)


def request_archetypes(request: Facts) -> set[str]:
    """The archetypes a request may be a need of: its sector receives the archetype's residue,
    or its words name the archetype's use or the virgin material replaced."""
    words = _words(" ".join((request.label, request.description, request.virgin_material or "")))
    found = set()
    for archetype, phrases in _archetype_words():
        if archetype.kind != request.kind:
            continue
        if _nace_under(request.nace, archetype.receiving_nace) or any(
            phrase <= words for phrase in phrases
        ):
            found.add(archetype.id)
    return found


def _covers(prefix: str, code: str) -> bool:
    return code.startswith(prefix) or prefix.startswith(code)


def offer_archetypes(offer: Facts) -> set[str]:
    """The archetypes whose residue the offer's code is (or, for a card's coarser code, may be)."""
    if offer.kind != "material":
        return {a.id for a in archetypes() if a.kind == offer.kind}
    if not offer.low_code:
        return set()
    return {
        a.id
        for a in archetypes()
        if a.kind == "material" and any(_covers(p, offer.low_code) for p in a.residue_low_codes)
    }


def request_keys(request: Facts) -> set[str]:
    if request.kind != "material":
        return {f"kind:{request.kind}"}
    keys = {f"arch:{a}" for a in request_archetypes(request)}
    if request.low_code:
        code = request.low_code
        keys |= {f"code:{code[:n]}" for n in (2, 4, 6) if len(code) >= n}
    return keys


def offer_keys(offer: Facts) -> set[str]:
    if offer.kind != "material":
        return {f"kind:{offer.kind}"}
    keys = {f"arch:{a}" for a in offer_archetypes(offer)}
    if offer.low_code:
        code = offer.low_code
        keys |= {f"code:{code[:n]}" for n in (2, 4, 6) if len(code) >= n}
    return keys


def _bucket(facts: Facts) -> str:
    return str(h3.latlng_to_cell(facts.latitude, facts.longitude, BUCKET_RESOLUTION))


class Index:
    """Flows of one side by key and coarse cell; built once per computation."""

    def __init__(self, flows: Iterable[Facts], keys: Callable[[Facts], set[str]]) -> None:
        self._by_key: dict[str, dict[str, list[Facts]]] = defaultdict(lambda: defaultdict(list))
        self.size = 0
        for facts in flows:
            bucket = _bucket(facts)
            for key in keys(facts):
                self._by_key[key][bucket].append(facts)
            self.size += 1

    def near(self, origin: Facts, keys: set[str], reach_km: float) -> Iterator[Facts]:
        """Each indexed flow sharing a key with ``keys`` in a bucket within ``reach_km`` of
        ``origin`` (a superset: the exact distance is the scorer's), once."""
        rings = math.ceil(reach_km / BUCKET_RING_KM) + 1
        disk = h3.grid_disk(_bucket(origin), rings)
        seen: set[object] = set()
        for key in keys:
            buckets = self._by_key.get(key)
            if not buckets:
                continue
            for cell in disk:
                for facts in buckets.get(cell, ()):
                    if facts.ref not in seen:
                        seen.add(facts.ref)
                        yield facts


def requests_index(requests: Iterable[Facts]) -> Index:
    return Index(requests, request_keys)


def offers_index(offers: Iterable[Facts]) -> Index:
    return Index(offers, offer_keys)


def requests_for(index: Index, offer: Facts) -> Iterator[Facts]:
    """The requests worth scoring against ``offer``."""
    return index.near(offer, offer_keys(offer), max_distance_km(offer.kind, offer.low_code))


def offers_for(index: Index, request: Facts) -> Iterator[Facts]:
    """The offers worth scoring against ``request``: within the farthest any offer of its kind
    travels (each offer's own reach is the scorer's test)."""
    return index.near(request, request_keys(request), farthest_km(request.kind))


@lru_cache(maxsize=8)
def farthest_km(kind: str) -> float:
    codes = {None} | {c for a in archetypes() if a.kind == kind for c in a.residue_low_codes}
    return max(max_distance_km(kind, code) for code in codes)
