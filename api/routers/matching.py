"""Matches: a flow's ranked, explained counterparts; the facilitator's stored matches."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ActorDep, SessionDep
from marketplace.matching import service
from marketplace.matching.models import Match
from marketplace.matching.schemas import FlowMatchesRead, MatchForMember, MatchRead, Reason

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
            )
            for m in found.matches
        ],
        facilitator_has_counterpart=found.facilitator_has_counterpart,
    )


def _read(match: Match) -> MatchRead:
    return MatchRead(
        **match.model_dump(exclude={"breakdown"}),
        why=[Reason.model_validate(r) for r in match.breakdown],
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
    return _read(service.suggest(session, actor, match_id))
