"""Benchmark of the synergy engine on a synthetic France: 100,000 offers and 100,000 requests.

What it measures (figures to bench/results/matching.md and matching.json):
- matching one new flow against the indexed territory: p50 / p95 over 500 new flows;
- the whole-territory recompute (every offer against the requests' index) on one process, and
  on two processes each taking half the offers (as two Celery workers take chunks), with the
  speed-up;
- peak memory (max RSS) of the process that holds the territory;
- the speed-up of the index over naive all-pairs scoring on a 5,000 x 5,000 sample (naive
  scoring timed on the sample's first offers and scaled: its cost per offer is constant).

The engine is measured in memory: candidate generation, scoring and ranking, the work a worker
does once the flows are loaded (a pair's reasons are built when it is stored or shown). Loading
the flows from the database (and opening their sealed labels), and the whole-territory
recompute through it with its storing, are measured by
bench/matching_db_bench.py.

    python -m bench.matching_bench [--offers 100000] [--requests 100000] [--sample 5000]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import resource
import statistics
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from marketplace.matching.engine import (
    KEEP,
    best_for_offers,
    best_for_request,
    offers_side,
    requests_side,
)
from marketplace.matching.facts import Facts
from marketplace.matching.knowledge import archetypes
from marketplace.matching.scoring import score_pair

RESULTS = Path(__file__).resolve().parent / "results"
# Mainland France's bounding box: flows are scattered with denser industrial clusters.
SOUTH, NORTH, WEST, EAST = 42.5, 51.0, -4.5, 7.8
CLUSTERS = [
    (51.03, 2.37),  # Dunkerque
    (49.49, 0.11),  # Le Havre
    (43.40, 4.95),  # Fos-sur-Mer
    (45.72, 4.82),  # Lyon Vallée de la chimie
    (48.85, 2.35),  # Paris
    (50.63, 3.06),  # Lille
    (47.22, -1.55),  # Nantes
    (43.60, 1.44),  # Toulouse
    (48.58, 7.75),  # Strasbourg
    (44.84, -0.58),  # Bordeaux
]
NACE = [
    "23.51Z",
    "23.62Z",
    "23.32Z",
    "01.13Z",
    "01.41Z",
    "10.62Z",
    "35.11Z",
    "24.10Z",
    "42.11Z",
    "16.24Z",
]
REQUEST_WORDS = [
    "ajouts cimentaires",
    "gypse naturel pour plaques de plâtre",
    "raw material for bricks",
    "chauffage des serres",
    "fibres pour l'alimentation animale",
    "palettes à réparer",
    "granulats pour sous-couche routière",
    "combustible de substitution",
]


def _position(rng: random.Random) -> tuple[float, float]:
    if rng.random() < 0.6:
        lat, lon = rng.choice(CLUSTERS)
        return lat + rng.gauss(0, 0.25), lon + rng.gauss(0, 0.35)
    return rng.uniform(SOUTH, NORTH), rng.uniform(WEST, EAST)


def _codes() -> list[str]:
    return sorted({c for a in archetypes() for c in a.residue_low_codes if len(c) == 6})


def synthetic(direction: str, count: int, seed: int) -> list[Facts]:
    rng = random.Random(seed)
    codes = _codes()
    flows = []
    for _ in range(count):
        lat, lon = _position(rng)
        kind = rng.choices(["material", "heat", "water", "gas"], [0.85, 0.07, 0.05, 0.03])[0]
        code = rng.choice(codes) if kind == "material" else None
        words = rng.choice(REQUEST_WORDS)
        if direction == "request" and kind == "material" and rng.random() < 0.6:
            code = None  # buyers describe the need rather than classify it
        flows.append(
            Facts(
                ref=uuid.UUID(int=rng.getrandbits(128)),
                company_id=uuid.UUID(int=rng.getrandbits(128)),
                kind=kind,
                direction=direction,
                low_code=code,
                hazardous=False,
                label=words if direction == "request" else f"résidu {code or kind}",
                description="",
                virgin_material=None,
                nace=rng.choice(NACE),
                quantity_per_year=10 ** rng.uniform(1, 5),
                months_mask=rng.getrandbits(12) if rng.random() < 0.3 else 0,
                regularity=rng.choices(["continuous", "batch", "one-off"], [0.7, 0.2, 0.1])[0],
                temperature_c=rng.uniform(30, 150) if kind in ("heat", "water") else None,
                physical_state=rng.choice([None, "solid", "sludge", "liquid"]),
                precision=rng.choice(["measured", "estimated", None]),
                latitude=lat,
                longitude=lon,
            )
        )
    return flows


def _match_all(offers: list[Facts], requests: list[Facts]) -> int:
    """Every offer's best requests, as a worker's recompute does (engine.best_for_offers)."""
    return sum(1 for _ in best_for_offers(offers, requests_side(requests)))


def _half(args: tuple[int, int, int, int]) -> int:
    """One worker's share of a whole-territory recompute: it loads (here: rebuilds) the
    territory and matches its half of the offers."""
    offers_count, requests_count, part, parts = args
    offers = synthetic("offer", offers_count, 1)
    requests = synthetic("request", requests_count, 2)
    return _match_all(offers[part::parts], requests)


def _naive(offers: list[Facts], requests: list[Facts]) -> int:
    """All pairs scored in full, then each offer's best kept: what the index saves."""
    found = 0
    for offer in offers:
        scored = [s for r in requests if (s := score_pair(offer, r)) is not None]
        found += len(sorted(scored, key=lambda s: -s.score)[:KEEP])
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--offers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=5_000)
    parser.add_argument("--naive-offers", type=int, default=250)
    args = parser.parse_args()
    figures: dict[str, object] = {"offers": args.offers, "requests": args.requests}

    started = time.perf_counter()
    offers = synthetic("offer", args.offers, 1)
    requests = synthetic("request", args.requests, 2)
    figures["generate_s"] = round(time.perf_counter() - started, 2)

    started = time.perf_counter()
    r_side = requests_side(requests)
    o_side = offers_side(offers)
    figures["index_s"] = round(time.perf_counter() - started, 2)

    # One new flow: half new offers (against the requests' index), half new requests.
    new_offers = synthetic("offer", 250, 3)
    new_requests = synthetic("request", 250, 4)
    timings = []
    for flow in [*new_offers, *new_requests]:
        t = time.perf_counter()
        if flow.direction == "offer":
            list(best_for_offers([flow], r_side))
        else:
            best_for_request(flow, o_side)
        timings.append((time.perf_counter() - t) * 1000)
    timings.sort()
    figures["one_flow_ms_p50"] = round(statistics.median(timings), 1)
    figures["one_flow_ms_p95"] = round(timings[math.ceil(0.95 * len(timings)) - 1], 1)

    started = time.perf_counter()
    figures["pairs_found"] = _match_all(offers, requests)
    one = time.perf_counter() - started
    figures["territory_one_worker_s"] = round(one, 1)
    figures["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)

    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=2) as pool:
        list(pool.map(_half, [(args.offers, args.requests, p, 2) for p in range(2)]))
    two = time.perf_counter() - started
    figures["territory_two_workers_s"] = round(two, 1)
    figures["two_worker_speedup"] = round(one / two, 2)

    # Naive scoring costs the same for every offer of the sample: it is timed on the first
    # --naive-offers offers against all the sample's requests and scaled to the sample's offers.
    sample_o, sample_r = offers[: args.sample], requests[: args.sample]
    timed = sample_o[: args.naive_offers]
    started = time.perf_counter()
    naive_found = _naive(timed, sample_r)
    naive = (time.perf_counter() - started) * len(sample_o) / len(timed)
    indexed_found = sum(1 for _ in best_for_offers(timed, requests_side(sample_r)))
    started = time.perf_counter()
    _match_all(sample_o, sample_r)
    indexed = time.perf_counter() - started
    figures["sample"] = f"{len(sample_o)} x {len(sample_r)}"
    figures["naive_offers_timed"] = len(timed)
    figures["naive_s_scaled"] = round(naive, 1)
    figures["indexed_s"] = round(indexed, 2)
    figures["index_speedup"] = round(naive / indexed, 1)
    # Pairs among each timed offer's best that the index finds (those it misses share only a
    # List of Waste chapter, which the index does not look up: bench/matching_recall.py).
    figures["naive_pairs"], figures["indexed_pairs"] = naive_found, indexed_found

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "matching.json").write_text(json.dumps(figures, indent=2) + "\n")
    lines = ["# Matching engine benchmark", "", "`python -m bench.matching_bench`", ""]
    lines += [f"- {k}: {v}" for k, v in figures.items()]
    (RESULTS / "matching.md").write_text("\n".join(lines) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
