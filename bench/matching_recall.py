"""How many of the pairs a naive all-pairs scan keeps the index finds, and what the missed ones
are (bench/results/matching-recall.md).

    python -m bench.matching_recall [--sample 1000]
"""

from __future__ import annotations

import argparse
import uuid
from collections import Counter
from pathlib import Path

from bench.matching_bench import synthetic
from marketplace.matching.engine import KEEP, best_for_offers, requests_side
from marketplace.matching.scoring import Scored, score_pair

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", type=int, default=1000)
    args = parser.parse_args()
    # The first offers and requests of the main benchmark's territory.
    offers = synthetic("offer", 100_000, 1)[: args.sample]
    requests = synthetic("request", 100_000, 2)[: args.sample]
    naive: dict[tuple[uuid.UUID, uuid.UUID], Scored] = {}
    for offer in offers:
        scored = [s for r in requests if (s := score_pair(offer, r)) is not None]
        for pair in sorted(scored, key=lambda s: -s.score)[:KEEP]:
            naive[(offer.ref, pair.request.ref)] = pair
    indexed = {
        (s.offer.ref, s.request.ref) for s in best_for_offers(offers, requests_side(requests))
    }
    missed: Counter[tuple[float, bool]] = Counter()
    for key in set(naive) - indexed:
        pair = naive[key]
        same_chapter = (pair.offer.low_code or "")[:2] == (pair.request.low_code or "--")[:2]
        missed[(round(pair.criteria[0].score, 2), same_chapter)] += 1
    lines = [
        "# Matching: the index's recall against all pairs",
        "",
        f"`python -m bench.matching_recall --sample {args.sample}`",
        "",
        f"- pairs the naive scan keeps (best {KEEP} per offer): {len(naive)}",
        f"- of those, found by the index: {len(set(naive) & indexed)}",
        "- missed, by material score and whether the codes share only a chapter:",
    ]
    lines += [
        f"  - material {score}, same chapter {chapter}: {count}"
        for (score, chapter), count in missed.most_common()
    ]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "matching-recall.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
