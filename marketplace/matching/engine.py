"""The whole-territory pass: each offer's best requests (and each request's best offers),
without scoring every pair in full.

For each offer the candidates come from the index (matching/candidates.py); the material
criterion, the costly one, depends only on the offer's code (or, without one, its words) and
on the request, so it is computed once per group of offers sharing a code and reused; the other
criteria are numbers (scoring.quick_total). Only the best KEEP of each offer are then scored in
full, with their reasons.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Hashable, Iterable

from marketplace.matching.candidates import Index, offers_for, requests_for
from marketplace.matching.compatibility import material_compatibility
from marketplace.matching.facts import Facts
from marketplace.matching.scoring import (
    MATERIAL_GATE,
    Scored,
    material_side,
    quick_total,
    reach_km,
    score_pair,
)
from privacy.generalisation import haversine_km

KEEP = 25


def _material_key(offer: Facts) -> Hashable:
    """What the material criterion reads of an offer."""
    if offer.low_code:
        return (offer.kind, offer.low_code)
    return (offer.kind, offer.label, offer.description)


def best_for_offers(offers: Iterable[Facts], requests: Index, keep: int = KEEP) -> list[Scored]:
    """Each offer's ``keep`` best requests, scored in full."""
    groups: dict[Hashable, list[Facts]] = defaultdict(list)
    for offer in offers:
        groups[_material_key(offer)].append(offer)
    found: list[Scored] = []
    for group in groups.values():
        materials: dict[object, float] = {}
        for offer in group:
            reach = reach_km(offer)
            ranked: list[tuple[float, str, Facts, float]] = []
            for request in requests_for(requests, offer):
                if request.company_id == offer.company_id:
                    continue
                km = haversine_km(
                    offer.latitude, offer.longitude, request.latitude, request.longitude
                )
                if km > reach:
                    continue
                material = materials.get(request.ref)
                if material is None:
                    material = materials[request.ref] = material_compatibility(
                        material_side(offer), material_side(request)
                    ).score
                if material < MATERIAL_GATE:
                    continue
                total = quick_total(offer, request, material, km, reach)
                item = (total, str(request.ref), request, km)
                if len(ranked) < keep:
                    heapq.heappush(ranked, item)
                elif item[:2] > ranked[0][:2]:
                    heapq.heapreplace(ranked, item)
            for _, _, request, km in ranked:
                scored = score_pair(offer, request, km=km)
                if scored is not None:
                    found.append(scored)
    return found


def best_for_request(request: Facts, offers: Index, keep: int = KEEP) -> list[Scored]:
    """A request's ``keep`` best offers, scored in full."""
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
        material = materials.get(key)
        if material is None:
            material = materials[key] = material_compatibility(
                material_side(offer), material_side(request)
            ).score
        if material < MATERIAL_GATE:
            continue
        item = (quick_total(offer, request, material, km, reach), str(offer.ref), offer, km)
        if len(ranked) < keep:
            heapq.heappush(ranked, item)
        elif item[:2] > ranked[0][:2]:
            heapq.heapreplace(ranked, item)
    return [s for _, _, offer, km in ranked if (s := score_pair(offer, request, km=km))]
