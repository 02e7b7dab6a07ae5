"""Pooled (aggregated) offers: the facilitator pools compatible flows of several companies (same
material, same area) into one listing with the summed quantity; contributors stay hidden."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from core.db import select_for_update
from core.inputs import FreeText, Label
from core.models import utcnow
from core.settings import get_settings
from marketplace.accounts.service import Actor
from marketplace.catalogue.cache import catalogue_changed
from marketplace.catalogue.cards import apply_view, card_shown, group_key_of, legal_units
from marketplace.catalogue.errors import (
    PoolArea,
    PoolMixesHazard,
    PoolMixesKinds,
    PoolMixesMaterials,
    PoolMixesSubchapters,
    PoolMixesUnits,
    PoolOfOneCompany,
    PoolSpansDepartements,
    PoolSpansRegions,
    WithdrawnFlowNotPooled,
)
from marketplace.catalogue.models import Listing, PoolShare
from marketplace.catalogue.public_text import require_public_text
from marketplace.catalogue.states import TERMINAL, ListingStatus
from marketplace.companies.models import Company, Site
from marketplace.companies.service import deny_terms
from marketplace.flows.errors import NoSuchFlow
from marketplace.flows.models import Flow, FlowStatus
from privacy.generalisation import (
    Generalised,
    LocationLevel,
    MaterialLevel,
    aggregate_class,
    family_of,
    location_key,
    material_key,
)
from privacy.places import published_point


class PoolCreate(BaseModel):
    flow_ids: list[uuid.UUID] = Field(min_length=2, max_length=200)
    area: LocationLevel = Field(
        default=LocationLevel.DEPARTEMENT, description="departement or region: the shared area"
    )
    # "subchapter" pools flows whose codes differ within one subchapter (fly ash 10 01 02 with
    # boiler ash 10 01 01): the pool is published at that subchapter, never at a code.
    material: Literal["code", "subchapter"] = Field(
        default="code", description="code or subchapter: what the pooled flows share"
    )
    title: Label = Field(min_length=1)
    description: FreeText = ""


def _check_compatible(
    flows: Sequence[Flow],
    sites: dict[uuid.UUID, Site],
    area: LocationLevel,
    material: MaterialLevel = MaterialLevel.CODE,
) -> None:
    first = flows[0]
    for flow in flows:
        if flow.status != FlowStatus.ACTIVE:
            raise WithdrawnFlowNotPooled(field="flow_ids")
        if (flow.direction, flow.kind) != (first.direction, first.kind):
            raise PoolMixesKinds(field="flow_ids")
        if material == MaterialLevel.SUBCHAPTER:
            if (flow.low_code or "")[:4] != (first.low_code or "")[:4]:
                raise PoolMixesSubchapters(field="flow_ids")
            # One listing carries one hazardous flag: a subchapter holds both kinds of entry.
            if flow.hazardous != first.hazardous:
                raise PoolMixesHazard(field="flow_ids")
        elif flow.low_code != first.low_code:
            raise PoolMixesMaterials(field="flow_ids")
        if flow.base_unit != first.base_unit:
            # A gas metered in m³ and one in MWh: their quantities cannot be summed.
            raise PoolMixesUnits(field="flow_ids")
    if area == LocationLevel.CELL:
        raise PoolArea(field="area")
    attribute = "departement_code" if area == LocationLevel.DEPARTEMENT else "region_code"
    if len({getattr(sites[f.site_id], attribute) for f in flows}) != 1:
        spans = PoolSpansDepartements if area == LocationLevel.DEPARTEMENT else PoolSpansRegions
        raise spans(field="flow_ids")


def create_pool(session: Session, actor: Actor, data: PoolCreate) -> Listing:
    actor.require_staff()
    # Locked (in the flows' order): a flow withdrawn meanwhile is seen as withdrawn and refused.
    query = select(Flow).where(col(Flow.id).in_(data.flow_ids)).order_by(col(Flow.id))
    flows = select_for_update(session, query)
    if len(flows) != len(set(data.flow_ids)):
        raise NoSuchFlow(field="flow_ids")
    site_ids = {f.site_id for f in flows}
    sites = {s.id: s for s in session.exec(select(Site).where(col(Site.id).in_(site_ids))).all()}
    material = MaterialLevel(data.material)
    _check_compatible(flows, sites, data.area, material)
    # Legal units, not establishments: two sites of one SIREN pooled are still one company.
    if len(set(legal_units(session, (f.company_id for f in flows)).values())) < 2:
        raise PoolOfOneCompany(field="flow_ids")
    deny: list[str] = []
    for company_id in {f.company_id for f in flows}:
        company = session.get(Company, company_id)
        assert company is not None
        deny += deny_terms(session, company)
    # The facilitator's text is public as written, or refused naming what to rewrite.
    require_public_text(data.title, data.description, deny, label_field="title")
    first, first_site = flows[0], sites[flows[0].site_id]
    area_code = getattr(
        first_site, "departement_code" if data.area == LocationLevel.DEPARTEMENT else "region_code"
    )
    # A pool is shown at its area, never finer: its point is the area's (privacy/places.py), and
    # its cell only fills the column (location_key never reads it above cell level).
    latitude, longitude = published_point(data.area.value, area_code)
    listing = Listing(
        aggregated=True,
        latitude=latitude,
        longitude=longitude,
        h3_cell=first_site.h3_cell,
        departement_code=first_site.departement_code,
        region_code=first_site.region_code,
        low_code=first.low_code,
        hazardous=first.hazardous,
        quantity_per_year=sum(f.quantity_per_year for f in flows),
        base_unit=first.base_unit,
        temperature_c=first.temperature_c,
        group_key=group_key_of(str(first.kind), first.low_code),
        direction=str(first.direction),
        kind=str(first.kind),
        regularity=str(first.regularity),
        location_level=data.area.value,
        # The level the pool is published at, kept by every recheck (recheck_pool reads it).
        material_level=material.value,
        title=data.title,
        description=data.description,
    )
    session.add(listing)
    session.flush()
    for flow in flows:
        session.add(
            PoolShare(
                listing_id=listing.id,
                flow_id=flow.id,
                company_id=flow.company_id,
                quantity_per_year=flow.quantity_per_year,
            )
        )
    session.flush()
    recheck_pool(session, listing)
    return listing


def recheck_pool(session: Session, listing: Listing) -> None:
    """Place a pool: searchable only with k distinct legal units among its contributors; its
    quantity class is a class of the sum of its contributors' class representatives, and one legal
    unit above the dominance share (judged on the representatives too) hides it. Its area stays
    the one the facilitator chose. Runs when the facilitator publishes it and at each publication
    run, never on a contributor's own edit, so a contributor cannot probe it by moving its share."""
    shares = session.exec(select(PoolShare).where(PoolShare.listing_id == listing.id)).all()
    units = legal_units(session, (share.company_id for share in shares))
    per_unit: dict[str, float] = {}
    for share in shares:
        unit = units.get(share.company_id, str(share.company_id))
        per_unit[unit] = per_unit.get(unit, 0) + share.quantity_per_year
    enough = len(per_unit) >= get_settings().k_anonymity
    area = LocationLevel(listing.location_level)
    # Its material level is the facilitator's choice, stored at creation (a code, or a
    # subchapter when the pooled codes differ): never finer later, whoever leaves the pool.
    level = (
        MaterialLevel.SUBCHAPTER
        if listing.material_level == MaterialLevel.SUBCHAPTER
        else MaterialLevel.CODE
    )
    view = Generalised(
        step=0 if enough else None,
        material_level=level,
        material_key=material_key(listing.low_code, listing.kind, level),
        location_level=area,
        location_key=location_key(
            listing.h3_cell, listing.departement_code, listing.region_code, area
        ),
        family=family_of(listing.low_code, listing.kind),
        brokered_only=not enough,
        quantity_class=aggregate_class(listing.kind, per_unit, base_unit=listing.base_unit)
        if enough
        else None,
    )
    if apply_view(listing, view):
        listing.updated_at = utcnow()
    session.add(listing)
    session.flush()
    catalogue_changed(session)  # for the response cache, as every placement does


