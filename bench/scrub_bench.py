"""Public-text checks on the adversarial corpus: precision, recall and time per text (figures only).

    .venv/bin/python bench/scrub_bench.py                    # this code
    .venv/bin/python bench/scrub_bench.py --baseline old.py  # and an older privacy/scrubbing.py
    python-with-spacy bench/scrub_bench.py --spacy           # and fr_core_news_sm's entities

Positives are the corpus texts that must be refused (tests/data/scrub_corpus.json); a text counts
as refused when ``identifying_kinds`` is not empty. ``--baseline`` loads an earlier scrubber (for
example ``git show 2ecd12f:privacy/scrubbing.py > old.py``), which masked instead of refusing: it
reports how many identifying texts it left identifying and how many clean texts it put holes in.
``--spacy`` measures the French named-entity model on the corpus's people and towns. Writes
bench/results/scrub.json.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from privacy.scrubbing import find, identifying_kinds, kind_of  # noqa: E402

RESULTS = ROOT / "bench" / "results"
CORPUS = json.loads((ROOT / "tests" / "data" / "scrub_corpus.json").read_text("utf-8"))
DEMO = ROOT / "marketplace" / "demo" / "territory.csv"
# Texts built to make a careless regex quadratic.
PATHOLOGICAL = {
    "x point": "x point " * 3000,
    "a.": "a." * 10000,
    "1 ": "1 " * 10000,
    "x at": "x at " * 3000,
    "aaaa": "a" * 20000,
    "zero un": "zero un " * 2000,
}


def deny_of(company: dict[str, Any]) -> list[str]:
    sites = company["sites"]
    return [
        company["legal_name"],
        *company["brands"],
        *company["contacts"],
        *[s["name"] for s in sites],
        *[s["commune"] for s in sites],
    ]


def _rates(true_pos: int, false_pos: int, false_neg: int) -> dict[str, float]:
    precision = true_pos / (true_pos + false_pos) if true_pos + false_pos else 1.0
    recall = true_pos / (true_pos + false_neg) if true_pos + false_neg else 1.0
    return {"precision": round(precision, 3), "recall": round(recall, 3)}


def evaluate() -> dict[str, Any]:
    start = time.perf_counter()
    identifying_kinds("Chaleur", ["Serres de Kervella"])  # loads the dictionary and metadata
    cold_ms = (time.perf_counter() - start) * 1000
    true_pos = false_pos = false_neg = right_kind = 0
    times, misses, false_alarms = [], [], []
    per_kind: dict[str, dict[str, int]] = {}
    for entry in CORPUS["texts"]:
        deny = deny_of(CORPUS["companies"][entry["company"]])
        began = time.perf_counter()
        kinds = identifying_kinds(entry["text"], deny)
        times.append((time.perf_counter() - began) * 1000)
        expected = entry["expect"]
        if expected:
            tally = per_kind.setdefault(expected, {"texts": 0, "refused": 0})
            tally["texts"] += 1
            if kinds:
                true_pos += 1
                tally["refused"] += 1
                right_kind += expected in kinds
            else:
                false_neg += 1
                misses.append(entry["text"])
        elif kinds:
            false_pos += 1
            false_alarms.append({"text": entry["text"], "kinds": kinds})
    return {
        "texts": len(CORPUS["texts"]),
        "identifying": true_pos + false_neg,
        **_rates(true_pos, false_pos, false_neg),
        "refused_for_the_expected_kind": right_kind,
        "per_kind": per_kind,
        "missed": misses,
        "false_alarms": false_alarms,
        "ms_per_text": {
            "mean": round(statistics.mean(times), 3),
            "p95": round(sorted(times)[int(len(times) * 0.95)], 3),
            "max": round(max(times), 3),
        },
        "first_call_ms": round(cold_ms, 1),
    }


def demo_territory() -> dict[str, Any]:
    """The demo's own texts (some of which name their company on purpose): what is refused."""
    refused: list[dict[str, Any]] = []
    rows = list(csv.DictReader(DEMO.open(encoding="utf-8")))
    for line, row in enumerate(rows, start=2):
        for field in ("label", "description"):
            kinds = identifying_kinds(row[field], [row["company"], row["site"]])
            if kinds:
                refused.append({"line": line, "field": field, "kinds": kinds})
    return {"rows": len(rows), "refused_fields": refused}


