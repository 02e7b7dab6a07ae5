"""Flows: the rules of a valid declaration, and create / edit / withdraw with ownership checks."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, func, select

from core.db import lock_for_update
from core.events import emit, handles
from core.inputs import invalid_from
from core.models import utcnow
from core.reference.models import LowCode, Operation
from marketplace.accounts.service import Actor
from marketplace.companies.errors import NoSuchSite
from marketplace.companies.events import SECTOR_CHANGED
from marketplace.companies.models import Company, Site
from marketplace.flows.errors import (
    BadMonths,
    FlowAlreadyWithdrawn,
    FlowWithdrawn,
    HazardousCodeDeclaredSafe,
    HazardousNeedsLowCode,
    HeatHasNoLowCode,
    HeatNeedsTemperature,
    MaterialNeedsLowCode,
    NoSuchFlow,
    OfferOnly,
    RequestOnly,
    SafeCodeDeclaredHazardous,
    SeasonalNeedsMonths,
    UnknownLowCode,
    UnknownOperation,
)
from marketplace.flows.events import FLOW_CHANGED, FLOW_CREATED
from marketplace.flows.models import Direction, Flow, FlowStatus, Kind, PhysicalState, Regularity
from marketplace.flows.months import months_of
from marketplace.flows.schemas import FlowCreate, FlowFields, FlowRead, FlowUpdate
from marketplace.flows.units import base_unit_of, normalise

_LOW_CODE = re.compile(r"^\d{6}$")


@dataclass(frozen=True)
class LowEntry:
    spaced: str
    hazardous: bool
    label_fr: str


@dataclass(frozen=True)
class FlowRules:
    """The reference data a flow is checked against, loaded once per request or import."""

    low: dict[str, LowEntry]
    operations: frozenset[str]

    @classmethod
    def load(cls, session: Session) -> FlowRules:
        """Read once per database and process: the reference tables change only by migration
        (and a migration is followed by a restart), while every flow request needs them."""
        key = session.get_bind().engine.url.render_as_string(hide_password=True)
        rules = _RULES.get(key)
        if rules is None:
            entries = session.exec(select(LowCode).where(LowCode.level == "entry")).all()
            rules = cls(
                low={e.code: LowEntry(e.spaced, e.hazardous, e.description_fr) for e in entries},
                operations=frozenset(session.exec(select(Operation.code)).all()),
            )
            _RULES[key] = rules
        return rules


_RULES: dict[str, FlowRules] = {}


def compact_low_code(raw: str) -> str:
    """ "10 01 04*" → "100104" (the asterisk only repeats the hazardous flag)."""
    return re.sub(r"[\s.*]", "", raw)


def months_mask(months: Sequence[int]) -> int:
    mask = 0
    for month in months:
        if not 1 <= month <= 12:
            raise BadMonths(field="months")
        mask |= 1 << (month - 1)
    return mask


def _cents(euros: float | None) -> int | None:
    return None if euros is None else round(euros * 100)


def check_flow(
    rules: FlowRules, direction: Direction, kind: Kind, fields: FlowFields
) -> dict[str, Any]:
    """Validate a declaration and return the Flow column values; raises Invalid naming the field.

    Pure: no database access, so an import checks 100,000 rows without a query per row.
    """
    low_code: str | None = None
    hazardous = False
    if fields.low_code:
        low_code = compact_low_code(fields.low_code)
        entry = rules.low.get(low_code) if _LOW_CODE.match(low_code) else None
        if entry is None:
            raise UnknownLowCode(field="low_code")
        if kind == Kind.HEAT:
            raise HeatHasNoLowCode(field="low_code")
        hazardous = entry.hazardous
        if fields.hazardous is not None and fields.hazardous != entry.hazardous:
            mismatch = HazardousCodeDeclaredSafe if entry.hazardous else SafeCodeDeclaredHazardous
            raise mismatch(field="hazardous")
    elif kind == Kind.MATERIAL and direction == Direction.OFFER:
        # The holder of a waste must classify it; a buyer describes the material it needs and
        # its use instead (the matching engine reads its words and its sector).
        raise MaterialNeedsLowCode(field="low_code")
    elif fields.hazardous:
        raise HazardousNeedsLowCode(field="low_code")

    mask = months_mask(fields.months)
    if fields.regularity == Regularity.SEASONAL and not mask:
        raise SeasonalNeedsMonths(field="months")
    if kind == Kind.HEAT and fields.temperature_c is None:
        raise HeatNeedsTemperature(field="temperature_c")
    months_count = bin(mask).count("1") or 12
    per_year = normalise(kind, fields.quantity, fields.unit, fields.period, months_count)

    if direction == Direction.REQUEST:
        if fields.current_operation or fields.current_cost_eur_per_unit is not None:
            raise OfferOnly(field="current_operation")
    elif fields.replaces_material or fields.virgin_price_eur_per_unit is not None:
        raise RequestOnly(field="replaces_material")
    operation = None
    if fields.current_operation:
        operation = re.sub(r"\s+", " ", fields.current_operation.strip().upper())
        operation = re.sub(r"^([RD])\s*(\d)", r"\1 \2", operation)
        if operation not in rules.operations:
            raise UnknownOperation(field="current_operation")
    physical_state = fields.physical_state
    if kind == Kind.GAS:
        physical_state = PhysicalState.GAS
    return {
        "direction": direction,
        "kind": kind,
        "label": fields.label.strip(),
        "low_code": low_code,
        "hazardous": hazardous,
        "physical_state": physical_state,
        "quantity": fields.quantity,
        "unit": fields.unit.strip(),
        "period": fields.period,
        "quantity_per_year": per_year,
        "base_unit": base_unit_of(kind, fields.unit),
        "regularity": fields.regularity,
        "months_mask": mask,
        "temperature_c": fields.temperature_c,
        "medium": fields.medium,
        "power_kw": fields.power_kw,
        "water_quality": fields.water_quality,
        "quality_spec": fields.quality_spec,
        "precision": fields.precision,
        "current_operation": operation,
        "current_cost_cents": _cents(fields.current_cost_eur_per_unit),
        "replaces_material": fields.replaces_material,
        "virgin_price_cents": _cents(fields.virgin_price_eur_per_unit),
        "description": fields.description,
    }


def _own_site(session: Session, actor: Actor, site_id: uuid.UUID, company_id: uuid.UUID) -> Site:
    site = session.get(Site, site_id)
    if site is None or site.company_id != company_id or not actor.may_access_company(company_id):
        raise NoSuchSite(field="site_id")
    return site


def create_flow(session: Session, actor: Actor, data: FlowCreate) -> Flow:
    site = session.get(Site, data.site_id)
    if site is None or not actor.may_access_company(site.company_id):
        raise NoSuchSite(field="site_id")
    values = check_flow(FlowRules.load(session), data.direction, data.kind, data)
    flow = Flow(company_id=site.company_id, site_id=site.id, **values)
    session.add(flow)
    session.flush()
    emit(session, FLOW_CREATED, flow)
    return flow


def get_flow(session: Session, actor: Actor, flow_id: uuid.UUID) -> Flow:
    flow = session.get(Flow, flow_id)
    if flow is None or not actor.may_access_company(flow.company_id):
        raise NoSuchFlow()
    return flow


def list_flows(
    session: Session,
    actor: Actor,
    *,
    company_id: uuid.UUID | None = None,
    include_withdrawn: bool = False,
    limit: int = 200,
    offset: int = 0,
) -> Sequence[Flow]:
    query = select(Flow).order_by(col(Flow.created_at).desc(), col(Flow.id))
    if actor.is_staff:
        if company_id is not None:
            query = query.where(Flow.company_id == company_id)
    else:
        query = query.where(Flow.company_id == actor.require_company())
    if not include_withdrawn:
        query = query.where(Flow.status == FlowStatus.ACTIVE)
    return session.exec(query.offset(offset).limit(limit)).all()


_CURRENCY_FIELDS = {
    "current_cost_eur_per_unit": "current_cost_cents",
    "virgin_price_eur_per_unit": "virgin_price_cents",
}


def _fields_of(flow: Flow) -> dict[str, Any]:
    """The flow as FlowFields input, so an edit is re-checked with every rule."""
    values = {name: getattr(flow, name) for name in FlowFields.model_fields if hasattr(flow, name)}
    values["low_code"] = flow.low_code
    values["months"] = months_of(flow.months_mask)
    for euros, cents in _CURRENCY_FIELDS.items():
        amount = getattr(flow, cents)
        values[euros] = None if amount is None else amount / 100
    values["hazardous"] = None
    return values


def update_flow(session: Session, actor: Actor, flow: Flow, data: FlowUpdate) -> Flow:
    # Locked first (then its listing, in sync_flow): an edit racing a withdrawal sees it.
    lock_for_update(session, flow)
    if flow.status == FlowStatus.WITHDRAWN:
        raise FlowWithdrawn(field="status")
    changes = data.model_dump(exclude_unset=True)
    site_id = changes.pop("site_id", None)
    if site_id is not None:
        flow.site_id = _own_site(session, actor, site_id, flow.company_id).id
    merged = _fields_of(flow) | changes
    try:
        fields = FlowFields.model_validate(merged)
    except ValidationError as exc:
        # A value stored before today's bounds (an older row, a direct write) is named too.
        raise invalid_from(exc) from None
    values = check_flow(FlowRules.load(session), Direction(flow.direction), Kind(flow.kind), fields)
    for name, value in values.items():
        setattr(flow, name, value)
    flow.updated_at = utcnow()
    session.add(flow)
    session.flush()
    emit(session, FLOW_CHANGED, flow)
    return flow


@handles(SECTOR_CHANGED)
def company_sector_changed(session: Session, company: Company) -> None:
    """A company's sector is part of how its active flows are matched (the knowledge base's
    receiving sectors) and published: each is changed as an edit changes it (updated_at, then
    FLOW_CHANGED, locked), so its listing follows, its matches are recomputed, and a worker
    holding the territory's requests reads them again (their fingerprint's latest edit)."""
    query = select(Flow).where(Flow.company_id == company.id, Flow.status == FlowStatus.ACTIVE)
    for flow in session.exec(query.order_by(col(Flow.id))).all():
        lock_for_update(session, flow)
        if flow.status != FlowStatus.ACTIVE:
            continue
        flow.updated_at = utcnow()
        session.add(flow)
        session.flush()
        emit(session, FLOW_CHANGED, flow)


def withdraw_flow(session: Session, actor: Actor, flow: Flow) -> Flow:
    lock_for_update(session, flow)
    if flow.status == FlowStatus.WITHDRAWN:
        raise FlowAlreadyWithdrawn(field="status")
    flow.status = FlowStatus.WITHDRAWN
    flow.updated_at = utcnow()
    session.add(flow)
    session.flush()
    emit(session, FLOW_CHANGED, flow)
    return flow


def read_flow(flow: Flow, rules: FlowRules | None = None) -> FlowRead:
    entry = rules.low.get(flow.low_code) if rules and flow.low_code else None
    return FlowRead(
        **{name: getattr(flow, name) for name in FlowRead.model_fields if hasattr(flow, name)},
        low_label_fr=entry.label_fr if entry else None,
        months=months_of(flow.months_mask),
        current_cost_eur_per_unit=None
        if flow.current_cost_cents is None
        else flow.current_cost_cents / 100,
        virgin_price_eur_per_unit=None
        if flow.virgin_price_cents is None
        else flow.virgin_price_cents / 100,
    )


def count_active_flows_by_company(session: Session) -> dict[uuid.UUID, int]:
    """How many active flows each company has (counts only, for the facilitator's list)."""
    query = (
        select(Flow.company_id, func.count())
        .where(Flow.status == FlowStatus.ACTIVE)
        .group_by(col(Flow.company_id))
    )
    return dict(session.exec(query).all())


def list_active_offers(session: Session, limit: int) -> Sequence[Flow]:
    """The territory's active offers, by kind, code and age: the facilitator's pool builder."""
    query = (
        select(Flow)
        .where(Flow.direction == Direction.OFFER, Flow.status == FlowStatus.ACTIVE)
        .order_by(col(Flow.kind), col(Flow.low_code), col(Flow.created_at))
        .limit(limit)
    )
    return session.exec(query).all()