def refresh_pools(session: Session) -> list[uuid.UUID]:
    """The publication run's part for pooled offers: the published pools whose public card
    changed since the last run (their contributors' shares moved across class edges, or left)."""
    query = select(Listing).where(
        Listing.aggregated == True,  # noqa: E712
        Listing.status == ListingStatus.PUBLISHED,
    )
    changed = []
    # Locked: a pool withdrawn meanwhile (its last contributor left) is not placed again.
    for listing in select_for_update(session, query.order_by(col(Listing.id))):
        before = card_shown(listing)
        recheck_pool(session, listing)
        after = card_shown(listing)
        if after is not None and after != before:
            changed.append(listing.id)
    return changed


def flow_changed(session: Session, flow: Flow) -> None:
    """A contributor's flow changed: its share follows, shown at the next publication run. A
    withdrawn flow leaves its pools; a pool left with one legal unit is withdrawn at once, since
    it could only describe that company."""
    shares = session.exec(select(PoolShare).where(PoolShare.flow_id == flow.id)).all()
    # The pools locked in one order, after the flow and its own listing (service.sync_flow).
    pool_ids = sorted({share.listing_id for share in shares})
    pooled = select(Listing).where(col(Listing.id).in_(pool_ids)).order_by(col(Listing.id))
    pools = {p.id: p for p in select_for_update(session, pooled)} if pool_ids else {}
    for share in shares:
        listing = pools.get(share.listing_id)
        if listing is None or listing.status in TERMINAL:
            continue
        if flow.status == FlowStatus.WITHDRAWN:
            session.delete(share)
        else:
            share.quantity_per_year = flow.quantity_per_year
            session.add(share)
        session.flush()
        remaining = session.exec(select(PoolShare).where(PoolShare.listing_id == listing.id)).all()
        listing.quantity_per_year = sum(s.quantity_per_year for s in remaining)
        if len(set(legal_units(session, (s.company_id for s in remaining)).values())) < 2:
            listing.status = ListingStatus.WITHDRAWN
            listing.updated_at = utcnow()
            catalogue_changed(session)
        session.add(listing)
        session.flush()
