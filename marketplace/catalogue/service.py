"""Listings: lifecycle, the generalised public view and the k-anonymity re-check of the cells a
change touches. Search lives in search.py, pooled offers in pools.py."""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Iterable, Sequence
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.models import utcnow
from core.settings import get_settings
from core.text import fold
from marketplace.accounts.service import Actor
from marketplace.catalogue.cache import catalogue_changed
from marketplace.catalogue.errors import Conflict, Invalid, NotFound
from marketplace.catalogue.labels import departement_names, low_label, region_names
from marketplace.catalogue.models import Listing
from marketplace.catalogue.schemas import Area, ListingOwnerView, ListingPublic
from marketplace.catalogue.states import TERMINAL, ListingEvent, ListingStatus, transition
from marketplace.companies.models import Company, Site
from marketplace.companies.service import deny_terms
from marketplace.flows.models import Flow, FlowStatus
from marketplace.flows.service import months_of
from privacy.generalisation import (
    FAMILIES,
    TEMPERATURE_LABELS,
    Generalised,
    ListingFacts,
    LocationLevel,
    MaterialLevel,
    generalise,
    quantity_class,
    temperature_class,
)
from privacy.places import published_cell, published_point
from privacy.scrubbing import scrub

PRESENT_FR = "présent"

GroupKey = tuple[str, str, str, str]  # kind, direction, région, chapter (or kind)


def group_key_of(kind: str, low_code: str | None) -> str:
    return low_code[:2] if kind == "material" and low_code else kind


def _group(listing: Listing) -> GroupKey:
    return (listing.kind, listing.direction, listing.region_code, listing.group_key)


# --- facts copied from the flow ----------------------------------------------------------------


def _public_text(text: str, deny: Sequence[str]) -> str:
    return scrub(text, deny).text


def sync_from_flow(listing: Listing, flow: Flow, site: Site, deny: Sequence[str]) -> None:
    """Copy what the generaliser needs from the flow, and the scrubbed public text."""
    listing.flow_id, listing.company_id = flow.id, flow.company_id
    listing.direction, listing.kind = str(flow.direction), str(flow.kind)
    listing.h3_cell = site.h3_cell
    listing.departement_code, listing.region_code = site.departement_code, site.region_code
    # Never the site's exact position: the point of what the card shows (a draft: its région).
    listing.latitude, listing.longitude = published_point(
        listing.location_level, listing.location_key or listing.region_code
    )
    listing.low_code, listing.hazardous = flow.low_code, flow.hazardous
    listing.quantity_per_year, listing.temperature_c = flow.quantity_per_year, flow.temperature_c
    listing.group_key = group_key_of(listing.kind, flow.low_code)
    listing.regularity, listing.months_mask = str(flow.regularity), flow.months_mask
    listing.title = _public_text(flow.label, deny)[:200]
    listing.description = _public_text(flow.description, deny)
    listing.updated_at = utcnow()


def _facts(listing: Listing) -> ListingFacts:
    return ListingFacts(
        id=listing.id,
        company_id=listing.company_id or listing.id,
        kind=listing.kind,
        direction=listing.direction,
        low_code=listing.low_code,
        h3_cell=listing.h3_cell,
        departement_code=listing.departement_code,
        region_code=listing.region_code,
        quantity_per_year=listing.quantity_per_year,
        temperature_c=listing.temperature_c,
    )


# --- the public view ---------------------------------------------------------------------------


def apply_view(listing: Listing, view: Generalised) -> bool:
    """Store the generalised view on the listing; True when anything public changed."""
    code = listing.low_code if listing.kind == "material" else None
    level = view.material_level
    values = {
        "brokered_only": view.brokered_only,
        "material_level": level.value,
        "material_key": view.material_key,
        "family": view.family.key,
        "low_chapter": code[:2] if code else None,
        "low_subchapter": code[:4]
        if code and level in (MaterialLevel.CODE, MaterialLevel.SUBCHAPTER)
        else None,
        "public_low_code": code if code and level == MaterialLevel.CODE else None,
        "location_level": view.location_level.value,
        "location_key": view.location_key,
        "public_departement": listing.departement_code
        if view.location_level in (LocationLevel.CELL, LocationLevel.DEPARTEMENT)
        else None,
        "quantity_band": view.quantity_class.band if view.quantity_class else None,
        "temperature_band": temperature_class(listing.temperature_c)[0]
        if listing.kind == "heat" and listing.temperature_c is not None
        else None,
    }
    changed = any(getattr(listing, name) != value for name, value in values.items())
    for name, value in values.items():
        setattr(listing, name, value)
    # Distance bands are measured to this point, never to the site (privacy/places.py).
    listing.latitude, listing.longitude = published_point(view.location_level, view.location_key)
    listing.search_text = _search_text(listing)
    return changed


