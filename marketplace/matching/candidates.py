"""Candidate generation: which requests an offer is worth scoring against, without all pairs.

Scoring every offer against every request is quadratic. An index of the requests by what an
offer can share with them cuts that to the pairs with a chance:
- materials: the request's own LoW code and subchapter, and the knowledge base's archetypes the
  request's sector or words point to (a request usually has no code); an offer looks up its
  code, its subchapter and the archetypes its code is a residue of (a pair sharing only a
  chapter is too weak a fit to be worth scoring);
- heat, water and gas: the kind alone (their compatibility is temperature and quality).
Within a key, requests are bucketed by coarse H3 cell, so an offer visits only the buckets within
its reach (heat a few km, bulk minerals a few hundred), found once per bucket and key.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Generic, Protocol, TypeVar

import h3
import numpy as np
import numpy.typing as npt

from marketplace.matching.facts import Facts
from marketplace.matching.knowledge import (
    archetypes,
    archetypes_by_code,
    archetypes_for_code,
    archetypes_for_sector,
    max_distance_km,
    named_archetypes,
    words_of,
)
from privacy.generalisation import EARTH_RADIUS_KM

# H3 resolution of the buckets: resolution 3 cells are about 70 km across (centre to vertex at
# most ~70 km), so two flows within r km lie in buckets whose centres are within r + 140 km.
BUCKET_RESOLUTION = 3
BUCKET_SLACK_KM = 140.0


def request_archetypes(request: Facts) -> set[int]:
    """The archetypes (by index) a request may be a need of: its sector receives the archetype's
    residue, its words name the archetype's use, residue or the virgin material replaced, or its
    own code is one the archetype lists."""
    text = " ".join((request.label, request.description, request.virgin_material or ""))
    found = set(archetypes_for_sector(request.nace)) | set(named_archetypes(words_of(text)))
    if request.low_code:
        # A request's own code names the archetypes that list it (compatibility reads it so).
        found |= set(archetypes_for_code(request.low_code))
    every = archetypes()
    return {i for i in found if every[i].kind == request.kind}


@lru_cache(maxsize=4_096)
def _archetypes_under(code: str) -> tuple[int, ...]:
    """For a card's coarser code (a subchapter or chapter), every archetype whose residue lies
    below it or above it."""
    return tuple(
        sorted(
            {
                i
                for listed, indexes in archetypes_by_code().items()
                if listed.startswith(code) or code.startswith(listed)
                for i in indexes
            }
        )
    )


def offer_archetypes(offer: Facts) -> set[int]:
    """The archetypes (by index) whose residue the offer is (or, for a card's coarser code,
    may be); for heat, water and gas every archetype of the kind."""
    every = archetypes()
    if offer.kind != "material":
        return {i for i, a in enumerate(every) if a.kind == offer.kind}
    if not offer.low_code:
        return set()
    if len(offer.low_code) == 6:
        return set(archetypes_for_code(offer.low_code))
    return set(_archetypes_under(offer.low_code))


def _keys(facts: Facts, archetypes_of: Callable[[Facts], set[int]]) -> set[str]:
    if facts.kind != "material":
        return {f"kind:{facts.kind}"}
    keys = {f"arch:{a}" for a in archetypes_of(facts)}
    if facts.low_code:
        code = facts.low_code
        keys |= {f"code:{code[:n]}" for n in (4, 6) if len(code) >= n}
    return keys


def request_keys(request: Facts) -> set[str]:
    return _keys(request, request_archetypes)


def offer_keys(offer: Facts) -> set[str]:
    return _keys(offer, offer_archetypes)


def bucket_of(facts: Located) -> str:
    """The coarse cell a flow is indexed under."""
    return str(h3.latlng_to_cell(facts.latitude, facts.longitude, BUCKET_RESOLUTION))


@lru_cache(maxsize=4_096)
def _center(bucket: str) -> tuple[float, float]:
    latitude, longitude = h3.cell_to_latlng(bucket)
    return latitude, longitude


Floats = npt.NDArray[np.float64]


def distances_km(
    latitude: float | Floats, longitude: float | Floats, phi: Floats, lam: Floats
) -> Floats:
    """Great-circle distances from one point (degrees) to many (radians); from several points
    as a column, an array of points x many."""
    phi1, lambda1 = np.radians(latitude), np.radians(longitude)
    a = (
        np.sin((phi - phi1) / 2) ** 2
        + np.cos(phi1) * np.cos(phi) * np.sin((lam - lambda1) / 2) ** 2
    )
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0))))


class Located(Protocol):
    """What the index needs of what it holds: an identity and a position."""

    @property
    def ref(self) -> uuid.UUID: ...

    @property
    def latitude(self) -> float: ...

    @property
    def longitude(self) -> float: ...


T = TypeVar("T", bound=Located)


class Index(Generic[T]):
    """Flows of one side by key and coarse cell; built once per computation."""

    def __init__(self, flows: Iterable[T], keys: Callable[[T], set[str]]) -> None:
        self._by_key: dict[str, dict[str, list[T]]] = defaultdict(lambda: defaultdict(list))
        self._near: dict[tuple[str, str, float], list[list[T]]] = {}
        self._key_centres: dict[str, tuple[list[list[T]], Floats, Floats]] = {}
        self.size = 0
        for facts in flows:
            bucket = bucket_of(facts)
            for key in keys(facts):
                self._by_key[key][bucket].append(facts)
            self.size += 1

    def _buckets(self, origin: str, key: str, reach_km: float) -> list[list[T]]:
        """The key's buckets whose centre lies within reach of the origin's bucket (plus the
        two buckets' radii), computed once per origin bucket, key and reach."""
        found = self._near.get((origin, key, reach_km))
        if found is None:
            flows, latitudes, longitudes = self._centres(key)
            latitude, longitude = _center(origin)
            within = distances_km(latitude, longitude, latitudes, longitudes)
            found = [flows[i] for i in np.nonzero(within <= reach_km + BUCKET_SLACK_KM)[0]]
            self._near[(origin, key, reach_km)] = found
        return found

    def _centres(self, key: str) -> tuple[list[list[T]], Floats, Floats]:
        """The key's buckets, their flows and their centres in radians (once per key)."""
        known = self._key_centres.get(key)
        if known is None:
            buckets = self._by_key.get(key, {})
            cells = list(buckets)
            centres = [_center(cell) for cell in cells]
            known = (
                [buckets[cell] for cell in cells],
                np.radians(np.array([c[0] for c in centres], dtype=np.float64)),
                np.radians(np.array([c[1] for c in centres], dtype=np.float64)),
            )
            self._key_centres[key] = known
        return known

    def buckets_near(self, origin: Located, keys: set[str], reach_km: float) -> list[list[T]]:
        """The buckets (lists of flows, shared: do not change them) of ``keys`` within reach."""
        origin_bucket = bucket_of(origin)
        return [flows for key in keys for flows in self._buckets(origin_bucket, key, reach_km)]


@lru_cache(maxsize=4_096)
def key_reach(kind: str, key: str) -> float:
    """The farthest an offer indexed under ``key`` may travel."""
    every = archetypes()
    if key.startswith("arch:"):
        codes = every[int(key[5:])].residue_low_codes or (None,)
    elif key.startswith("code:"):
        prefix = key[5:]
        codes = (prefix, *{c for a in every for c in a.residue_low_codes if c.startswith(prefix)})
    else:
        codes = (None,)
    return max(max_distance_km(kind, code) for code in codes)
