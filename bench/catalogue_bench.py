"""Benchmark of catalogue search: latency of search() and HTTP throughput against a bare endpoint.

It builds a fresh database it migrates itself (a temporary SQLite file, or a dedicated PostgreSQL
database `symbiose_bench_catalogue`, created then dropped through the server's `postgres`
database), bulk-inserts N published listings of M companies spread over France, then

(a) times a mix of searches through marketplace.catalogue.search.search() (filters only, filters
    and words, distance bands from one's own site, date, relevance and distance sorts, second
    pages through the cursor) and reports p50/p95/p99;
(b) serves the real application with uvicorn (one worker) plus a bare constant endpoint
    (bench/catalogue_bench_app.py) and loads it over loopback on N keep-alive connections with a
    browsing mix: --browses distinct searches (anonymous visitors, and the member for distances),
    a third of them followed through their next pages by cursor, a fifth opening a card. Once
    with the response cache: a cold pass, then --warm-passes passes over the same mix; once
    without it (SYMBIOSE_CATALOGUE_CACHE=off), on a second server with the same settings; then,
    on a third server starting cold, a "popular" mix drawn by a Zipf law from --popular-distinct
    searches. Each server's bare endpoint is measured too: requests/s, ratios to bare, and the
    cache's hit rate.

    .venv/bin/python bench/catalogue_bench.py                     # SQLite, 100,000 listings
    .venv/bin/python bench/catalogue_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/catalogue_bench.py --index published   # also try a candidate index

The figures go to bench/results/catalogue-<backend>.json and to stdout. Never a timed assertion.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script as well as with -m

from bench.territory import COMMON_CHAPTERS, KINDS  # noqa: E402

RESULTS = ROOT / "bench" / "results"
BENCH_DATABASE = "symbiose_bench_catalogue"

# Candidate indexes a run may add (--index NAME); the chosen ones belong in the model + migration.
# "{false}" is the boolean literal of the backend: SQLite uses a partial index only when the
# query repeats its WHERE terms literally, as catalogue.models.public_where() does.
_VISIBLE = "WHERE status = 'published' AND brokered_only = {false}"
CANDIDATE_INDEXES: dict[str, tuple[str, ...]] = {
    "published": (f"CREATE INDEX ix_listings_published ON listings (published_at, id) {_VISIBLE}",),
    "latitude": ("CREATE INDEX ix_listings_latitude ON listings (latitude)",),
    # The existing (status, brokered_only, kind, direction) made partial: SQLite otherwise walks
    # it for every word search (equality on status) instead of scanning the table, twice as fast.
    "search-partial": (
        "DROP INDEX ix_listings_search",
        f"CREATE INDEX ix_listings_search ON listings (kind, direction) {_VISIBLE}",
    ),
}

REGULARITIES = (("continuous", 70), ("batch", 15), ("seasonal", 10), ("one-off", 5))
# What the k-check lets through, roughly: (material level, location level) shares.
MATERIAL_LEVELS = (("code", 50), ("subchapter", 20), ("chapter", 30))
LOCATION_LEVELS = (("cell", 25), ("departement", 45), ("region", 30))

MATERIAL_TITLES = (
    "Cendres volantes de chaudière",
    "Mâchefers d'incinération",
    "Laitier de haut fourneau",
    "Gypse de désulfuration",
    "Boues biologiques déshydratées",
    "Drêches de brasserie",
    "Levures usagées",
    "Palettes en bois",
    "Sciure et copeaux de bois",
    "Copeaux métalliques",
    "Chutes de tôle d'acier",
    "Fibres de cellulose",
    "Boues de désencrage",
    "Verre broyé (calcin)",
    "Huiles usagées",
    "Solvants régénérables",
    "Emballages carton",
    "Big bags réutilisables",
    "Sable de fonderie",
    "Coproduits d'amidonnerie",
    "Marc de raisin",
    "Déchets verts broyés",
    "Plâtre de démolition",
    "Granulats recyclés",
    "Tourteaux de colza",
    "Fûts métalliques vides",
    "Chutes de textile",
    "Plastiques PEHD broyés",
    "Poussières de four",
    "Coquilles d'huîtres",
)
OTHER_TITLES = {
    "heat": (
        "Chaleur fatale basse température",
        "Chaleur fatale de four",
        "Eau chaude à 60 °C",
        "Vapeur basse pression",
        "Fumées chaudes récupérables",
    ),
    "water": (
        "Eau de refroidissement tiède",
        "Eaux de process épurées",
        "Condensats",
        "Eau pluviale stockée",
    ),
    "gas": ("CO₂ biogénique", "Hydrogène fatal", "Biogaz excédentaire", "Azote résiduel"),
}
DESCRIPTION_PARTS = (
    ("Flux régulier", "Production saisonnière", "Lot ponctuel", "Disponibilité continue"),
    ("conditionné en big bags", "en vrac", "en benne de 30 m³", "par citerne", "sur palettes"),
    (
        "analyses disponibles",
        "qualité constante",
        "humidité variable",
        "granulométrie 0/4 mm",
        "teneur en métaux contrôlée",
        "sans corps étrangers",
    ),
    (
        "enlèvement souhaité",
        "transport possible",
        "stockage sur site limité",
        "reprise gratuite envisagée",
        "prix à discuter",
    ),
)
# Words searched for: common ones, rare ones, accented or not, and a word no listing holds.
SEARCH_WORDS = (
    "cendres",
    "bois",
    "chaleur",
    "boues",
    "dechets",
    "laitier",
    "eau",
    "vapeur",
    "palettes",
    "copeaux",
    "desulfuration",
    "huitres",
    "amidonnerie",
    "beton",
    "métaux",
    "CALCIN",
    "big bags",
    "boues biologiques",
    "chaleur fatale",
    "introuvable",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--companies", type=int, default=5_000)
    parser.add_argument("--searches", type=int, default=400, help="timed search() calls")
    parser.add_argument("--requests", type=int, default=3_000, help="bare endpoint requests")
    parser.add_argument(
        "--browses", type=int, default=300, help="distinct searches of the HTTP browsing mix"
    )
    parser.add_argument(
        "--warm-passes", type=int, default=5, help="passes over the mix once it is cached"
    )
    parser.add_argument(
        "--popular-distinct",
        type=int,
        default=2_000,
        help="distinct searches of the popular mix (a Zipf law over them)",
    )
    parser.add_argument(
        "--popular-browses", type=int, default=6_000, help="browses drawn from them"
    )
    parser.add_argument("--zipf", type=float, default=1.0, help="the popular mix's exponent")
    parser.add_argument("--concurrency", type=int, default=8, help="keep-alive connections")
    parser.add_argument(
        "--database-url",
        default="",
        help="a PostgreSQL server URL (its database is replaced by "
        f"{BENCH_DATABASE!r}); default: a temporary SQLite file",
    )
    parser.add_argument(
        "--index",
        action="append",
        default=[],
        choices=sorted(CANDIDATE_INDEXES),
        help="create a candidate index in the bench database (repeatable)",
    )
    parser.add_argument(
        "--no-analyze",
        action="store_true",
        help="skip ANALYZE after the load (SQLite then plans without statistics)",
    )
    parser.add_argument("--no-http", action="store_true", help="skip the throughput part")
    parser.add_argument("--seed", type=int, default=20261129)
    args = parser.parse_args()

    from bench.databases import bench_database

    with bench_database(args.database_url, BENCH_DATABASE) as (backend, url):
        # Before any project import: settings are read once and cached.
        os.environ["SYMBIOSE_DATABASE_URL"] = url
        os.environ["SYMBIOSE_SEARCH_RATE_PER_MINUTE"] = "100000000"
        figures = run(backend, url, args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"catalogue-{backend}.json"
    path.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2))
    print(f"written to {path.relative_to(ROOT)}")


def run(backend: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    import sqlalchemy as sa

    from core.db import get_engine, make_engine
    from core.migrate import upgrade
    from core.settings import get_settings

    get_settings.cache_clear()
    get_engine.cache_clear()
    upgrade(make_engine(url))
    engine = get_engine()
    rng = random.Random(args.seed)

    started = time.perf_counter()
    world = populate(engine, args.listings, args.companies, rng)
    indexes = [
        statement.format(false="false" if backend == "postgresql" else "0")
        for name in args.index
        for statement in CANDIDATE_INDEXES[name]
    ]
    for statement in indexes:
        with engine.begin() as connection:
            connection.execute(sa.text(statement))
    with engine.begin() as connection:
        # PostgreSQL's autovacuum gathers these statistics soon after a load like this one; SQLite
        # only when told (ANALYZE, or PRAGMA optimize run by the application).
        if not args.no_analyze:
            connection.execute(sa.text("ANALYZE"))
        if backend == "sqlite":
            # The bulk load left the whole table in the WAL file; a running application would
            # have checkpointed it long before searches are timed.
            connection.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
    built = time.perf_counter() - started
    print(
        f"inserted {args.listings} listings of {args.companies} companies in {built:.1f} s",
        file=sys.stderr,
    )

    figures: dict[str, Any] = {
        "backend": backend,
        "listings": args.listings,
        "visible_listings": world["visible"],
        "companies": args.companies,
        "schema_changes": indexes,
        "analyzed": not args.no_analyze,
        "build_seconds": round(built, 1),
        "search": time_searches(engine, world, args.searches, random.Random(args.seed + 1)),
    }
    print(json.dumps(figures["search"]["all"]), file=sys.stderr)
    if not args.no_http:
        figures["http"] = throughput(
            url,
            world,
            args.requests,
            args.browses,
            args.warm_passes,
            args.concurrency,
            random.Random(args.seed + 2),
        )
        figures["http"]["popular"] = popular_throughput(
            url,
            world,
            args.requests,
            args.popular_distinct,
            args.popular_browses,
            args.zipf,
            args.concurrency,
            random.Random(args.seed + 3),
        )
    figures["machine"] = {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        # Other work on the machine skews every figure: the 1-minute load when the run ended.
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    figures["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return figures


# --- the synthetic catalogue -------------------------------------------------------------------


def populate(engine: Any, listings: int, companies: int, rng: random.Random) -> dict[str, Any]:
    """Companies (dummy sealed identities), one site each, and published listings, bulk-inserted;
    plus one member account with an API token for the HTTP part."""
    import h3
    import shapely
    from sqlalchemy import insert
    from sqlmodel import Session

    from core.reference.geo import boundaries
    from core.reference.loader import low_rows, read_csv
    from core.text import fold
    from marketplace.accounts.models import Role
    from marketplace.accounts.service import create_api_token, create_user
    from marketplace.catalogue.labels import low_label
    from marketplace.catalogue.models import Listing
    from marketplace.companies.models import Company, Site
    from privacy.generalisation import (
        CHAPTER_FAMILY,
        FAMILIES,
        QUANTITY_BOUNDS,
        SITE_CELL_RESOLUTION,
    )
    from privacy.places import cell_point, departement_point, region_point
    from privacy.vault import Sealed, new_data_key, seal_json

    region_of = {d["code"]: d["region_code"] for d in read_csv("departements.csv")}
    geo = boundaries()
    now = datetime.now(UTC)

    company_rows, site_rows = [], []
    for number in range(companies):
        company_id = uuid.uuid4()
        # A real data key: the member's distance bands open its site's sealed position.
        kek_id, wrapped_key, _ = new_data_key(company_id.bytes)
        company_rows.append(
            {
                "id": company_id,
                "identity_ciphertext": os.urandom(64),
                "wrapped_key": wrapped_key,
                "kek_id": kek_id,
                "siret_index": f"bench-{number}",
                "nace": "23.51Z",
                "size_class": "medium",
                "created_at": now,
            }
        )
        index = rng.randrange(len(geo.geometries))
        geometry, code = geo.geometries[index], geo.codes[index]
        west, south, east, north = geometry.bounds
        while True:
            longitude, latitude = rng.uniform(west, east), rng.uniform(south, north)
            if geometry.contains(shapely.Point(longitude, latitude)):
                break
        site_rows.append(
            {
                "id": uuid.uuid4(),
                "company_id": company_id,
                "name_ciphertext": os.urandom(32),
                "name_index": f"bench-site-{number}",
                "position_ciphertext": seal_json(
                    {"latitude": latitude, "longitude": longitude, "commune": ""},
                    aad=company_id.bytes,
                    sealed=Sealed(kek_id, wrapped_key, b""),
                ).ciphertext,
                "departement_code": code,
                "region_code": region_of[code],
                "h3_cell": h3.latlng_to_cell(latitude, longitude, SITE_CELL_RESOLUTION),
                "created_at": now,
            }
        )

    entries = [r for r in low_rows() if r["level"] == "entry"]
    weights = [COMMON_CHAPTERS.get(r["code"][:2], 1) for r in entries]
    families_fr = {k: (f.label_fr, f.label_en) for k, f in FAMILIES.items()}
    visible = 0
    listing_rows = []
    for _ in range(listings):
        site = rng.choice(site_rows)
        kind = _weighted(rng, KINDS)
        direction = rng.choice(("offer", "request"))
        regularity = _weighted(rng, REGULARITIES)
        material_level, location_level = (
            _weighted(rng, MATERIAL_LEVELS),
            _weighted(rng, LOCATION_LEVELS),
        )
        code, hazardous = None, False
        if kind == "material":
            entry = rng.choices(entries, weights)[0]
            code, hazardous = entry["code"], entry["hazardous"]
            family = CHAPTER_FAMILY[code[:2]]
            title = rng.choice(MATERIAL_TITLES)
        else:
            family, material_level = kind, "family"
            title = rng.choice(OTHER_TITLES[kind])
        chapter = code[:2] if code else None
        subchapter = code[:4] if code and material_level in ("code", "subchapter") else None
        public_code = code if material_level == "code" else None
        description = " ".join(rng.choice(part) for part in DESCRIPTION_PARTS) + "."
        words = [title, description, *families_fr[family]]
        for shown in (chapter, subchapter, public_code):
            words += [low_label(shown, "fr") or "", low_label(shown, "en") or ""]
        brokered = rng.random() < 0.05
        visible += not brokered
        dominated = rng.random() < 0.05
        point = (
            cell_point(site["h3_cell"])
            if location_level == "cell"
            else departement_point(site["departement_code"])
            if location_level == "departement"
            else region_point(site["region_code"])
        )
        listing_rows.append(
            {
                "id": uuid.uuid4(),
                "flow_id": None,
                "company_id": site["company_id"],
                "aggregated": False,
                "latitude": point[0],
                "longitude": point[1],
                "h3_cell": site["h3_cell"],
                "departement_code": site["departement_code"],
                "low_code": code,
                "quantity_per_year": rng.lognormvariate(5, 2),
                "temperature_c": rng.uniform(35, 400) if kind == "heat" else None,
                "group_key": chapter or kind,
                "status": "published",
                "direction": direction,
                "kind": kind,
                "created_at": now,
                "updated_at": now,
                "published_at": now - timedelta(seconds=rng.uniform(0, 180 * 86400)),
                "expires_at": now + timedelta(days=180),
                "brokered_only": brokered,
                "material_level": material_level,
                "material_key": public_code or subchapter or chapter or kind,
                "family": family,
                "low_chapter": chapter,
                "low_subchapter": subchapter,
                "public_low_code": public_code,
                "hazardous": hazardous,
                "location_level": location_level,
                "location_key": site["departement_code"]
                if location_level != "region"
                else site["region_code"],
                "region_code": site["region_code"],
                "public_departement": site["departement_code"]
                if location_level != "region"
                else None,
                "quantity_band": None if dominated else rng.randint(0, len(QUANTITY_BOUNDS)),
                "temperature_band": rng.randint(0, 3) if kind == "heat" else None,
                "regularity": regularity,
                "months_mask": 0b000001111110 if regularity == "seasonal" else 0,
                "title": title,
                "description": description,
                "search_text": fold(" ".join(words)),
            }
        )

    with engine.begin() as connection:
        connection.execute(insert(Company.__table__), company_rows)  # type: ignore[attr-defined]
        connection.execute(insert(Site.__table__), site_rows)  # type: ignore[attr-defined]
        for start in range(0, len(listing_rows), 5_000):
            connection.execute(
                insert(Listing.__table__),  # type: ignore[attr-defined]
                listing_rows[start : start + 5_000],
            )
    with Session(engine, expire_on_commit=False) as session:
        member = site_rows[0]
        user = create_user(
            session,
            email="bench@symbiose.local",
            password="bench-password-1",
            role=Role.COMPANY_ADMIN,
            company_id=member["company_id"],
        )
        token = create_api_token(session, user, "bench")
        session.commit()
    return {
        "visible": visible,
        "member_company": member["company_id"],
        "member_user": user.id,
        "member_site": member["id"],
        "token": token,
        "regions": sorted({s["region_code"] for s in site_rows}),
        "departements": sorted({s["departement_code"] for s in site_rows}),
        "chapters": sorted({r["code"][:2] for r in entries}),
        "subchapters": sorted({r["code"][:4] for r in entries}),
        "codes": [r["code"] for r in rng.sample(entries, 200)],
    }


def _weighted(rng: random.Random, choices: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([c for c, _ in choices], [w for _, w in choices])[0]


# --- (a) search() latency ----------------------------------------------------------------------

TEMPLATES = (
    "filters",
    "filters+words",
    "words",
    "distance_band",
    "distance_sort",
    "date_all",
    "next_page",
)


def random_query(rng: random.Random, world: dict[str, Any], template: str) -> dict[str, Any]:
    """Query parameters of one search of the given template (strings, as a URL carries them)."""
    params: dict[str, Any] = {}

    def some_filters(most: int) -> None:
        choices = [
            lambda: params.update(kind=_weighted(rng, KINDS)),
            lambda: params.update(direction=rng.choice(("offer", "request"))),
            lambda: params.update(region=rng.choice(world["regions"])),
            lambda: params.update(departement=rng.choice(world["departements"])),
            lambda: params.update(low_chapter=rng.choice(world["chapters"])),
            lambda: params.update(low_subchapter=rng.choice(world["subchapters"])),
            lambda: params.update(low_code=rng.choice(world["codes"])),
            lambda: params.update(hazardous=rng.choice(("true", "false"))),
            lambda: params.update(quantity_band=rng.randint(0, 5)),
            lambda: params.update(regularity=_weighted(rng, REGULARITIES)),
            lambda: params.update(
                family=rng.choice(
                    ("mineraux", "organiques", "bois_fibres", "metaux", "emballages", "heat")
                )
            ),
        ]
        for choose in rng.sample(choices, rng.randint(1, most)):
            choose()

    if template == "filters":
        some_filters(3)
        params["sort"] = "date"
    elif template == "filters+words":
        some_filters(2)
        params["q"] = rng.choice(SEARCH_WORDS)
    elif template == "words":
        params["q"] = rng.choice(SEARCH_WORDS)
    elif template == "distance_band":
        params.update(
            from_site=str(world["member_site"]),
            distance_band=rng.choice(("lt10", "10-30", "30-80", "80-200", "gt200")),
        )
        if rng.random() < 0.5:
            some_filters(1)
        params["sort"] = rng.choice(("date", "distance"))
    elif template == "distance_sort":
        params.update(from_site=str(world["member_site"]), sort="distance")
        if rng.random() < 0.7:
            some_filters(2)
    elif template == "date_all":
        params["sort"] = "date"
    else:  # next_page: a broad search whose second page is timed
        some_filters(1)
        if rng.random() < 0.5:
            params["q"] = rng.choice(SEARCH_WORDS[:8])
    return params


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))], 2)

    return {
        "n": len(ordered),
        "p50_ms": at(0.50),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1], 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
    }


def time_searches(
    engine: Any, world: dict[str, Any], count: int, rng: random.Random
) -> dict[str, Any]:
    from sqlmodel import Session

    from marketplace.accounts.models import Role
    from marketplace.accounts.service import Actor
    from marketplace.catalogue.search import CatalogueQuery, search

    member = Actor(
        user_id=world["member_user"], role=Role.COMPANY_ADMIN, company_id=world["member_company"]
    )
    samples: dict[str, list[float]] = defaultdict(list)
    slowest: list[tuple[float, str, dict[str, Any]]] = []
    empty = 0
    for number in range(count + 20):  # the first 20 warm caches up and are not counted
        template = TEMPLATES[number % len(TEMPLATES)]
        params = random_query(rng, world, template)
        query = CatalogueQuery.model_validate(params)
        with Session(engine) as session:
            if template == "next_page":
                first = search(session, None, query)
                if first.next_cursor is None:
                    continue
                query = CatalogueQuery.model_validate({**params, "cursor": first.next_cursor})
                session.expire_all()
            started = time.perf_counter()
            page = search(session, member, query)
            elapsed = (time.perf_counter() - started) * 1000
        if number < 20:
            continue
        empty += not page.items
        samples[template].append(elapsed)
        slowest.append((elapsed, template, params))
    everything = [s for values in samples.values() for s in values]
    slowest.sort(key=lambda s: s[0], reverse=True)
    return {
        "all": _percentiles(everything),
        "by_template": {name: _percentiles(values) for name, values in samples.items()},
        "empty_pages": empty,
        "slowest": [{"ms": round(ms, 1), "template": t, "params": p} for ms, t, p in slowest[:8]],
    }


# --- (b) HTTP throughput -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(url: str, cached: bool) -> Iterator[int]:
    """The bench app under uvicorn (one worker); the catalogue's response cache on or off."""
    port = _free_port()
    env = {
        **os.environ,
        "SYMBIOSE_DATABASE_URL": url,
        "SYMBIOSE_SEARCH_RATE_PER_MINUTE": "100000000",
        "SYMBIOSE_CATALOGUE_CACHE": "on" if cached else "off",
        "PYTHONPATH": str(ROOT),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.catalogue_bench_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/bench/constant")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the bench server did not start")
            time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