def _search_text(listing: Listing) -> str:
    """Folded words a full-text search may match: only what the public view shows."""
    family = FAMILIES.get(listing.family)
    parts = [listing.title, listing.description]
    if family:
        parts += [family.label_fr, family.label_en]
    for code in (listing.low_chapter, listing.low_subchapter, listing.public_low_code):
        parts.append(low_label(code, "fr") or "")
        parts.append(low_label(code, "en") or "")
    return fold(" ".join(parts))


def _quantity_label(listing: Listing) -> str:
    if listing.quantity_band is None:
        return PRESENT_FR
    return quantity_class(listing.kind, listing.quantity_per_year).label


def to_public(listing: Listing, distance_band: str | None = None) -> ListingPublic:
    """The allow-listed public view; reads only the generalised columns (and the quantity through
    its band)."""
    family = FAMILIES.get(listing.family)
    departement = listing.public_departement
    return ListingPublic(
        id=listing.id,
        direction=listing.direction,
        kind=listing.kind,
        aggregated=listing.aggregated,
        family=listing.family,
        family_label=family.label_fr if family else listing.family,
        hazardous=listing.hazardous,
        low_chapter=listing.low_chapter,
        low_subchapter=listing.low_subchapter,
        low_subchapter_label=low_label(listing.low_subchapter) or low_label(listing.low_chapter),
        low_code=listing.public_low_code,
        low_label=low_label(listing.public_low_code),
        location_level=listing.location_level,
        cell=published_cell(listing.location_level, listing.location_key),
        departement=Area(code=departement, name=departement_names().get(departement, departement))
        if departement
        else None,
        region=Area(
            code=listing.region_code,
            name=region_names().get(listing.region_code, listing.region_code),
        ),
        quantity_class=_quantity_label(listing),
        temperature_class=TEMPERATURE_LABELS[listing.temperature_band]
        if listing.temperature_band is not None
        else None,
        regularity=listing.regularity,
        months=months_of(listing.months_mask),
        title=listing.title,
        description=listing.description,
        published_on=listing.published_at.date() if listing.published_at else None,
        distance_band=distance_band,
    )


def owner_view(listing: Listing) -> ListingOwnerView:
    return ListingOwnerView(
        id=listing.id,
        flow_id=listing.flow_id,
        status=str(listing.status),
        brokered_only=listing.brokered_only,
        public=to_public(listing),
    )


# --- k-anonymity re-check ----------------------------------------------------------------------


