"""Releasing the exchange figures of a closed year, and reading the latest release.

A year's figures are computed once, after the year has closed and late records have had time to
come in (GRACE), frozen in a `FiguresRelease` row and appended to the audit chain. The public
reads that row only, never the live tables: repeated reads teach nothing new, and a member who
adds or withdraws its own deliveries between two reads sees the same figures.

The period is the calendar year, not the quarter: a territory's exchanges are few, and a year
gathers enough companies per cell for the secrecy rules to let some figures through where a
quarter would suppress nearly all; contracts and registers count per year too; and one period
length only, so that no figure is the difference of two published ones (a year minus three
quarters)."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from marketplace.catalogue.cards import legal_units
from marketplace.exchanges.models import Contract, ContractVersion, Delivery
from marketplace.exchanges.service import terms_of
from marketplace.flows.models import Flow
from marketplace.introductions.models import Introduction
from marketplace.territory.errors import NoFiguresReleased
from marketplace.territory.models import FiguresRelease
from marketplace.territory.schemas import (
    ExchangeFigures,
    FamilyQuantity,
    FiguresRead,
    UnitQuantities,
)
from marketplace.territory.secrecy import Exchange, publishable, rounded, suppress_beside_total
from privacy import audit
from privacy.generalisation import family_of

# A year is released this long after it ends, so deliveries of late December recorded in January
# are in it. A delivery recorded after the release is in no release: releases never change.
GRACE = timedelta(days=31)
UNIT_ORDER = ("t", "MWh", "m3")
# The kind of a flow without a List of Waste code, when the introduction names no flow.
KIND_OF_UNIT = {"t": "material", "MWh": "heat", "m3": "water"}
AUDIT_ACTION = "statistics.release"


@dataclass(frozen=True)
class PublishedFigures:
    period: str
    period_start: date
    period_end: date
    released_at: datetime
    figures: ExchangeFigures


def due_year(today: date) -> int:
    """The latest year whose release is due on `today` (ended at least GRACE ago)."""
    return (today - GRACE).year - 1


def _year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def _moment(day: date, end: bool = False) -> datetime:
    """The first (or, with `end`, the first after the last) instant of a day, in UTC."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start + timedelta(days=1) if end else start


def _kind(session: Session, contract: Contract, unit: str) -> str:
    intro = session.get(Introduction, contract.introduction_id)
    for flow_id in (intro.owner_flow_id, intro.requester_flow_id) if intro else ():
        flow = session.get(Flow, flow_id) if flow_id else None
        if flow is not None:
            return flow.kind.value
    return KIND_OF_UNIT.get(unit, "material")


def _family(session: Session, contract: Contract) -> tuple[str, str]:
    """(family, unit) of a contract, from its current terms: what the parties contracted."""
    query = select(ContractVersion).where(
        ContractVersion.contract_id == contract.id,
        ContractVersion.number == contract.current_version,
    )
    version = session.exec(query).one()
    terms = terms_of(version)
    unit = terms.unit.value
    if terms.low_code:
        # "14 06 03*" -> "140603": the hazardous mark is no part of the chapter.
        code = "".join(ch for ch in terms.low_code if ch.isdigit())
        return family_of(code, "material").key, unit
    return family_of(None, _kind(session, contract, unit)).key, unit


