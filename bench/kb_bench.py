"""Speed of the knowledge base: loading, material_compatibility calls per second, codes_for_words.

    .venv/bin/python bench/kb_bench.py [--offers 2000] [--requests 500]

Offers carry List of Waste codes drawn from the knowledge base and from the whole list; requests
are written as plants write them (no code, a sector and a few words drawn from the archetypes,
some in English, some unrelated), a tenth with a code. Every offer is scored against every
request twice: the first pass reads each distinct side once (cold), the second finds every side
read (warm, as when one flow is matched again against a territory). Writes bench/results/kb.md.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.reference.loader import read_csv  # noqa: E402
from marketplace.matching import compatibility, knowledge  # noqa: E402
from marketplace.matching.compatibility import MaterialSide, material_compatibility  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def _clear() -> None:
    for cached in (
        knowledge.archetypes,
        knowledge.factors,
        knowledge.vocabulary,
        knowledge._index,
        knowledge.words_of,
        knowledge.codes_for_words,
        compatibility._read,
    ):
        cached.cache_clear()


def _sides(offers: int, requests: int, seed: int) -> tuple[list[MaterialSide], list[MaterialSide]]:
    rng = random.Random(seed)
    table = knowledge.archetypes()
    kb_codes = sorted({c for a in table for c in a.residue_low_codes if len(c) == 6})
    all_codes = [r["code_compact"] for r in read_csv("list_of_waste.csv") if r["level"] == "entry"]
    made_offers = []
    for number in range(offers):
        if number % 10 < 2:
            kind = rng.choice(("heat", "water", "gas"))
            utility = rng.choice([a for a in table if a.kind == kind])
            label = rng.choice(utility.residue_fr.split(";")).strip()
            made_offers.append(MaterialSide(kind, None, f"{label} {number}", ""))
            continue
        code = rng.choice(kb_codes if number % 10 < 8 else all_codes)
        made_offers.append(MaterialSide("material", code, f"Offre {number}", "lot régulier"))
    made_requests = []
    for number in range(requests):
        archetype = rng.choice(table)
        words = rng.sample(
            archetype.words_en if number % 3 == 0 else archetype.words_fr,
            k=min(2, len(archetype.words_fr), len(archetype.words_en)),
        )
        if number % 7 == 0:
            words = ["matière première", "besoin régulier"]
        nace = rng.choice(archetype.receiving_nace)
        wanted = rng.choice(archetype.residue_low_codes) if archetype.residue_low_codes else None
        made_requests.append(
            MaterialSide(
                archetype.kind,
                wanted if number % 10 == 0 else None,
                " ".join(words),
                f"demande {number}",
                virgin_material=archetype.virgin_material_fr if number % 2 else None,
                nace=nace if len(nace) == 5 else None,
            )
        )
    return made_offers, made_requests


def _pass(offers: list[MaterialSide], requests: list[MaterialSide]) -> tuple[float, int]:
    started = time.perf_counter()
    calls = 0
    for offered in offers:
        for asked in requests:
            material_compatibility(offered, asked)
            calls += 1
    return time.perf_counter() - started, calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--offers", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--seed", type=int, default=10)
    args = parser.parse_args()

    _clear()
    started = time.perf_counter()
    table = knowledge.archetypes()
    knowledge.vocabulary()
    knowledge.factors()
    knowledge.max_distance_km("material", "100102")
    load = time.perf_counter() - started

    offers, requests = _sides(args.offers, args.requests, args.seed)
    cold, calls = _pass(offers, requests)
    warm, _ = _pass(offers, requests)
    high = sum(
        material_compatibility(o, r).score >= 0.8 for o in offers[:200] for r in requests
    ) / (200 * len(requests))

    queries = sorted({w for a in table for w in (*a.words_fr[:2], *a.words_en[:1], a.residue_fr)})
    knowledge.codes_for_words.cache_clear()
    times = []
    for query in queries:
        begun = time.perf_counter()
        knowledge.codes_for_words(query)
        times.append(time.perf_counter() - begun)

    lines = [
        "# Knowledge base and material compatibility: speed",
        "",
        f"`python bench/kb_bench.py --offers {args.offers} --requests {args.requests}` "
        f"(Python {sys.version.split()[0]}, one process, one core). Figures only; no test "
        "asserts a time.",
        "",
        "| what | figure |",
        "| --- | --- |",
        f"| archetypes | {len(table)} |",
        f"| load and validate the data files, build the vocabulary (cold) | {load * 1000:.0f} ms |",
        f"| material_compatibility, first pass ({calls:,} calls, each distinct side read once) "
        f"| {calls / cold:,.0f} calls/s ({cold / calls * 1e6:.2f} µs per call) |",
        f"| material_compatibility, second pass (every side already read) "
        f"| {calls / warm:,.0f} calls/s ({warm / calls * 1e6:.2f} µs per call) |",
        f"| share of pairs scoring >= 0.8 (first 200 offers) | {high:.1%} |",
        f"| codes_for_words, {len(queries)} distinct queries, uncached "
        f"| median {statistics.median(times) * 1e6:.0f} µs, "
        f"max {max(times) * 1e6:.0f} µs |",
        "",
    ]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "kb.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