def _lock_group(session: Session, group: GroupKey) -> None:
    """Serialise re-checks of one group across concurrent transactions (PostgreSQL); SQLite
    already serialises writers."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
            {"key": "listing-group:" + "|".join(group)},
        )


def _group_members(session: Session, group: GroupKey) -> list[Listing]:
    kind, direction, region, key = group
    query = select(Listing).where(
        Listing.kind == kind,
        Listing.direction == direction,
        Listing.region_code == region,
        Listing.group_key == key,
        Listing.status == ListingStatus.PUBLISHED,
        Listing.aggregated == False,  # noqa: E712 - pooled offers are checked on their own
    )
    return list(session.exec(query).all())


def recheck_groups(session: Session, groups: Iterable[GroupKey]) -> list[uuid.UUID]:
    """Re-run the generalisation over every group touched; returns the listings whose public view
    changed (for alerts).

    Every change of a listing's status or public view ends here (or in pools.recheck_pool): this
    is where the transaction is marked as changing the catalogue, for the response cache."""
    k = get_settings().k_anonymity
    changed: list[uuid.UUID] = []
    touched = sorted(set(groups))
    if touched:
        catalogue_changed(session)
    for group in touched:
        _lock_group(session, group)
        members = _group_members(session, group)
        views = generalise([_facts(m) for m in members], k=k)
        for member in members:
            if apply_view(member, views[member.id]):
                changed.append(member.id)
            session.add(member)
    session.flush()
    return changed


def preview_view(session: Session, listing: Listing) -> tuple[ListingPublic, bool]:
    """Exactly what others would see once this listing is published, and whether it would be
    brokered only (nothing is written)."""
    if listing.aggregated:
        return to_public(listing), listing.brokered_only
    members = [m for m in _group_members(session, _group(listing)) if m.id != listing.id]
    views = generalise([_facts(m) for m in [*members, listing]], k=get_settings().k_anonymity)
    # A detached copy: the listing itself must not change before it is published.
    shadow = Listing(**{name: getattr(listing, name) for name in Listing.model_fields})
    apply_view(shadow, views[listing.id])
    return to_public(shadow), shadow.brokered_only


def preview(session: Session, listing: Listing) -> ListingPublic:
    return preview_view(session, listing)[0]


# --- lifecycle ---------------------------------------------------------------------------------


def _notify(session: Session, listing_ids: Iterable[uuid.UUID]) -> None:
    from marketplace.alerts.service import listings_changed

    listings_changed(session, listing_ids)


def get_listing(session: Session, actor: Actor, listing_id: uuid.UUID) -> Listing:
    """A listing its owner (or the facilitator) manages; anyone else gets "not found"."""
    listing = session.get(Listing, listing_id)
    if listing is None or not (
        actor.is_staff
        or (listing.company_id is not None and listing.company_id == actor.company_id)
    ):
        raise NotFound("no such listing")
    return listing


def live_listing_of(session: Session, flow_id: uuid.UUID) -> Listing | None:
    query = select(Listing).where(
        Listing.flow_id == flow_id, col(Listing.status).not_in([s.value for s in TERMINAL])
    )
    return session.exec(query).first()


def create_listing(session: Session, actor: Actor, flow_id: uuid.UUID) -> Listing:
    """A draft listing of one of the actor's flows, ready to preview and publish."""
    flow = session.get(Flow, flow_id)
    if flow is None or not actor.may_access_company(flow.company_id):
        raise NotFound("no such flow", field="flow_id")
    if flow.status != FlowStatus.ACTIVE:
        raise Invalid("a withdrawn flow cannot be listed", field="flow_id")
    if live_listing_of(session, flow.id) is not None:
        raise Conflict("this flow already has a listing", field="flow_id")
    return _new_listing(session, flow)


def _new_listing(session: Session, flow: Flow, deny: Sequence[str] | None = None) -> Listing:
    site = session.get(Site, flow.site_id)
    company = session.get(Company, flow.company_id)
    assert site is not None and company is not None
    listing = Listing(
        latitude=0,
        longitude=0,
        h3_cell="",
        departement_code="",
        low_code=None,
        quantity_per_year=0,
        group_key="",
        direction="",
        kind="",
        region_code="",
        regularity="",
        title="",
    )
    sync_from_flow(listing, flow, site, deny if deny is not None else deny_terms(session, company))
    session.add(listing)
    session.flush()
    return listing


def _change(session: Session, listing: Listing, event: ListingEvent) -> Listing:
    listing.status = transition(listing.status, event)
    now = utcnow()
    listing.updated_at = now
    if event == ListingEvent.PUBLISH:
        listing.published_at = now
        listing.expires_at = now + timedelta(days=get_settings().listing_ttl_days)
    session.add(listing)
    session.flush()
    if listing.aggregated:
        from marketplace.catalogue.pools import recheck_pool

        recheck_pool(session, listing)
        changed = [listing.id]
    else:
        changed = recheck_groups(session, [_group(listing)])
    if event in (ListingEvent.PUBLISH, ListingEvent.RESUME) and listing.id not in changed:
        changed.append(listing.id)
    _notify(session, changed)
    return listing


def publish(session: Session, actor: Actor, listing: Listing) -> Listing:
    return _change(session, listing, ListingEvent.PUBLISH)


def pause(session: Session, actor: Actor, listing: Listing) -> Listing:
    return _change(session, listing, ListingEvent.PAUSE)


def resume(session: Session, actor: Actor, listing: Listing) -> Listing:
    return _change(session, listing, ListingEvent.RESUME)


def withdraw(session: Session, actor: Actor, listing: Listing) -> Listing:
    return _change(session, listing, ListingEvent.WITHDRAW)


def fulfil(session: Session, actor: Actor, listing: Listing) -> Listing:
    return _change(session, listing, ListingEvent.FULFIL)


