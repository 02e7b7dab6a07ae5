"""Flows: a company's offers and requests."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ActorDep, SessionDep
from core.inputs import Limit, Offset
from marketplace.flows import service
from marketplace.flows.schemas import FlowCreate, FlowRead, FlowUpdate

router = APIRouter(tags=["flows"])


@router.get("/flows", response_model=list[FlowRead])
def list_flows(
    session: SessionDep,
    actor: ActorDep,
    company_id: uuid.UUID | None = None,
    include_withdrawn: bool = False,
    limit: Annotated[Limit, Query()] = 100,
    offset: Annotated[Offset, Query()] = 0,
) -> list[FlowRead]:
    rules = service.FlowRules.load(session)
    flows = service.list_flows(
        session,
        actor,
        company_id=company_id,
        include_withdrawn=include_withdrawn,
        limit=limit,
        offset=offset,
    )
    return [service.read_flow(f, rules) for f in flows]


@router.post("/flows", response_model=FlowRead, status_code=201)
def create_flow(body: FlowCreate, session: SessionDep, actor: ActorDep) -> FlowRead:
    return service.read_flow(service.create_flow(session, actor, body))


@router.get("/flows/{flow_id}", response_model=FlowRead)
def get_flow(flow_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> FlowRead:
    return service.read_flow(
        service.get_flow(session, actor, flow_id), service.FlowRules.load(session)
    )


@router.patch("/flows/{flow_id}", response_model=FlowRead)
def update_flow(
    flow_id: uuid.UUID, body: FlowUpdate, session: SessionDep, actor: ActorDep
) -> FlowRead:
    flow = service.get_flow(session, actor, flow_id)
    return service.read_flow(service.update_flow(session, actor, flow, body))


@router.post("/flows/{flow_id}/withdraw", response_model=FlowRead)
def withdraw_flow(flow_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> FlowRead:
    flow = service.get_flow(session, actor, flow_id)
    return service.read_flow(service.withdraw_flow(session, actor, flow))
