"""Benchmark of the whole-territory recompute through the database, as one worker runs it.

The synthetic France of bench/matching_bench.py (``synthetic()``), written as real rows: one
company (a NACE code of the sectors table, a real data key) and one site (its H3 cell) per flow,
and active flows whose labels are sealed as the Flow model seals them, bulk-inserted with
SQLAlchemy Core. Then, on one process:

- load: ``territory_facts`` for each kind and direction (what a worker reads and unseals);
- recompute: every chunk of ``offer_chunks`` through ``service.recompute_chunk``, each in its own
  unit of work as the worker's task, with the requests kept between chunks (a cold start: the
  first chunk of each kind loads them);
- store: the share of the recompute spent in ``store_matches``, and the rows stored;
- with --again, the same recompute over the stored matches (a nightly one replaces them).

Figures go to bench/results/matching_db.md and matching_db.json.

    python -m bench.matching_db_bench --database postgresql+psycopg://postgres@127.0.0.1:5432/x \\
        --offers 100000 --requests 100000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.matching_bench import synthetic
from marketplace.matching.facts import Facts

RESULTS = Path(__file__).resolve().parent / "results"
# Per kind: the declared unit and the base unit its quantity per year is in (flows/units.py).
UNITS = {"material": ("t", "t/yr"), "heat": ("MWh", "MWh/yr"), "water": ("m3", "m3/yr")}
UNITS["gas"] = ("m3", "m3/yr")
BATCH = 5_000


def _places(flows: list[Facts]) -> list[tuple[str, str, str]]:
    """(département, région, cell) of each flow's position. Locating a point costs ~1 ms, so it
    is done once per resolution-5 cell (~250 km²); a synthetic point at sea takes the last
    département found (only a valid key is needed: matching reads the cell)."""
    import h3

    from core.reference.geo import locate
    from privacy.generalisation import SITE_CELL_RESOLUTION

    found: dict[str, tuple[str, str]] = {}
    last = ("59", "32")
    places = []
    for flow in flows:
        cell = h3.latlng_to_cell(flow.latitude, flow.longitude, SITE_CELL_RESOLUTION)
        coarse = h3.cell_to_parent(cell, 5)
        if coarse not in found:
            placement = locate(*h3.cell_to_latlng(coarse))
            if placement is not None:
                last = (placement.departement_code, placement.region_code)
            found[coarse] = last
        places.append((*found[coarse], cell))
    return places


def seed(engine: Any, flows: list[Facts]) -> None:
    """One company and one site per flow (as the synthetic flows have), and the flows, active."""
    from sqlalchemy import insert

    from marketplace.companies.models import Company, Site
    from marketplace.flows.models import Flow
    from privacy.vault import new_data_key

    now = datetime.now(UTC)
    places = _places(flows)
    companies, sites, rows = [], [], []
    for number, (flow, (departement, region, cell)) in enumerate(zip(flows, places, strict=True)):
        assert flow.company_id is not None
        kek_id, wrapped_key, _ = new_data_key(flow.company_id.bytes)
        # Identities, names and positions are never opened by matching: random bytes stand
        # for them. Labels are: they are sealed by the column type, as every flow's is.
        companies.append(
            {
                "id": flow.company_id,
                "identity_ciphertext": os.urandom(64),
                "wrapped_key": wrapped_key,
                "kek_id": kek_id,
                "siret_index": f"bench-{number}",
                "legal_unit_index": f"bench-{number}",
                "nace": flow.nace,
                "size_class": "medium",
                "created_at": now,
            }
        )
        site_id = uuid.uuid4()
        sites.append(
            {
                "id": site_id,
                "company_id": flow.company_id,
                "name_ciphertext": os.urandom(32),
                "name_index": f"bench-site-{number}",
                "position_ciphertext": os.urandom(64),
                "departement_code": departement,
                "region_code": region,
                "h3_cell": cell,
                "created_at": now,
            }
        )
        unit, base_unit = UNITS[flow.kind]
        rows.append(
            {
                "id": flow.ref,
                "company_id": flow.company_id,
                "site_id": site_id,
                "direction": flow.direction,
                "kind": flow.kind,
                "status": "active",
                "label": flow.label,
                "low_code": flow.low_code,
                "hazardous": flow.hazardous,
                "physical_state": flow.physical_state,
                "quantity": flow.quantity_per_year,
                "unit": unit,
                "period": "year",
                "quantity_per_year": flow.quantity_per_year,
                "base_unit": base_unit,
                "regularity": flow.regularity,
                "months_mask": flow.months_mask,
                "temperature_c": flow.temperature_c,
                "medium": None,
                "power_kw": None,
                "water_quality": None,
                "quality_spec": "",
                "precision": flow.precision or "estimated",
                "current_operation": None,
                "current_cost_cents": None,
                "replaces_material": None,
                "virgin_price_cents": None,
                "description": flow.description,
                "created_at": now,
                "updated_at": now,
            }
        )
    with engine.begin() as connection:
        for table, values in ((Company, companies), (Site, sites), (Flow, rows)):
            for start in range(0, len(values), BATCH):
                connection.execute(
                    insert(table.__table__),  # type: ignore[union-attr]
                    values[start : start + BATCH],
                )


def _timed(function: Callable[..., int], spent: list[float]) -> Callable[..., int]:
    def timed(*args: Any) -> int:
        started = time.perf_counter()
        try:
            return function(*args)
        finally:
            spent.append(time.perf_counter() - started)

    return timed


def recompute(chunks: Sequence[list[uuid.UUID]]) -> dict[str, float | int]:
    """Every chunk in its own unit of work, as a worker's tasks: seconds, of which storing, and
    the matches stored (the chunks' kept pairs)."""
    from core.db import unit_of_work
    from marketplace.matching import service

    spent: list[float] = []
    store = service.store_matches
    service.store_matches = _timed(store, spent)
    stored = 0
    started = time.perf_counter()
    try:
        for chunk in chunks:
            with unit_of_work() as session:
                stored += service.recompute_chunk(session, chunk)
    finally:
        service.store_matches = store
    total = time.perf_counter() - started
    return {
        "s": round(total, 1),
        "store_s": round(sum(spent), 1),
        "store_share": round(sum(spent) / total, 2),
        "stored": stored,
    }


def run(url: str, offers_count: int, requests_count: int, again: bool) -> dict[str, Any]:
    import sqlalchemy as sa
    from sqlmodel import Session

    from core.db import get_engine
    from core.migrate import upgrade
    from core.settings import get_settings
    from marketplace.flows.models import Direction, Kind
    from marketplace.matching import service

    os.environ["SYMBIOSE_DATABASE_URL"] = url
    get_settings.cache_clear()
    get_engine.cache_clear()
    engine = get_engine()
    figures: dict[str, Any] = {
        "backend": engine.dialect.name,
        "offers": offers_count,
        "requests": requests_count,
    }
    started = time.perf_counter()
    upgrade(engine)
    figures["migrate_s"] = round(time.perf_counter() - started, 1)

    started = time.perf_counter()
    flows = synthetic("offer", offers_count, 1) + synthetic("request", requests_count, 2)
    seed(engine, flows)
    with engine.begin() as connection:
        connection.execute(sa.text("ANALYZE"))
    figures["seed_s"] = round(time.perf_counter() - started, 1)
    del flows

    loads: dict[str, float] = {}
    with Session(engine) as session:
        for kind in Kind:
            for direction in Direction:
                started = time.perf_counter()
                found = len(service.territory_facts(session, kind, direction))
                loads[f"{kind}/{direction}"] = round(time.perf_counter() - started, 2)
                figures[f"flows_{kind}_{direction}"] = found
        started = time.perf_counter()
        chunks = service.offer_chunks(session)
        figures["chunking_s"] = round(time.perf_counter() - started, 2)
    figures["load_s"] = round(sum(loads.values()), 1)
    figures["load_s_by_kind"] = loads
    figures["chunks"], figures["chunk_size"] = len(chunks), service.TERRITORY_CHUNK

    service.forget_requests_sides()
    before = service.territory_loads.copy()
    first = recompute(chunks)
    requests_loads = service.territory_loads - before
    figures["recompute_s"] = first["s"]
    figures["recompute_store_s"] = first["store_s"]
    figures["recompute_store_share"] = first["store_share"]
    figures["matches_stored"] = first["stored"]
    figures["requests_loads_during_recompute"] = sum(requests_loads.values())
    with Session(engine) as session:
        figures["match_rows"] = session.execute(sa.text("SELECT count(*) FROM matches")).scalar()
    if again:
        second = recompute(chunks)
        figures["recompute_again_s"] = second["s"]
        figures["recompute_again_store_share"] = second["store_share"]
    figures["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return figures


def write(figures: dict[str, Any], command: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "matching_db.json").write_text(json.dumps(figures, indent=2) + "\n")
    lines = ["# Matching through the database: one worker's whole-territory recompute", ""]
    lines += [f"`{command}`", ""]
    lines += [f"- {k}: {v}" for k, v in figures.items()]
    (RESULTS / "matching_db.md").write_text("\n".join(lines) + "\n")


@contextmanager
def emptied(url: str) -> Iterator[str]:
    """The database of ``url`` emptied (its schema dropped: everything in it is lost), or a
    temporary SQLite file when no URL is given."""
    if not url or url.startswith("sqlite"):
        with tempfile.TemporaryDirectory(prefix="matching-db-") as directory:
            yield url or f"sqlite:///{directory}/bench.db"
        return
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    yield url


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--database", default="", help="a PostgreSQL database to empty and use; empty: SQLite"
    )
    parser.add_argument("--offers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument(
        "--again", action="store_true", help="recompute a second time, over the stored matches"
    )
    args = parser.parse_args()
    with emptied(args.database) as url:
        figures = run(url, args.offers, args.requests, args.again)
    command = "python -m bench.matching_db_bench" + (
        f" --database {args.database}" if args.database else ""
    )
    command += f" --offers {args.offers} --requests {args.requests}"
    write(figures, command + (" --again" if args.again else ""))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
