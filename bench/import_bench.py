"""Benchmark of the territory import: a synthetic territory's CSV through create_job and run_job.

It builds N companies spread over France (each site a random point inside a random département),
flows with a realistic mix of kinds and List of Waste codes, writes them as a CSV, and times the
import on a fresh database it migrates itself: a temporary SQLite file, or a dedicated PostgreSQL
database `symbiose_bench` (created, then dropped, through the server's `postgres` database).

    .venv/bin/python bench/import_bench.py                       # SQLite, 100,000 flows
    .venv/bin/python bench/import_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

The figures go to bench/results/import-<backend>.json and to stdout. Never a timed assertion.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script as well as with -m

from bench.territory import COMMON_CHAPTERS, KINDS  # noqa: E402

RESULTS = ROOT / "bench" / "results"
BENCH_DATABASE = "symbiose_bench"

NACE_CODES = (
    "10.11Z",
    "10.51A",
    "16.10A",
    "17.12Z",
    "20.11Z",
    "20.15Z",
    "22.21Z",
    "23.51Z",
    "23.61Z",
    "24.10Z",
    "25.11Z",
    "28.29B",
    "35.11Z",
    "35.30Z",
    "36.00Z",
    "38.21Z",
    "38.32Z",
    "41.20A",
    "46.77Z",
    "52.10B",
)
HEADER = (
    "company",
    "siret",
    "nace",
    "site",
    "latitude",
    "longitude",
    "direction",
    "kind",
    "low_code",
    "label",
    "quantity",
    "unit",
    "period",
    "regularity",
    "months",
    "temperature_c",
    "description",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="flows to import")
    parser.add_argument("--companies", type=int, default=5_000)
    parser.add_argument(
        "--database-url",
        default="",
        help="a PostgreSQL server URL (its database is replaced by "
        f"{BENCH_DATABASE!r}); default: a temporary SQLite file",
    )
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument(
        "--profile", type=Path, default=None, help="also write a cProfile of run_job to this file"
    )
    args = parser.parse_args()

    from bench.databases import bench_database

    with bench_database(args.database_url, BENCH_DATABASE) as (backend, url):
        # Before any project import: settings are read once and cached.
        os.environ["SYMBIOSE_DATABASE_URL"] = url
        os.environ["SYMBIOSE_MAX_UPLOAD_BYTES"] = str(1 << 30)
        os.environ["SYMBIOSE_IMPORT_MAX_ROWS"] = str(max(args.rows, 200_000))
        figures = run(backend, url, args.rows, args.companies, args.seed, args.profile)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"import-{backend}.json"
    path.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2))
    print(f"written to {path.relative_to(ROOT)}")


def run(
    backend: str, url: str, rows: int, companies: int, seed: int, profile: Path | None
) -> dict[str, Any]:
    from sqlmodel import Session

    from core.db import get_engine
    from core.migrate import upgrade
    from core.settings import get_settings
    from marketplace.accounts.models import Role
    from marketplace.accounts.service import actor_of, create_user
    from marketplace.imports import service

    get_settings.cache_clear()
    get_engine.cache_clear()
    engine = get_engine()
    upgrade(engine)

    started = time.perf_counter()
    content, sites = territory_csv(rows, companies, random.Random(seed))
    generated = time.perf_counter() - started
    print(
        f"generated {rows} flows of {companies} companies, {sites} sites "
        f"({len(content) / 1e6:.1f} MB) in {generated:.1f} s",
        file=sys.stderr,
    )

    with Session(engine, expire_on_commit=False) as session:
        user = create_user(
            session,
            email="bench@symbiose.local",
            password="bench-password-1",
            role=Role.FACILITATOR,
        )
        session.commit()
        actor = actor_of(user)
        t0 = time.perf_counter()
        job = service.create_job(session, actor, "bench.csv", content)
        session.commit()
    t1 = time.perf_counter()
    if profile is not None:
        import cProfile

        profiler = cProfile.Profile()
        finished = profiler.runcall(service.run_job, job.id, engine=engine)
        profiler.dump_stats(profile)
    else:
        finished = service.run_job(job.id, engine=engine)
    t2 = time.perf_counter()
    report = finished.report
    if finished.status != "done" or report["created"]["flows"] != rows:
        raise SystemExit(
            f"the import did not complete: {finished.status} {json.dumps(report)[:2000]}"
        )
    total = t2 - t0
    return {
        "backend": backend,
        "rows": rows,
        "companies": companies,
        "sites_generated": sites,  # a site that drew no flow is not created
        "csv_megabytes": round(len(content) / 1e6, 2),
        "seconds": {
            "upload": round(t1 - t0, 2),  # create_job: size, header, row count, sealing
            "validation": report["seconds"]["validation"],
            "writing": report["seconds"]["writing"],
            "total": round(total, 2),
        },
        "rows_per_second": round(rows / total),
        "created": report["created"],
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


# --- the synthetic territory -------------------------------------------------------------------


def territory_csv(rows: int, companies: int, rng: random.Random) -> tuple[bytes, int]:
    from stdnum import luhn

    low_codes, low_weights = low_code_pool()
    points = PointSampler(rng)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    per_company, extra = divmod(rows, companies)
    site_count = 0
    for number in range(companies):
        # Both the SIREN (9 digits) and the SIRET (14) carry a Luhn check digit.
        siren = f"{number + 10_000_000:08d}"
        siren += luhn.calc_check_digit(siren)
        siret = siren + "0001"
        siret += luhn.calc_check_digit(siret)
        name = f"Entreprise Banc {number} SAS"
        nace = rng.choice(NACE_CODES)
        sites = [(f"Site {s + 1}", *points.sample()) for s in range(rng.choice((1, 1, 2, 3)))]
        site_count += len(sites)
        for _ in range(per_company + (1 if number < extra else 0)):
            site, latitude, longitude = rng.choice(sites)
            kind = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
            writer.writerow(
                [
                    name,
                    siret,
                    nace,
                    site,
                    f"{latitude:.6f}",
                    f"{longitude:.6f}",
                    rng.choice(("offer", "request")),
                    kind,
                    *flow_cells(kind, rng, low_codes, low_weights),
                ]
            )
    return buffer.getvalue().encode("utf-8"), site_count


def flow_cells(
    kind: str, rng: random.Random, low_codes: list[str], low_weights: list[int]
) -> list[str]:
    """low_code, label, quantity, unit, period, regularity, months, temperature_c, description."""
    regularity = rng.choices(("continuous", "batch", "seasonal", "one-off"), (70, 15, 10, 5))[0]
    months = ""
    if regularity == "seasonal":
        start = rng.randint(1, 12)
        months = ";".join(str((start + m) % 12 + 1) for m in range(rng.randint(2, 6)))
    period = rng.choices(("year", "month", "week", "day"), (60, 25, 5, 10))[0]
    quantity = f"{rng.lognormvariate(4, 1.5):.2f}"
    low_code, temperature = "", ""
    if kind == "material":
        low_code = rng.choices(low_codes, low_weights)[0]
        unit, label = rng.choice(("t", "t", "kg")), f"Matière {low_code}"
    elif kind == "heat":
        unit, label = rng.choice(("MWh", "kW", "GJ")), "Chaleur fatale"
        temperature = str(rng.randint(35, 450))
    elif kind == "water":
        unit, label = "m3", rng.choice(("Eaux de process", "Eau de refroidissement"))
    else:
        unit, label = "Nm3", rng.choice(("CO2 biogénique", "Vapeur basse pression", "Hydrogène"))
    return [
        low_code,
        label,
        quantity,
        unit,
        period,
        regularity,
        months,
        temperature,
        "Flux synthétique du banc d'essai",
    ]


def low_code_pool() -> tuple[list[str], list[int]]:
    """Non-hazardous six-digit entries, weighted toward the common industrial chapters."""
    from core.reference.loader import read_csv

    codes, weights = [], []
    for entry in read_csv("list_of_waste.csv"):
        if entry["level"] == "entry" and entry["hazardous"] == "false":
            codes.append(entry["code"])
            weights.append(COMMON_CHAPTERS.get(entry["code"][:2], 1))
    return codes, weights


class PointSampler:
    """Random points inside random départements (rejection sampling within each one's bounds)."""

    def __init__(self, rng: random.Random) -> None:
        from core.reference.geo import boundaries

        self.rng = rng
        self.geometries = boundaries().geometries

    def sample(self) -> tuple[float, float]:
        import shapely

        from core.errors import Invalid
        from marketplace.companies.service import place

        geometry = self.rng.choice(self.geometries)
        west, south, east, north = geometry.bounds
        while True:
            longitude = self.rng.uniform(west, east)
            latitude = self.rng.uniform(south, north)
            if not geometry.contains(shapely.Point(longitude, latitude)):
                continue
            try:
                place(round(latitude, 6), round(longitude, 6))
            except Invalid:
                continue  # inside the polygon but outside the reference boxes: draw again
            return latitude, longitude


if __name__ == "__main__":
    main()
