"""Scrubbing time on adversarial text (a quadratic regex would take seconds): figures only."""

from __future__ import annotations

import json
import time
from pathlib import Path

from privacy.scrubbing import scrub

RESULTS = Path(__file__).resolve().parent / "results"
DENY = ["Papeterie du Canal SA", "Dunor", "Usine de Mardyck"]
CASES = {
    "x point": "x point " * 3000,
    "a.": "a." * 10000,
    "1 ": "1 " * 10000,
    "x at": "x at " * 3000,
    "aaaa": "a" * 20000,
}


def main() -> None:
    figures = {}
    for name, text in CASES.items():
        start = time.perf_counter()
        scrub(text, DENY)
        figures[name] = {"chars": len(text), "ms": round((time.perf_counter() - start) * 1000, 2)}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scrub.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
