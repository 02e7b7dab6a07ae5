"""A stored match keeps numbers only: its criteria's scores and its estimate's per-unit figures.
Read back, they give the reasons and the estimate that scoring the pair directly gives; the plan
reads the same per-unit figures as the estimate shows; migration 0011 carries the rows stored
before."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlmodel import Session, col, select

from core.db import make_engine
from core.migrate import alembic_config, upgrade
from core.models import utcnow
from marketplace.accounts.models import Role
from marketplace.matching import service
from marketplace.matching.economics import estimate
from marketplace.matching.engine import best_for_offers, requests_side
from marketplace.matching.facts import Facts
from marketplace.matching.models import Match
from marketplace.matching.scoring import CRITERIA, WEIGHTS, Scored, score_pair
from tests.conftest import TEST_DATABASE_URL, backend_name
from tests.factories import create_company_row, create_flow_row, create_site_row, create_user_row
from tests.symbiose_process import postgresql_database

DUNKERQUE = (51.0343, 2.3768)
GRAVELINES = (50.9862, 2.1281)
MARDYCK = (51.0200, 2.3400)
LOON = (51.0000, 2.2200)


def _as_stored(pair: Scored) -> Match:
    """The pair as store_matches writes it (the same columns), without a database."""
    columns = service._match_columns([pair])
    return Match(**{name: values[0] for name, values in columns.items()}, computed_at=utcnow())


def _synthetic_pairs() -> list[Scored]:
    """Every kind's best pairs among synthetic flows, some with the costs and prices their
    owners declared (the estimate then uses them) and gas in energy and in volume."""
    from bench.matching_bench import synthetic

    def near(flow: Facts) -> Facts:
        # France drawn a hundred times smaller: heat and water, which travel a few km, meet.
        return replace(
            flow, latitude=51 + (flow.latitude - 46) / 100, longitude=2 + (flow.longitude - 2) / 100
        )

    offers = [near(f) for f in synthetic("offer", 300, 21)]
    requests = [near(f) for f in synthetic("request", 300, 22)]
    offers = [
        replace(o, current_cost_cents=4_500, current_operation="D1") if i % 4 == 0 else o
        for i, o in enumerate(offers)
    ]
    requests = [
        replace(r, virgin_price_cents=2_800) if i % 5 == 0 else r for i, r in enumerate(requests)
    ]
    pairs: list[Scored] = []
    for kind in ("material", "heat", "water", "gas"):
        side = requests_side([r for r in requests if r.kind == kind])
        pairs += best_for_offers([o for o in offers if o.kind == kind], side)
    return pairs


def test_stored_numbers_read_back_as_the_reasons_and_estimate_scored_directly() -> None:
    pairs = _synthetic_pairs()
    assert {p.offer.kind for p in pairs} == {"material", "heat", "water", "gas"}
    for pair in pairs:
        match = _as_stored(pair)
        read = service.explained(match, pair.offer, pair.request)
        # Kept to 10 m: what is read is the pair scored at that distance.
        assert abs(match.distance_km - pair.distance_km) <= 0.005
        shown = score_pair(
            pair.offer, pair.request, km=match.distance_km, compatibility=pair.compatibility
        )
        assert shown is not None and round(shown.score, 4) == match.score
        assert read.breakdown == shown.breakdown(), pair
        assert read.estimate == estimate(shown), pair
        # The criteria's scores stored (to the thousandth) are those the score was made of.
        scores = [getattr(match, f"{name}_score") for name in CRITERIA]
        total = sum(s * WEIGHTS[name] for s, name in zip(scores, CRITERIA, strict=True))
        assert abs(min(1.0, total / sum(WEIGHTS.values())) - match.score) <= 0.0006
        # No figure with decimals besides the scores and the distance (see _whole).
        figures = [getattr(match, name) for name in service._NUMBERS[len(CRITERIA) :]]
        assert all(f is None or isinstance(f, int) for f in figures), figures


def test_a_suggestion_no_longer_a_match_reads_with_no_reasons_and_no_estimate() -> None:
    pair = _synthetic_pairs()[0]
    match = _as_stored(pair)
    for name in service._NUMBERS:
        setattr(match, name, None)
    match.score = 0.0
    read = service.explained(match, pair.offer, pair.request)
    assert (read.breakdown, read.estimate) == ([], None)


def _territory(session: Session) -> dict[str, Any]:
    """Fly ash, slag, gypsum and heat around Dunkerque, and their takers; matched after commit
    (store_matches through the database's own upsert)."""

    def company(name: str, nace: str, position: tuple[float, float]) -> Any:
        return create_site_row(
            session, create_company_row(session, name, nace=nace), name, *position
        )

    power = company("Centrale Stock SAS", "35.11Z", GRAVELINES)
    steel = company("Aciérie Stock SA", "24.10Z", LOON)
    cement = company("Cimenterie Stock SAS", "23.51Z", DUNKERQUE)
    plaster = company("Plâtrerie Stock SAS", "23.62Z", MARDYCK)
    greenhouse = company("Serres Stock SAS", "01.13Z", DUNKERQUE)
    dairy = company("Laiterie Stock SAS", "10.51A", MARDYCK)
    flows = {
        "ash": create_flow_row(
            session, power, label="Cendres volantes", quantity=30000, current_cost_eur_per_unit=38
        ),
        "slag": create_flow_row(
            session, steel, label="Laitier de haut fourneau", low_code="10 02 02", quantity=80000
        ),
        "gypsum": create_flow_row(
            session, power, label="Gypse de désulfuration", low_code="10 01 05", quantity=12000
        ),
        "heat": create_flow_row(
            session,
            dairy,
            kind="heat",
            low_code=None,
            label="Chaleur fatale",
            unit="MWh",
            quantity=8000,
            temperature_c=70,
        ),
        "binders": create_flow_row(
            session,
            cement,
            direction="request",
            label="Ajouts cimentaires",
            low_code=None,
            description="matières de substitution au clinker",
            quantity=50000,
            virgin_price_eur_per_unit=31,
        ),
        "plaster": create_flow_row(
            session,
            plaster,
            direction="request",
            label="Gypse naturel pour plaques de plâtre",
            low_code=None,
            quantity=9000,
        ),
        "greenhouse": create_flow_row(
            session,
            greenhouse,
            direction="request",
            kind="heat",
            low_code=None,
            label="Chauffage des serres",
            unit="MWh",
            quantity=5000,
            temperature_c=60,
        ),
    }
    return flows


def test_matches_stored_in_the_database_read_as_scored_directly(session: Session) -> None:
    flows = _territory(session)
    session.expire_all()
    stored = list(session.exec(select(Match)).all())
    offered = {m.offer_flow_id for m in stored}
    assert {flows["ash"].id, flows["slag"].id, flows["gypsum"].id, flows["heat"].id} <= offered
    facts = {f.ref: f for f in service._facts_of(session, [f.id for f in flows.values()])}
    for read in service.explain(session, stored):
        match = read.match
        offer, request = facts[match.offer_flow_id], facts[match.request_flow_id]
        direct = score_pair(offer, request, km=match.distance_km)
        assert direct is not None and round(direct.score, 4) == match.score
        assert read.breakdown == direct.breakdown()
        assert read.estimate == estimate(direct)
        assert read.estimate is not None  # every flow here states its quantity
    # Stored again (an edit elsewhere, a nightly recompute): the same rows, updated in place.
    ids = {m.id for m in stored}
    service.match_flows(session, [f.id for f in flows.values()])
    session.commit()
    session.expire_all()
    assert {m.id for m in session.exec(select(Match)).all()} == ids


def test_the_plan_plans_with_the_figures_the_estimates_show(session: Session) -> None:
    """The plan's € and CO₂e per unit are those each match's estimate shows, as they were when
    the plan read the stored estimate; its quantities fit the offers and needs."""
    flows = _territory(session)
    staff = service_actor(session)
    session.expire_all()
    for objective, per_unit in (("co2e", "co2e_kg_per_unit"), ("eur", "eur_per_unit")):
        plan = service.territory_plan(session, staff, objective)
        assert plan.exchanges, objective
        read = {r.match.id: r for r in service.explain(session, [e.match for e in plan.exchanges])}
        for exchange in plan.exchanges:
            shown = read[exchange.match.id].estimate
            assert shown is not None
            co2e, eur = shown["co2e_kg_per_unit"], shown["eur_per_unit"]
            assert exchange.co2e_t == round(exchange.quantity * co2e / 1000, 3)
            assert exchange.eur == round(exchange.quantity * eur, 2)
            assert shown[per_unit] > 0
        given: dict[uuid.UUID, float] = {}
        for exchange in plan.exchanges:
            given[exchange.offer.id] = given.get(exchange.offer.id, 0) + exchange.quantity
        quantities = {f.id: f.quantity_per_year for f in flows.values()}
        assert all(q <= quantities[offer] + 1e-6 for offer, q in given.items())


def service_actor(session: Session) -> Any:
    from marketplace.accounts.service import actor_of

    return actor_of(create_user_row(session, Role.FACILITATOR))


# --- migration 0011 on a database holding matches -----------------------------------------------


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    """A scratch database of the suite's backend, migrated by the test itself."""
    if backend_name() != "postgresql":
        engine = make_engine(f"sqlite:///{tmp_path / 'migration.db'}")
        yield engine
        engine.dispose()
        return
    with postgresql_database(TEST_DATABASE_URL, "match_numbers") as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def test_the_migration_keeps_the_numbers_of_the_matches_stored_before(engine: sa.Engine) -> None:
    from bench.matching_db_bench import seed

    pair = _synthetic_pairs()[0]
    upgrade(engine, "0010_intro_pools")
    seed(engine, [pair.offer, pair.request])
    old = sa.table(
        "matches",
        *(sa.column(c, sa.Uuid()) for c in ("id", "offer_flow_id", "request_flow_id")),
        sa.column("score"),
        sa.column("distance_km"),
        sa.column("archetype_id"),
        sa.column("breakdown", sa.JSON()),
        sa.column("estimate", sa.JSON()),
        sa.column("computed_at", sa.DateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    row = {
        "offer_flow_id": pair.offer.ref,
        "request_flow_id": pair.request.ref,
        "score": round(pair.score, 4),
        "distance_km": round(pair.distance_km, 2),
        "archetype_id": pair.archetype_id,
        "computed_at": now,
    }
    kept, cleared = uuid.uuid4(), uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            old.insert(),
            [
                {**row, "id": kept, "breakdown": pair.breakdown(), "estimate": estimate(pair)},
                # A suggestion that was no longer a match: no reasons, no estimate.
                {**row, "id": cleared, "request_flow_id": pair.offer.ref, "score": 0.0}
                | {"breakdown": [], "estimate": None},
            ],
        )
    upgrade(engine, "0011_match_numbers")
    with Session(engine) as session:
        numbers = {
            m.id: m for m in session.exec(select(Match).where(col(Match.id).in_([kept, cleared])))
        }
        match, gone = numbers[kept], numbers[cleared]
        read = service.explained(match, pair.offer, pair.request)
    expected = estimate(pair)
    assert expected is not None and read.estimate is not None
    assert [c["score"] for c in read.breakdown] == [c["score"] for c in pair.breakdown()]
    assert [c["reason"] for c in read.breakdown] == [c["reason"] for c in pair.breakdown()]
    for figure in ("eur_giver_per_unit", "eur_taker_per_unit", "co2e_kg_per_unit"):
        assert read.estimate[figure] == expected[figure]
    assert abs(read.estimate["eur_per_unit"] - expected["eur_per_unit"]) <= 1e-4
    assert [getattr(gone, name) for name in service._NUMBERS] == [None] * len(service._NUMBERS)
    with engine.connect() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("matches")}
    assert {"breakdown", "estimate"}.isdisjoint(columns)
    assert json.dumps(read.breakdown)  # what the routes answer, as JSON
    # Back: the JSON columns return empty, and every flow is to be matched again.
    with engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO matched_flows VALUES (:flow, :at)"),
            {
                "flow": pair.offer.ref.hex if engine.dialect.name == "sqlite" else pair.offer.ref,
                "at": now,
            },
        )
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0010_intro_pools")
    with engine.connect() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("matches")}
        marked = connection.execute(sa.text("SELECT count(*) FROM matched_flows")).scalar()
        breakdowns = connection.execute(sa.select(old.c.breakdown)).scalars().all()
    assert {"breakdown", "estimate"} <= columns and "material_score" not in columns
    assert marked == 0 and breakdowns == [[], []]
