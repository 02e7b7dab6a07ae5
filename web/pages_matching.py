"""« Mises en relation » of a flow, and the facilitator's « Plan du territoire ».

A member sees its flow's matches as the engine scores them on the public cards, from its own site
(member_matches): the counterpart's card, a score and its reasons, never a stored match. The
facilitator sees the same page, then the stored matches in full (exact km, € and CO₂e with their
assumptions) with a button to suggest one, and the member companies that could take an offer.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from babel.dates import format_date
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from core.reference.sectors import sector_label
from marketplace.accounts.service import Actor
from marketplace.catalogue.labels import low_label
from marketplace.flows.models import Direction, FlowStatus
from marketplace.flows.schemas import FlowRead
from marketplace.flows.service import get_flow, read_flow
from marketplace.introductions import inbox
from marketplace.matching import service
from web.cards import Card, card_of, spaced
from web.i18n import Translate, page_locale, page_translator
from web.labels import BASE_UNITS, DIRECTIONS, KINDS, label
from web.matching_words import Estimate, Why, estimate_of, why_lines
from web.security import SIGNED_IN_PAGES, CurrentViewer, DbSession, require_staff
from web.templating import format_number, render

router = APIRouter(include_in_schema=False, dependencies=SIGNED_IN_PAGES)
STAFF_ONLY = [Depends(require_staff)]


@dataclass(frozen=True)
class FlowSummary:
    flow: FlowRead
    is_offer: bool
    direction: str
    kind: str
    low_code: str
    low_label: str
    per_year: str
    active: bool


@dataclass(frozen=True)
class MatchView:
    score: int  # out of 100
    card: Card
    why: list[Why]
    estimate: Estimate | None


@dataclass(frozen=True)
class StoredView:
    id: uuid.UUID
    score: int
    counterpart: FlowRead
    counterpart_href: str
    km: str
    why: list[Why]
    estimate: Estimate | None
    suggested_on: str


@dataclass(frozen=True)
class SectorView:
    nace: str
    label: str
    use: str


@dataclass(frozen=True)
class CompanyView:
    nace: str
    label: str
    km: str


def _summary(flow: FlowRead, locale: str, translate: Translate) -> FlowSummary:
    return FlowSummary(
        flow=flow,
        is_offer=flow.direction == Direction.OFFER,
        direction=label(DIRECTIONS, flow.direction, translate),
        kind=label(KINDS, flow.kind, translate),
        low_code=spaced(flow.low_code) if flow.low_code else "",
        low_label=low_label(flow.low_code, locale) or "",
        per_year=(
            f"{format_number(flow.quantity_per_year, locale)} "
            f"{label(BASE_UNITS, flow.base_unit, translate)}"
        ),
        active=flow.status == FlowStatus.ACTIVE,
    )


def _day(value: datetime | None, locale: str) -> str:
    return format_date(value, format="medium", locale=locale) if value else ""


def _stored(
    session: Session, actor: Actor, flow: FlowRead, locale: str, translate: Translate
) -> list[StoredView]:
    unit = label(BASE_UNITS, flow.base_unit, translate)
    found = []
    for stored in service.stored_matches(session, actor, flow.id):
        match = stored.match
        other = match.request_flow_id if flow.direction == Direction.OFFER else match.offer_flow_id
        found.append(
            StoredView(
                id=match.id,
                score=round(match.score * 100),
                counterpart=read_flow(get_flow(session, actor, other)),
                counterpart_href=f"/flows/{other}/matches",
                km=format_number(round(match.distance_km, 1), locale),
                why=why_lines(stored.breakdown, locale, translate),
                estimate=estimate_of(stored.estimate, unit, locale),
                suggested_on=_day(match.suggested_at, locale),
            )
        )
    return found


def _sectors(found: service.Prospects, locale: str) -> list[SectorView]:
    seen: dict[tuple[str, str], SectorView] = {}
    for sector in found.sectors:
        use = sector.use_fr if locale == "fr" else sector.use_en
        name = sector_label(sector.nace, locale) or sector.label or ""
        seen.setdefault((sector.nace, use), SectorView(sector.nace, name, use))
    return sorted(seen.values(), key=lambda s: (s.nace, s.use))


def _companies(found: service.Prospects, locale: str) -> list[CompanyView]:
    return [
        CompanyView(c.nace, c.nace_label or "", format_number(c.distance_km, locale))
        for c in found.companies
    ]


@router.get("/flows/{flow_id}/matches")
def matches_page(
    flow_id: uuid.UUID, request: Request, session: DbSession, viewer: CurrentViewer
) -> Response:
    locale, translate = page_locale(request), page_translator(request)
    actor = viewer.actor
    flow = read_flow(get_flow(session, actor, flow_id))
    summary = _summary(flow, locale, translate)
    found = service.member_matches(session, actor, flow_id)
    unit = label(BASE_UNITS, flow.base_unit, translate)
    matches = [
        MatchView(
            round(m.score * 100),
            card_of(m.counterpart, locale, translate),
            why_lines(m.breakdown, locale, translate),
            estimate_of(m.estimate, unit, locale),
        )
        for m in found.matches
    ]
    prospects = service.prospects(session, actor, flow_id) if summary.is_offer else None
    context: dict[str, Any] = {
        "summary": summary,
        "matches": matches,
        "facilitator_has_counterpart": found.facilitator_has_counterpart,
        # A member may express its interest in what the facilitator suggested, knowing nothing more.
        "suggested": [] if actor.is_staff else inbox.suggested_matches(session, actor, flow_id),
        "sectors": _sectors(prospects, locale) if prospects else [],
        "staff": actor.is_staff,
        "stored": _stored(session, actor, flow, locale, translate) if actor.is_staff else [],
        "companies": _companies(prospects, locale) if prospects and actor.is_staff else [],
    }
    return render(request, "matches.html", context)


@router.post("/flows/{flow_id}/matches/{match_id}/suggest", dependencies=STAFF_ONLY)
def suggest(
    flow_id: uuid.UUID, match_id: uuid.UUID, session: DbSession, viewer: CurrentViewer
) -> Response:
    """« Suggérer »: both members are told the facilitator has a possible counterpart."""
    service.suggest(session, viewer.actor, match_id)
    return RedirectResponse(f"/flows/{flow_id}/matches?notice=match-suggested", status_code=303)


# --- the territory plan ------------------------------------------------------------------------

Objective = Literal["co2e", "eur"]


@dataclass(frozen=True)
class ExchangeRow:
    offer: str
    offer_href: str
    request: str
    request_href: str
    quantity: str
    co2e_t: str
    eur: str


def _exchange_rows(
    exchanges: Sequence[service.PlannedExchange], locale: str, translate: Translate
) -> list[ExchangeRow]:
    return [
        ExchangeRow(
            offer=e.offer.label,
            offer_href=f"/flows/{e.offer.id}/matches",
            request=e.request.label,
            request_href=f"/flows/{e.request.id}/matches",
            quantity=(
                f"{format_number(e.quantity, locale)} "
                f"{label(BASE_UNITS, e.offer.base_unit, translate)}"
            ),
            co2e_t=format_number(e.co2e_t, locale),
            eur=format_number(e.eur, locale),
        )
        for e in exchanges
    ]


OBJECTIVES: Mapping[str, str] = {"co2e": "CO₂e", "eur": "€"}


@router.get("/plan", dependencies=STAFF_ONLY)
def plan_page(
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    objective: Annotated[Objective, Query()] = "co2e",
) -> Response:
    locale, translate = page_locale(request), page_translator(request)
    found = service.territory_plan(session, viewer.actor, objective)
    context = {
        "objective": found.objective,
        "objectives": OBJECTIVES,
        "rows": _exchange_rows(found.exchanges, locale, translate),
        "total_co2e_t": format_number(found.total_co2e_t, locale),
        "total_eur": format_number(found.total_eur, locale),
    }
    return render(request, "plan.html", context)
