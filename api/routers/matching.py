"""Matches: a flow's ranked, explained counterparts; the facilitator's stored matches."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.deps import ActorDep, SessionDep
from marketplace.matching import service
from marketplace.matching.schemas import (
    FlowMatchesRead,
    MatchForMember,
    MatchRead,
    PlannedExchangeRead,
    ProspectCompanyRead,
    ProspectSectorRead,
    ProspectsRead,
    Reason,
    TerritoryPlanRead,
)

router = APIRouter(tags=["matching"])


@router.get("/flows/{flow_id}/matches", response_model=FlowMatchesRead)
def flow_matches(
    flow_id: uuid.UUID,
    session: SessionDep,
    actor: ActorDep,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> FlowMatchesRead:
    """The flow's best counterparts in the catalogue, scored on what their cards show, from the
    flow's own site; each with the reasons of its score."""
    found = service.member_matches(session, actor, flow_id, limit)
    return FlowMatchesRead(
        flow_id=found.flow_id,
        matches=[
            MatchForMember(
                score=m.score,
                why=[Reason.model_validate(r) for r in m.breakdown],
                counterpart=m.counterpart,
                estimate=m.estimate,
            )
            for m in found.matches
        ],
        facilitator_has_counterpart=found.facilitator_has_counterpart,
    )


def _read(stored: service.StoredMatch) -> MatchRead:
    return MatchRead(
        **stored.match.model_dump(exclude={"distance_km"}),
        distance_km=stored.distance_km,
        why=[Reason.model_validate(r) for r in stored.breakdown],
        estimate=stored.estimate,
    )


@router.get("/matches", response_model=list[MatchRead])
def stored_matches(
    session: SessionDep,
    actor: ActorDep,
    flow_id: uuid.UUID,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
) -> list[MatchRead]:
    """The facilitator's matches of one flow, scored on the flows as they are."""
    return [_read(m) for m in service.stored_matches(session, actor, flow_id, limit)]


@router.post("/matches/{match_id}/suggest", response_model=MatchRead)
def suggest_match(match_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> MatchRead:
    """The facilitator tells both members it has a possible counterpart (no detail)."""
    match = service.suggest(session, actor, match_id)
    return _read(service.explain(session, [match])[0])


@router.get("/flows/{flow_id}/prospects", response_model=ProspectsRead)
def flow_prospects(flow_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> ProspectsRead:
    """Who usually takes this offer's residue: sectors for its owner; for the facilitator, also
    the member companies of those sectors within reach."""
    found = service.prospects(session, actor, flow_id)
    return ProspectsRead(
        flow_id=found.flow_id,
        sectors=[ProspectSectorRead.model_validate(s.__dict__) for s in found.sectors],
        companies=[
            ProspectCompanyRead.model_validate(
                {**c.__dict__, "archetype_ids": list(c.archetype_ids)}
            )
            for c in found.companies
        ],
    )


@router.get("/plan", response_model=TerritoryPlanRead)
def territory_plan(
    session: SessionDep,
    actor: ActorDep,
    objective: Annotated[Literal["co2e", "eur"], Query()] = "co2e",
) -> TerritoryPlanRead:
    """The facilitator's territory plan: the exchanges that maximise CO₂e avoided (or € saved)
    under each offer's quantity and each request's need."""
    found = service.territory_plan(session, actor, objective)
    return TerritoryPlanRead(
        objective=found.objective,
        exchanges=[
            PlannedExchangeRead(
                match_id=e.match.id,
                offer_flow_id=e.offer.id,
                request_flow_id=e.request.id,
                offer_label=e.offer.label,
                request_label=e.request.label,
                quantity_per_year=e.quantity,
                unit=e.offer.base_unit,
                co2e_t_per_year=e.co2e_t,
                eur_per_year=e.eur,
            )
            for e in found.exchanges
        ],
        total_co2e_t_per_year=found.total_co2e_t,
        total_eur_per_year=found.total_eur,
    )
