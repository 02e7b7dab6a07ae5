"""The whole-territory pass alone (100,000 offers x 100,000 requests, bench.matching_bench's
synthetic territory), one line of figures: to compare two checkouts back to back in one run
(same machine, same load), run it from each, e.g.

    (cd ../old && PYTHONPATH=. ../main/.venv/bin/python ../main/bench/territory_pass.py old)
    PYTHONPATH=. .venv/bin/python bench/territory_pass.py new

and copy the two lines to bench/results/territory_pass.md."""

from __future__ import annotations

import resource
import sys
import time

from bench.matching_bench import synthetic
from marketplace.matching.engine import best_for_offers, requests_side


def main() -> None:
    label = sys.argv[1] if len(sys.argv) > 1 else "this checkout"
    offers = synthetic("offer", 100_000, 1)
    requests = synthetic("request", 100_000, 2)
    start = time.perf_counter()
    side = requests_side(requests)
    indexed = time.perf_counter()
    pairs = sum(1 for _ in best_for_offers(offers, side))
    done = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{label}: index {indexed - start:.1f} s, pass {done - indexed:.1f} s, "
        f"total {done - start:.1f} s, {pairs} pairs, peak {peak:.0f} MiB",
        flush=True,
    )


if __name__ == "__main__":
    main()