def baseline(path: Path) -> dict[str, Any]:
    """An older scrubber that masked: identifying texts it left identifying, clean texts it
    damaged."""
    spec = importlib.util.spec_from_file_location("baseline_scrubbing", path)
    assert spec and spec.loader
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    left, holes, masked = [], [], 0
    for entry in CORPUS["texts"]:
        deny = deny_of(CORPUS["companies"][entry["company"]])
        public = module.scrub(entry["text"], deny).text
        if entry["expect"]:
            masked += public != entry["text"]
            if find(public.replace(module.PLACEHOLDER, " "), deny):
                left.append(entry["text"])
        elif public != entry["text"]:
            holes.append(public)
    identifying = sum(1 for e in CORPUS["texts"] if e["expect"])
    return {
        "identifying_texts_masked_at_all": masked,
        "identifying_texts_left_identifying": len(left),
        "identifying": identifying,
        "clean_texts_with_holes": holes,
        "left_identifying": left,
    }


def spacy_entities() -> dict[str, Any]:
    """fr_core_news_sm's PER and LOC entities as a detector of people's names and of towns, on
    the corpus texts expected as "person" (PER) and on the clean texts (false alarms)."""
    import spacy  # only where it is installed: it is not a dependency of the project

    start = time.perf_counter()
    nlp = spacy.load("fr_core_news_sm")
    load_s = time.perf_counter() - start
    results: dict[str, Any] = {"load_seconds": round(load_s, 2)}
    for label, expected in (("PER", "person"), ("LOC", "name")):
        true_pos = false_pos = false_neg = 0
        times = []
        for entry in CORPUS["texts"]:
            if entry["expect"] not in (expected, None):
                continue
            began = time.perf_counter()
            found = any(e.label_ == label for e in nlp(entry["text"]).ents)
            times.append((time.perf_counter() - began) * 1000)
            if entry["expect"] == expected:
                true_pos += found
                false_neg += not found
            else:
                false_pos += found
        ours = _ours(expected)
        results[label] = {
            **_rates(true_pos, false_pos, false_neg),
            "ms_per_text": round(statistics.mean(times), 2),
            "these_rules_on_the_same_texts": ours,
        }
    return results


def _ours(expected: str) -> dict[str, float]:
    true_pos = false_pos = false_neg = 0
    for entry in CORPUS["texts"]:
        if entry["expect"] not in (expected, None):
            continue
        deny = deny_of(CORPUS["companies"][entry["company"]])
        found = any(kind_of(s.kind) == expected for s in find(entry["text"], deny))
        if entry["expect"] == expected:
            true_pos += found
            false_neg += not found
        else:
            false_pos += found
    return _rates(true_pos, false_pos, false_neg)


def pathological() -> dict[str, Any]:
    figures = {}
    for name, text in PATHOLOGICAL.items():
        start = time.perf_counter()
        find(text, ["Papeterie du Canal SA", "Dunor", "Usine de Mardyck"])
        figures[name] = {"chars": len(text), "ms": round((time.perf_counter() - start) * 1000, 1)}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="an older privacy/scrubbing.py to compare")
    parser.add_argument("--spacy", action="store_true", help="measure fr_core_news_sm too")
    args = parser.parse_args()
    figures: dict[str, Any] = {
        "corpus": evaluate(),
        "demo_territory": demo_territory(),
        "pathological": pathological(),
    }
    if args.baseline:
        figures["baseline"] = baseline(args.baseline)
    if args.spacy:
        figures["spacy"] = spacy_entities()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scrub.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(figures, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