def compute(session: Session, start: date, end: date) -> ExchangeFigures:
    """The figures of the days `start`..`end` (inclusive) that pass the secrecy rules; live data,
    so for a release only, never for a page."""
    signed_query = select(Contract).where(
        col(Contract.activated_at) >= _moment(start),
        col(Contract.activated_at) < _moment(end, end=True),
    )
    signed = list(session.exec(signed_query).all())
    deliveries = session.exec(
        select(Delivery, Contract)
        .join(Contract, col(Contract.id) == col(Delivery.contract_id))
        .where(col(Delivery.delivered_on) >= start, col(Delivery.delivered_on) <= end)
    ).all()
    contracts = {c.id: c for c in signed} | {c.id: c for _, c in deliveries}
    units = legal_units(
        session, [i for c in contracts.values() for i in (c.giver_company_id, c.taker_company_id)]
    )

    def legal(company_id: uuid.UUID) -> Hashable:
        # A company without a legal unit index counts as itself (never merged with another).
        return units.get(company_id) or company_id

    def exchange(contract: Contract, weight: float) -> Exchange:
        return Exchange(legal(contract.giver_company_id), legal(contract.taker_company_id), weight)

    # Contracts signed in the period: a cell of its own, beside no total.
    signed_shown = publishable([exchange(c, 1) for c in signed])

    # Quantities delivered, per unit (never added across units) and per family.
    cells: dict[str, dict[str, list[Exchange]]] = defaultdict(lambda: defaultdict(list))
    families: dict[uuid.UUID, tuple[str, str]] = {}
    for delivery, contract in deliveries:
        if contract.id not in families:
            families[contract.id] = _family(session, contract)
        family, _ = families[contract.id]
        cells[delivery.unit][family].append(exchange(contract, delivery.quantity))
    delivered = []
    for unit in sorted(cells, key=lambda u: (*UNIT_ORDER, u).index(u)):
        parts = cells[unit]
        everything = [e for exchanges in parts.values() for e in exchanges]
        total_shown = publishable(everything)
        shown = suppress_beside_total(parts, total_shown)
        family_cells = [
            FamilyQuantity(family=f, quantity=rounded(sum(e.weight for e in parts[f])))
            for f in sorted(shown)
        ]
        total = rounded(sum(e.weight for e in everything)) if total_shown else None
        if total is not None or family_cells:
            delivered.append(UnitQuantities(unit=unit, total=total, families=family_cells))
    return ExchangeFigures(
        contracts_signed=len(signed) if signed_shown else None,
        delivered=delivered,
    )


def _digest(figures: ExchangeFigures) -> str:
    text = json.dumps(figures.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _released(session: Session, period: str) -> FiguresRelease | None:
    return session.exec(select(FiguresRelease).where(FiguresRelease.period == period)).first()


def release_year(
    session: Session, year: int, today: date | None = None
) -> tuple[FiguresRelease, bool]:
    """Release the figures of a closed year, once: (the release, whether this call made it).

    Idempotent: a year already released is returned as it is. Two concurrent runs both compute,
    the unique period lets one row in, and the other returns that row; its audit entry is
    written only by the run whose row went in."""
    today = today or datetime.now(UTC).date()
    start, end = _year_bounds(year)
    if end >= today:
        raise ValueError(f"the year {year} is not over")
    period = str(year)
    existing = _released(session, period)
    if existing is not None:
        return existing, False
    figures = compute(session, start, end)
    release = FiguresRelease(
        period=period,
        period_start=start,
        period_end=end,
        figures=figures.model_dump(mode="json"),
        figures_sha256=_digest(figures),
    )
    try:
        with session.begin_nested():
            session.add(release)
            session.flush()
    except IntegrityError:
        winner = _released(session, period)
        if winner is None:
            raise
        return winner, False
    audit.append(
        session,
        AUDIT_ACTION,
        actor_id=None,
        subject_id=release.id,
        data={"period": period, "figures_sha256": release.figures_sha256},
    )
    return release, True


def release_due(session: Session, today: date | None = None) -> tuple[FiguresRelease, bool]:
    """Release the latest year that is due (beat, demo): nothing new if already released."""
    today = today or datetime.now(UTC).date()
    return release_year(session, due_year(today), today)


def latest_release(session: Session) -> PublishedFigures | None:
    """The latest release, as published: what the landing page shows (never live data)."""
    query = select(FiguresRelease).order_by(col(FiguresRelease.period_end).desc()).limit(1)
    row = session.exec(query).first()
    if row is None:
        return None
    return PublishedFigures(
        period=row.period,
        period_start=row.period_start,
        period_end=row.period_end,
        released_at=row.released_at,
        figures=ExchangeFigures.model_validate(row.figures),
    )


def latest_read(session: Session) -> FiguresRead:
    """The latest release for the public API; none yet is a 404."""
    latest = latest_release(session)
    if latest is None:
        raise NoFiguresReleased()
    return FiguresRead(
        period=latest.period,
        period_start=latest.period_start,
        period_end=latest.period_end,
        released_at=latest.released_at,
        **latest.figures.model_dump(),
    )