def list_own(session: Session, actor: Actor) -> Sequence[Listing]:
    query = select(Listing).order_by(col(Listing.updated_at).desc())
    if not actor.is_staff:
        query = query.where(Listing.company_id == actor.require_company())
    return session.exec(query.limit(1000)).all()


def sync_flow(session: Session, flow: Flow) -> None:
    """Called when a flow is edited or withdrawn: its live listing follows, cells re-checked,
    and any pooled offer it contributes to is re-checked too."""
    from marketplace.catalogue.pools import flow_changed

    flow_changed(session, flow)
    listing = live_listing_of(session, flow.id)
    if listing is None:
        return
    before = _group(listing)
    if flow.status == FlowStatus.WITHDRAWN:
        listing.status = ListingStatus.WITHDRAWN
        listing.updated_at = utcnow()
    else:
        site = session.get(Site, flow.site_id)
        company = session.get(Company, flow.company_id)
        assert site is not None and company is not None
        sync_from_flow(listing, flow, site, deny_terms(session, company))
    session.add(listing)
    session.flush()
    changed = recheck_groups(session, {before, _group(listing)})
    if listing.status == ListingStatus.PUBLISHED and listing.id not in changed:
        changed.append(listing.id)
    _notify(session, changed)


def publish_flows(session: Session, flows: Sequence[Flow]) -> list[uuid.UUID]:
    """Publish many flows at once (a facilitator's territory import): one re-check per group."""
    deny_cache: dict[uuid.UUID, list[str]] = {}
    groups: set[GroupKey] = set()
    now = utcnow()
    ttl = timedelta(days=get_settings().listing_ttl_days)
    published: list[uuid.UUID] = []
    listed: set[uuid.UUID] = set()
    flow_ids = [f.id for f in flows]
    for start in range(0, len(flow_ids), 1000):
        listed.update(
            x
            for x in session.exec(
                select(Listing.flow_id).where(
                    col(Listing.flow_id).in_(flow_ids[start : start + 1000]),
                    col(Listing.status).not_in([s.value for s in TERMINAL]),
                )
            ).all()
            if x is not None
        )
    for flow in flows:
        if flow.status != FlowStatus.ACTIVE or flow.id in listed:
            continue
        if flow.company_id not in deny_cache:
            company = session.get(Company, flow.company_id)
            assert company is not None
            deny_cache[flow.company_id] = deny_terms(session, company)
        listing = _new_listing(session, flow, deny_cache[flow.company_id])
        listing.status = ListingStatus.PUBLISHED
        listing.published_at, listing.expires_at = now, now + ttl
        groups.add(_group(listing))
        published.append(listing.id)
    session.flush()
    changed = recheck_groups(session, groups)
    _notify(session, set(changed) | set(published))
    return published


def expire_due(session: Session) -> int:
    """Mark published or paused listings past their expiry date as expired (periodic task)."""
    now = utcnow()
    due = session.exec(
        select(Listing).where(
            col(Listing.status).in_([ListingStatus.PUBLISHED.value, ListingStatus.PAUSED.value]),
            col(Listing.expires_at) < now,
        )
    ).all()
    groups = set()
    for listing in due:
        listing.status = ListingStatus.EXPIRED
        listing.updated_at = now
        session.add(listing)
        groups.add(_group(listing))
    session.flush()
    _notify(session, recheck_groups(session, groups))
    return len(due)


def published_cells(session: Session) -> dict[tuple[str, ...], set[Hashable]]:
    """Every published, searchable cell with the distinct companies in it (for checks and stats).

    A pooled offer counts each of its contributors."""
    from marketplace.catalogue.models import PoolShare

    cells: dict[tuple[str, ...], set[Hashable]] = {}
    query = select(Listing).where(
        Listing.status == ListingStatus.PUBLISHED,
        Listing.brokered_only == False,  # noqa: E712
    )
    for listing in session.exec(query):
        cell = (
            listing.kind,
            listing.direction,
            listing.material_level,
            listing.material_key,
            listing.location_level,
            listing.location_key,
        )
        companies = cells.setdefault(cell, set())
        if listing.aggregated:
            shares = session.exec(
                select(PoolShare.company_id).where(PoolShare.listing_id == listing.id)
            ).all()
            companies.update(shares)
        else:
            companies.add(listing.company_id)
    return cells