@dataclass(frozen=True)
class Browse:
    """What one visitor does: a search, then its next pages through the cursors it is given,
    and maybe a look at the first card. Without params: one request to the bare endpoint."""

    params: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    pages: int = 1
    card: bool = False


BARE = Browse()


def _get(connection: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> Any:
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def load(port: int, browses: list[Browse], concurrency: int) -> dict[str, Any]:
    """Run every browse once over ``concurrency`` keep-alive connections; requests/s."""
    lock = threading.Lock()
    pending = list(reversed(browses))
    statuses: dict[int, int] = defaultdict(int)
    latencies: list[float] = []

    def timed(connection: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> Any:
        started = time.perf_counter()
        status, body = _get(connection, path, headers)
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            statuses[status] += 1
            latencies.append(elapsed)
        return json.loads(body) if status == 200 and path.startswith("/api/") else None

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                if not pending:
                    break
                browse = pending.pop()
            if browse is BARE:
                timed(connection, "/bench/constant", {})
                continue
            params, headers = dict(browse.params), dict(browse.headers)
            page = timed(connection, "/api/v1/catalogue?" + urlencode(params), headers)
            first = page
            for _ in range(browse.pages - 1):
                if not page or not page["next_cursor"]:
                    break
                next_params = {**params, "cursor": page["next_cursor"]}
                page = timed(connection, "/api/v1/catalogue?" + urlencode(next_params), headers)
            if browse.card and first and first["items"]:
                site = {"from_site": params["from_site"]} if "from_site" in params else {}
                card = f"/api/v1/catalogue/{first['items'][0]['id']}?{urlencode(site)}"
                timed(connection, card, headers)
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    cpu, started = time.process_time(), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "seconds": round(elapsed, 2),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "statuses": dict(statuses),
        "latency": _percentiles(latencies),
        # How busy the load generator itself was (it shares the machine with the server).
        "client_cpu_share": round((time.process_time() - cpu) / elapsed, 2),
    }


def cache_stats(port: int) -> dict[str, int]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    status, body = _get(connection, "/bench/cache-stats", {})
    connection.close()
    assert status == 200
    return dict(json.loads(body))


def measured(port: int, browses: list[Browse], concurrency: int) -> dict[str, Any]:
    """load(), with the server's cache hits and misses during it."""
    before = cache_stats(port)
    figures = load(port, browses, concurrency)
    after = cache_stats(port)
    hits, misses = after["hits"] - before["hits"], after["misses"] - before["misses"]
    figures["cache"] = {
        "hits": hits,
        "misses": misses,
        "hit_rate": round(hits / (hits + misses), 3) if hits + misses else None,
        "entries": after["entries"],
        "megabytes": round(after["bytes"] / 2**20, 1),
    }
    return figures


def browsing_mix(world: dict[str, Any], count: int, rng: random.Random) -> list[Browse]:
    """``count`` browses of distinct searches (every template but next_page): anonymous visitors,
    and the member for distances; a third go on to further pages, a fifth open a card."""
    bearer = (("Authorization", f"Bearer {world['token']}"),)
    templates = [t for t in TEMPLATES if t != "next_page"]
    seen: set[tuple[tuple[str, str], ...]] = set()
    browses: list[Browse] = []
    for number in range(count * 50):
        if len(browses) == count:
            break
        raw = random_query(rng, world, templates[number % len(templates)])
        params = tuple(sorted((key, str(value)) for key, value in raw.items()))
        if params in seen:
            continue
        seen.add(params)
        browses.append(
            Browse(
                params=params,
                headers=bearer if "from_site" in raw else (),
                pages=rng.choice((2, 3)) if rng.random() < 1 / 3 else 1,
                card=rng.random() < 0.2,
            )
        )
    rng.shuffle(browses)
    return browses


def throughput(
    url: str,
    world: dict[str, Any],
    requests: int,
    browses: int,
    warm_passes: int,
    concurrency: int,
    rng: random.Random,
) -> dict[str, Any]:
    """Requests/s of the bare endpoint and of a browsing mix, with the response cache (a cold
    pass, then warm passes over the same mix) and without it, each against its own server's bare
    endpoint (same settings but the cache switch)."""
    mix = browsing_mix(world, browses, rng)
    bare = [BARE] * requests
    with served(url, cached=True) as port:
        load(port, bare[:200], concurrency)  # warm-up: imports, caches, connection pool
        cached_bare = measured(port, bare, concurrency)
        cold = measured(port, mix, concurrency)
        warm = measured(port, mix * warm_passes, concurrency)
    with served(url, cached=False) as port:
        load(port, bare[:200], concurrency)
        load(port, mix[:50], concurrency)
        uncached_bare = measured(port, bare, concurrency)
        uncached = measured(port, mix, concurrency)
    return {
        "concurrency": concurrency,
        "distinct_searches": len(mix),
        "mix": {
            "members_share": round(sum(bool(b.headers) for b in mix) / len(mix), 2),
            "browses_with_next_pages": sum(b.pages > 1 for b in mix),
            "browses_with_a_card": sum(b.card for b in mix),
        },
        "cached": {"bare": cached_bare, "cold_pass": cold, "warm_passes": warm},
        "uncached": {"bare": uncached_bare, "catalogue": uncached},
        "ratio_warm_to_bare": _ratio(warm, cached_bare),
        "ratio_cold_to_bare": _ratio(cold, cached_bare),
        "ratio_uncached_to_bare": _ratio(uncached, uncached_bare),
    }


def popular_mix(
    world: dict[str, Any], distinct: int, count: int, exponent: float, rng: random.Random
) -> list[Browse]:
    """``count`` browses drawn from ``distinct`` searches by a Zipf law: the n-th most asked
    search comes 1/n^exponent as often as the first. A public catalogue's traffic looks like this
    (a few searches asked again and again, a long tail asked once); which search is the most
    asked is left to chance, not to its speed."""
    pool = browsing_mix(world, distinct, rng)
    weights = [1 / rank**exponent for rank in range(1, len(pool) + 1)]
    return rng.choices(pool, weights, k=count)


def popular_throughput(
    url: str,
    world: dict[str, Any],
    requests: int,
    distinct: int,
    count: int,
    exponent: float,
    concurrency: int,
    rng: random.Random,
) -> dict[str, Any]:
    """Requests/s of the popular mix on a server whose cache starts empty, against its own bare
    endpoint: the steady state between the warm passes (every search cached) and the cold one."""
    mix = popular_mix(world, distinct, count, exponent, rng)
    with served(url, cached=True) as port:
        load(port, [BARE] * 200, concurrency)
        bare = measured(port, [BARE] * requests, concurrency)
        popular = measured(port, mix, concurrency)
    return {
        "distinct_searches": distinct,
        "browses": count,
        "zipf_exponent": exponent,
        "searches_asked": len(set(mix)),
        "bare": bare,
        "catalogue": popular,
        "ratio_to_bare": _ratio(popular, bare),
    }


def _ratio(catalogue: dict[str, Any], bare: dict[str, Any]) -> float:
    return round(catalogue["requests_per_second"] / bare["requests_per_second"], 3)


if __name__ == "__main__":
    main()
