"""Peak memory and time of reading two hostile XLSX uploads: one cell that unpacks to 200 MB, and
one row of 2,000,000 cells; and of an ordinary workbook of 20,000 rows, for the cost of the
checks. Each is read by `open_table` (what `POST /flows/import` runs before storing a job) in a
fresh process, whose peak resident memory (ru_maxrss) is read at the end.

    .venv/bin/python -m bench.import_hostile [--before /path/to/an/older/checkout]

`--before` measures the same files with another checkout's code too (the parser before the
bounds), so the table shows both. Writes bench/results/import_hostile.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.hostile_workbooks import huge_cell_workbook, rows_workbook, wide_row_workbook

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "import_hostile.md"
HEADER = "company siret nace site latitude longitude direction kind low_code label quantity unit"
ROW = "Serres 27182818100017 0113Z Serres 45.76 4.83 request water - Eau 100 m3"

# Run in the child: read the file, then time open_table and read the peak memory.
CHILD = """
import json, resource, sys, time
content = open(sys.argv[1], "rb").read()
from core.errors import DomainError
from marketplace.imports.parser import open_table
import openpyxl  # imported before measuring: its import is not the file's cost
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
try:
    open_table(content)
    outcome = "read"
except DomainError as error:
    outcome = f"{error.status_code} {error.name}: {error.detail}"
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_mb": peak / 1024, "baseline_mb": baseline / 1024,
                  "outcome": outcome}))
"""


def measure(code: Path, path: Path) -> dict[str, object]:
    environment = {**os.environ, "PYTHONPATH": str(code)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)],
        cwd=code,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", type=Path, help="a checkout whose parser to measure too")
    parser.add_argument("--megabytes", type=int, default=200, help="size of the huge cell")
    parser.add_argument("--cells", type=int, default=2_000_000, help="cells of the wide row")
    parser.add_argument("--rows", type=int, default=20_000, help="rows of the ordinary workbook")
    arguments = parser.parse_args()
    files = {
        f"one cell of {arguments.megabytes} MB (shared string)": huge_cell_workbook(
            HEADER.split(), ROW.split(), arguments.megabytes, shared=True
        ),
        f"one cell of {arguments.megabytes} MB (inline string)": huge_cell_workbook(
            HEADER.split(), ROW.split(), arguments.megabytes, shared=False
        ),
        f"one row of {arguments.cells:,} cells": wide_row_workbook(HEADER.split(), arguments.cells),
        f"ordinary: {arguments.rows:,} rows of 12 cells": rows_workbook(
            [HEADER.split()] + [ROW.split()] * arguments.rows
        ),
    }
    codes = {"after": ROOT}
    if arguments.before:
        codes = {"before": arguments.before.resolve(), **codes}
    command = "python -m bench.import_hostile"
    if arguments.before:
        command += f" --before {arguments.before}"
    lines = [
        "# Hostile XLSX uploads: peak memory and time of `open_table`",
        "",
        f"`{command}` on {platform.machine()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs (shared with other work: times are indicative). Peak is the "
        "process's ru_maxrss; baseline is the same after reading the file and importing openpyxl.",
        "",
        "| file | on disk | code | seconds | peak MB | baseline MB | outcome |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    with tempfile.TemporaryDirectory() as folder:
        for name, content in files.items():
            path = Path(folder) / "hostile.xlsx"
            path.write_bytes(content)
            for label, code in codes.items():
                result = measure(code, path)
                print(name, label, result, flush=True)
                outcome = str(result["outcome"]).replace("|", "/")
                lines.append(
                    f"| {name} | {len(content) // 1024} KB | {label} | {result['seconds']:.3f} | "
                    f"{result['peak_mb']:.0f} | {result['baseline_mb']:.0f} | {outcome} |"
                )
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
