"""Listings: lifecycle, the generalised public view and the k-anonymity re-check of the cells a
change touches. Search lives in search.py, pooled offers in pools.py."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.db import lock_for_update, select_for_update
from core.events import emit, handles
from core.models import utcnow
from core.settings import get_settings
from marketplace.accounts.service import Actor
from marketplace.catalogue import pools
from marketplace.catalogue.cache import catalogue_changed
from marketplace.catalogue.cards import (
    apply_view,
    card_shown,
    companies_behind,
    group_key_of,
    legal_units,
    to_public,
)
from marketplace.catalogue.errors import (
    ListingExists,
    NoSuchListing,
    WithdrawnFlowNotListed,
)
from marketplace.catalogue.events import LISTINGS_CHANGED
from marketplace.catalogue.models import Listing, ListingGhost, is_public, public_where
from marketplace.catalogue.public_text import TextNotPublic, require_public_text
from marketplace.catalogue.schemas import ListingOwnerView, ListingPublic
from marketplace.catalogue.states import TERMINAL, ListingEvent, ListingStatus, transition
from marketplace.companies.models import Company, Site
from marketplace.companies.service import deny_terms
from marketplace.flows.errors import NoSuchFlow
from marketplace.flows.events import FLOW_CHANGED
from marketplace.flows.models import Flow, FlowStatus
from privacy.generalisation import (
    Ghost,
    ListingFacts,
    cell_key,
    generalise,
    hazard_key,
    ladder_of,
    offers_step,
    view_at,
)
from privacy.places import published_point

GroupKey = tuple[str, str, str, str]  # kind, direction, région, chapter (or kind)
# Where a listing stands once published: in the catalogue, or waiting for the next run.
Placement = Literal["public", "waiting"]


def _group(listing: Listing) -> GroupKey:
    return (listing.kind, listing.direction, listing.region_code, listing.group_key)


# --- facts copied from the flow ----------------------------------------------------------------


def sync_from_flow(listing: Listing, flow: Flow, site: Site, deny: Sequence[str]) -> None:
    """Copy what the generaliser needs from the flow, and its text, which must be fit for the
    public as it is (TextNotPublic otherwise, before anything changes)."""
    require_public_text(flow.label, flow.description, deny)
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
    listing.base_unit = flow.base_unit
    listing.group_key = group_key_of(listing.kind, flow.low_code)
    listing.regularity, listing.months_mask = str(flow.regularity), flow.months_mask
    listing.title = flow.label[:200]
    listing.description = flow.description
    listing.updated_at = utcnow()


def _facts(listing: Listing, legal_unit: str) -> ListingFacts:
    return ListingFacts(
        id=listing.id,
        legal_unit=legal_unit,
        kind=listing.kind,
        direction=listing.direction,
        low_code=listing.low_code,
        h3_cell=listing.h3_cell,
        departement_code=listing.departement_code,
        region_code=listing.region_code,
        quantity_per_year=listing.quantity_per_year,
        temperature_c=listing.temperature_c,
        hazardous=listing.hazardous,
        base_unit=listing.base_unit,
    )


def _legal_unit_of(session: Session, listing: Listing) -> str:
    # A listing without a company (none today but pools, placed elsewhere) stands for itself.
    return legal_units(session, [listing.company_id]).get(listing.company_id, str(listing.id))


# --- the public view ---------------------------------------------------------------------------


def owner_view(session: Session, listing: Listing) -> ListingOwnerView:
    waiting = listing.waiting and listing.status == ListingStatus.PUBLISHED
    refused = text_to_rewrite(session, listing) if listing.status == ListingStatus.PAUSED else None
    return ListingOwnerView(
        id=listing.id,
        flow_id=listing.flow_id,
        status=str(listing.status),
        brokered_only=listing.brokered_only,
        waiting=waiting,
        next_publication_at=next_publication_at() if waiting else None,
        rewrite=refused.detail if refused else None,
        public=to_public(listing),
    )


def text_to_rewrite(session: Session, listing: Listing) -> TextNotPublic | None:
    """Why the flow's text may not be public now (with the company's current names), or None."""
    if listing.flow_id is None:
        return None
    try:
        _check_flow_text(session, listing.flow_id)
    except TextNotPublic as refused:
        return refused
    return None


# --- placement: the join rule between runs, the publication run ------------------------------
#
# Between publication runs, a member's action touches its own listing only: publishing (or
# resuming, or an edit that moves it out of its cell) JOINS the finest cell the catalogue already
# shows that it belongs to, or waits for the next run; pausing, withdrawing, expiring or fulfilling
# takes that listing out and leaves a ghost of it in its cell. No other listing's view changes, so
# no member can hide a rival's listing or learn from the echo of its own actions. The composition
# is re-generalised only by run_publication (beat, once a day), where a public listing is pinned:
# it stays at its step while its cell keeps k legal units (ghosts included), else moves coarser.


def _lock_group(session: Session, group: GroupKey) -> None:
    """Serialise placements in one group across concurrent transactions (PostgreSQL); SQLite
    already serialises writers."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
            {"key": "listing-group:" + "|".join(group)},
        )


# The order in which a transaction takes its locks, so that no two ever wait on each other:
# flows (by id), then groups (sorted), then listings (a group's by id), then pooled offers (by id).
# A member's publish or resume takes its listing's group after the listing, which is safe: the
# run locks only listings already published, and a listing being published or resumed is not.


def _lock_listing(session: Session, listing: Listing) -> None:
    """Lock a listing for a state change, after its flow: a change of the flow (an edit, a
    withdrawal) and a change of its listing then never interleave."""
    flow = session.get(Flow, listing.flow_id) if listing.flow_id is not None else None
    if flow is not None:
        lock_for_update(session, flow)
    lock_for_update(session, listing)


def _in_group(group: GroupKey) -> list[Any]:
    kind, direction, region, key = group
    return [
        Listing.kind == kind,
        Listing.direction == direction,
        Listing.region_code == region,
        Listing.group_key == key,
        Listing.aggregated == False,  # noqa: E712 - pooled offers are placed on their own
    ]


def _group_members(session: Session, group: GroupKey) -> list[Listing]:
    """The group's published listings, locked: one paused or withdrawn meanwhile is read as it
    now stands (and left out), never placed from a stale read."""
    query = select(Listing).where(*_in_group(group), Listing.status == ListingStatus.PUBLISHED)
    return select_for_update(session, query.order_by(col(Listing.id)))


def _shown_cells(session: Session, group: GroupKey, besides: uuid.UUID) -> set[tuple[int, str]]:
    """The (step, cell) pairs the catalogue shows in ``group`` now, except ``besides``'s own:
    public information (every such cell holds k legal units)."""
    query = (
        select(Listing.public_step, Listing.public_cell)
        .where(*_in_group(group), *public_where(), Listing.id != besides)
        .distinct()
    )
    return {
        (step, cell)
        for step, cell in session.exec(query).all()
        if step is not None and cell is not None
    }


def joinable_step(session: Session, listing: Listing) -> int | None:
    """The finest step at which the catalogue already shows a cell ``listing`` belongs to, or None
    (it waits for the next run). Reads only public cells and the listing's own facts."""
    facts = _facts(listing, "")
    shown = _shown_cells(session, _group(listing), listing.id)
    for step in range(len(ladder_of(facts))):
        if offers_step(facts, step) and (step, cell_key(facts, step)) in shown:
            return step
    return None


def _place(listing: Listing, step: int | None, *, waiting: bool) -> None:
    """Show ``listing`` at ``step`` (None: not in search, waiting or brokered only)."""
    facts = _facts(listing, "")
    listing.waiting = waiting and step is None
    listing.public_step = step
    listing.public_cell = cell_key(facts, step) if step is not None else None
    apply_view(listing, view_at(facts, step))


def _leave_cell(session: Session, listing: Listing, group: GroupKey | None = None) -> None:
    """``listing`` leaves the cell it was shown in (in ``group``, its group when it was shown,
    by default its own): its legal unit stays there as a ghost for the hysteresis, so its
    neighbours keep their step at the next run."""
    if listing.public_step is not None and listing.public_cell is not None:
        kind, direction, region, key = group or _group(listing)
        session.add(
            ListingGhost(
                listing_id=listing.id,
                legal_unit=_legal_unit_of(session, listing),
                kind=kind,
                direction=direction,
                region_code=region,
                group_key=key,
                step=listing.public_step,
                cell=listing.public_cell,
                left_at=utcnow(),
            )
        )
    listing.public_step = listing.public_cell = None
    listing.waiting = False
    listing.brokered_only = True


def _join_or_wait(session: Session, listing: Listing) -> None:
    """A listing published, resumed or edited out of its cell: it joins a shown cell or waits."""
    _lock_group(session, _group(listing))
    _place(listing, joinable_step(session, listing), waiting=True)
    _mark_published(listing, utcnow())


def _mark_published(listing: Listing, now: datetime) -> None:
    """``published_at`` is the instant a listing first became public: the instant it joined a
    shown cell, or the instant of the run that placed it. Never the instant its owner pressed
    "publish": the date order sorts by it, and a listing that waited would otherwise be timed
    within its day by a member's own anchors. Listings placed by one run share the run's instant
    and come in the order of their random ids (core.models.new_id: uuid4)."""
    if listing.published_at is None and is_public(listing):
        listing.published_at = now


def _still_fits(listing: Listing) -> bool:
    """Whether an edited listing still belongs to the public cell it is shown in."""
    step = listing.public_step
    if step is None or listing.brokered_only:
        return False
    facts = _facts(listing, "")
    return offers_step(facts, step) and cell_key(facts, step) == listing.public_cell


def run_publication(session: Session, groups: Iterable[GroupKey] | None = None) -> list[uuid.UUID]:
    """The publication run: re-generalise every group (or only ``groups``) with pinned steps and
    ghosts, place the waiting listings, refresh the pooled offers; returns the listings whose
    public card changed or that became visible (their alerts are sent).

    Ghosts older than the hysteresis are forgotten first."""
    settings = get_settings()
    now = utcnow()
    cutoff = now - timedelta(days=settings.publication_hysteresis_days)
    session.execute(sa.delete(ListingGhost).where(col(ListingGhost.left_at) < cutoff))
    if groups is None:
        groups = _all_groups(session)
    changed = [
        listing_id
        for group in sorted(set(groups))  # a fixed order: two runs never wait on each other
        for listing_id in _run_group(session, group, settings.k_anonymity, now)
    ]
    changed += pools.refresh_pools(session)
    catalogue_changed(session)
    session.flush()
    _notify(session, changed)
    return changed


def _all_groups(session: Session) -> set[GroupKey]:
    """Every group holding a published listing or a ghost."""
    live = select(Listing.kind, Listing.direction, Listing.region_code, Listing.group_key).where(
        Listing.status == ListingStatus.PUBLISHED,
        Listing.aggregated == False,  # noqa: E712
    )
    departed = select(
        ListingGhost.kind, ListingGhost.direction, ListingGhost.region_code, ListingGhost.group_key
    )
    rows = [*session.exec(live.distinct()).all(), *session.exec(departed.distinct()).all()]
    return {(kind, direction, region, key) for kind, direction, region, key in rows}


def _run_group(session: Session, group: GroupKey, k: int, now: datetime) -> list[uuid.UUID]:
    _lock_group(session, group)
    members = _group_members(session, group)
    units = legal_units(session, (m.company_id for m in members))
    facts = {m.id: _facts(m, units.get(m.company_id, str(m.id))) for m in members}
    ghosts = [
        Ghost(step=g.step, cell=g.cell, legal_unit=g.legal_unit)
        for g in session.exec(
            select(ListingGhost).where(
                ListingGhost.kind == group[0],
                ListingGhost.direction == group[1],
                ListingGhost.region_code == group[2],
                ListingGhost.group_key == group[3],
            )
        ).all()
    ]
    pinned = {m.id: m.public_step for m in members if _still_fits(m) and m.public_step is not None}
    views = generalise(facts.values(), k=k, pinned=pinned, ghosts=ghosts)
    changed = []
    for member in members:
        before = card_shown(member)
        _place(member, views[member.id].step, waiting=False)
        _mark_published(member, now)
        after = card_shown(member)
        if after is not None and after != before:
            changed.append(member.id)
        session.add(member)
    return changed


def preview_view(session: Session, listing: Listing) -> tuple[ListingPublic, Placement]:
    """Exactly what others would see once this listing is published, and where it would stand:
    "public" (it joins a cell the catalogue shows), or "waiting" for the next run; nothing is
    written. It reads only the catalogue's public cells and the listing's own facts, so re-reading
    it after changing one's own draft teaches nothing about hidden listings or quantities."""
    if listing.aggregated or is_public(listing):
        return to_public(listing), "public" if is_public(listing) else "waiting"
    step = joinable_step(session, listing)
    # A detached copy: the listing itself must not change before it is published.
    shadow = Listing(**{name: getattr(listing, name) for name in Listing.model_fields})
    _place(shadow, step, waiting=True)
    return to_public(shadow), "public" if step is not None else "waiting"


def preview(session: Session, listing: Listing) -> ListingPublic:
    return preview_view(session, listing)[0]


def next_publication_at() -> datetime:
    """When the next publication run places the waiting listings (beat's daily hour, UTC)."""
    now = utcnow()
    run = now.replace(hour=get_settings().publication_hour_utc, minute=0, second=0, microsecond=0)
    return run if run > now else run + timedelta(days=1)


# --- lifecycle ---------------------------------------------------------------------------------


def _notify(session: Session, listing_ids: Iterable[uuid.UUID]) -> None:
    emit(session, LISTINGS_CHANGED, list(listing_ids))


def get_listing(session: Session, actor: Actor, listing_id: uuid.UUID) -> Listing:
    """A listing its owner (or the facilitator) manages; anyone else gets "not found"."""
    listing = session.get(Listing, listing_id)
    if listing is None or not (
        actor.is_staff
        or (listing.company_id is not None and listing.company_id == actor.company_id)
    ):
        raise NoSuchListing()
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
        raise NoSuchFlow(field="flow_id")
    lock_for_update(session, flow)  # a withdrawal racing this draft sees it, or waits for it
    if flow.status != FlowStatus.ACTIVE:
        raise WithdrawnFlowNotListed(field="flow_id")
    if live_listing_of(session, flow.id) is not None:
        raise ListingExists(field="flow_id")
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


def _change(
    session: Session, listing: Listing, event: ListingEvent, *, check_text: bool = False
) -> Listing:
    """One listing's lifecycle step; no other listing's public view changes (see "placement").

    Decided on the listing as it stands once locked: of concurrent steps, those that are no
    longer legal then get a Conflict naming its state, and change (and alert) nothing."""
    _lock_listing(session, listing)
    before = card_shown(listing)
    status = transition(listing.status, event)
    if check_text and listing.flow_id is not None:
        # The company's names may have grown since the draft, or while it was paused (a new site,
        # a brand; company_names_changed pauses for that): check again.
        _check_flow_text(session, listing.flow_id)
    listing.status = status
    now = utcnow()
    listing.updated_at = now
    if event == ListingEvent.PUBLISH:
        listing.expires_at = now + timedelta(days=get_settings().listing_ttl_days)
    if listing.aggregated:
        # A pool is the facilitator's: publishing it places it at once (pools.recheck_pool).
        if event == ListingEvent.PUBLISH:
            listing.published_at = now
        pools.recheck_pool(session, listing)
    elif event in (ListingEvent.PUBLISH, ListingEvent.RESUME):
        _join_or_wait(session, listing)
    else:
        _leave_cell(session, listing)
    session.add(listing)
    session.flush()
    catalogue_changed(session)
    after = card_shown(listing)
    _notify(session, [listing.id] if after is not None and after != before else [])
    return listing


def publish(session: Session, actor: Actor, listing: Listing) -> Listing:
    return _change(session, listing, ListingEvent.PUBLISH, check_text=True)


def _check_flow_text(session: Session, flow_id: uuid.UUID) -> None:
    flow = session.get(Flow, flow_id)
    company = session.get(Company, flow.company_id) if flow else None
    if flow is not None and company is not None:
        require_public_text(flow.label, flow.description, deny_terms(session, company))


def pause(session: Session, actor: Actor, listing: Listing) -> Listing:
    return _change(session, listing, ListingEvent.PAUSE)


def resume(session: Session, actor: Actor, listing: Listing) -> Listing:
    return _change(session, listing, ListingEvent.RESUME, check_text=True)


def withdraw(session: Session, actor: Actor, listing: Listing) -> Listing:
    return _change(session, listing, ListingEvent.WITHDRAW)


def fulfil(session: Session, actor: Actor, listing: Listing) -> Listing:
    return _change(session, listing, ListingEvent.FULFIL)


def list_own(session: Session, actor: Actor) -> Sequence[Listing]:
    query = select(Listing).order_by(col(Listing.updated_at).desc())
    if not actor.is_staff:
        query = query.where(Listing.company_id == actor.require_company())
    return session.exec(query.limit(1000)).all()


@handles(FLOW_CHANGED)
def sync_flow(session: Session, flow: Flow) -> None:
    """A flow was edited or withdrawn (FLOW_CHANGED, the flow locked): its live listing follows
    (and only it), and any pooled offer it contributes to takes the new share at the next run."""
    listing = live_listing_of(session, flow.id)
    if listing is not None:
        _follow_flow(session, flow, listing)
    pools.flow_changed(session, flow)


def _groups_of_edit(session: Session, flow: Flow, listing: Listing) -> set[GroupKey]:
    """The groups an edit of ``flow`` may move its ``listing`` out of and into."""
    site = session.get(Site, flow.site_id)
    assert site is not None
    kind = str(flow.kind)
    joins = (kind, str(flow.direction), site.region_code, group_key_of(kind, flow.low_code))
    return {_group(listing), joins}


def _follow_flow(session: Session, flow: Flow, listing: Listing) -> None:
    site = session.get(Site, flow.site_id)
    assert site is not None
    if flow.status != FlowStatus.WITHDRAWN:
        # The groups it leaves and joins, before the listing (the lock order above); the flow's
        # lock keeps its listing's group from moving meanwhile.
        for group in sorted(_groups_of_edit(session, flow, listing)):
            _lock_group(session, group)
    lock_for_update(session, listing)
    before = card_shown(listing)
    if flow.status == FlowStatus.WITHDRAWN:
        listing.status = ListingStatus.WITHDRAWN
        listing.updated_at = utcnow()
        _leave_cell(session, listing)
    else:
        company = session.get(Company, flow.company_id)
        assert company is not None
        shown_in = _group(listing)
        finest_before = cell_key(_facts(listing, ""), 0)
        deny = deny_terms(session, company)
        sync_from_flow(listing, flow, site, deny)
        listing = _follow_edit(session, listing, shown_in, finest_before, deny)
    session.add(listing)
    session.flush()
    catalogue_changed(session)
    after = card_shown(listing)
    # Only a change of the public card alerts: a new price, or a quantity inside its class, is
    # private and must not reach the watchers as an echo.
    _notify(session, [listing.id] if after is not None and after != before else [])


def _follow_edit(
    session: Session, listing: Listing, shown_in: GroupKey, finest_before: str, deny: Sequence[str]
) -> Listing:
    """An edited listing keeps its cell when it still belongs to it (its own quantity class may
    change). Otherwise, once the public has seen it, it is replaced: the cell it was shown in
    keeps its ghost (in ``shown_in``, its group before the edit) and the flow gets a new listing
    that joins a shown cell or waits. One id must never carry two cards: read together, the old
    card's fine location and the new card's material (or the new card's place) may describe a
    cell where the owner is alone. Returns the flow's live listing: ``listing`` or its successor.

    A listing that was public once but is not now (paused, or waiting again after a resume) is
    replaced when the edit changes its finest cell: the cell it was shown in is no longer known,
    and any card it showed was in a coarsening of that one."""
    if _still_fits(listing):
        _place(listing, listing.public_step, waiting=False)
        return listing
    if is_public(listing):
        _leave_cell(session, listing, shown_in)
        return _replace(session, listing, deny)
    if listing.published_at is not None and cell_key(_facts(listing, ""), 0) != finest_before:
        return _replace(session, listing, deny)
    if listing.status == ListingStatus.PUBLISHED:
        _join_or_wait(session, listing)
    return listing


def _replace(session: Session, old: Listing, deny: Sequence[str]) -> Listing:
    """Close ``old`` (it has left its cell; its id now answers "not found" in the catalogue like
    any unknown id) and give its flow a new listing in the same state and with the same expiry,
    placed like a new publication: it joins a shown cell or waits for the run."""
    assert old.flow_id is not None
    flow = session.get(Flow, old.flow_id)
    assert flow is not None
    status = ListingStatus(old.status)
    old.status = ListingStatus.WITHDRAWN
    old.public_step = old.public_cell = None
    old.waiting, old.brokered_only = False, True
    old.updated_at = utcnow()
    session.add(old)
    session.flush()  # one live listing per flow (uq_listings_live_flow): close before opening
    new = _new_listing(session, flow, deny)
    new.status, new.expires_at = status, old.expires_at
    if status == ListingStatus.PUBLISHED:
        _join_or_wait(session, new)
    return new


def company_names_changed(
    session: Session, company_id: uuid.UUID, site_id: uuid.UUID | None = None
) -> list[uuid.UUID]:
    """Called by the API and the web pages after a company's names changed: its identity (legal
    name, brands, contacts), or a site created, renamed, moved or given another town. A name
    declared after publication must not stay on a card: every published listing of the company
    whose text now names it is paused (it leaves a ghost in its cell, like any pause) and its
    owner reads on the listing what to rewrite (owner_view's ``rewrite``); resuming checks the
    text again. The listings of a changed site (``site_id``) follow it, as an edit of their flow
    (sync_flow: a move out of their cell gives them a new id), unless their text must be
    rewritten first: rewriting edits the flow, which brings them along.
    Returns the ids of the listings paused."""
    company = session.get(Company, company_id)
    assert company is not None
    deny = deny_terms(session, company)
    query = select(Listing).where(
        Listing.company_id == company_id,
        Listing.aggregated == False,  # noqa: E712 - a pool's title is the facilitator's
        col(Listing.status).not_in([s.value for s in TERMINAL]),
    )
    listings = list(session.exec(query.order_by(col(Listing.flow_id))).all())
    moved: list[Flow] = []
    if site_id is not None:
        flows = select(Flow).where(Flow.site_id == site_id, Flow.status == FlowStatus.ACTIVE)
        moved = list(session.exec(flows).all())
    # The lock order kept across both loops below: every flow first, then the groups the site's
    # listings leave or join, then the listings, one by one.
    flow_ids = {x.flow_id for x in listings if x.flow_id is not None} | {f.id for f in moved}
    if flow_ids:
        select_for_update(
            session, select(Flow).where(col(Flow.id).in_(flow_ids)).order_by(col(Flow.id))
        )
    groups: set[GroupKey] = set()
    for moving in moved:
        live = live_listing_of(session, moving.id)
        if live is not None and moving.status == FlowStatus.ACTIVE:
            groups |= _groups_of_edit(session, moving, live)
    for group in sorted(groups):
        _lock_group(session, group)
    paused, held = [], set()
    for listing in listings:
        flow = session.get(Flow, listing.flow_id) if listing.flow_id else None
        if flow is None:
            continue
        _lock_listing(session, listing)
        try:
            require_public_text(flow.label, flow.description, deny)
        except TextNotPublic:
            held.add(flow.id)
            if listing.status == ListingStatus.PUBLISHED:
                _change(session, listing, ListingEvent.PAUSE)
                paused.append(listing.id)
    for moving in sorted(moved, key=lambda f: f.id):
        if moving.id not in held and moving.status == FlowStatus.ACTIVE:
            sync_flow(session, moving)
    return paused


def publish_flows(
    session: Session, flows: Sequence[Flow], held: dict[uuid.UUID, TextNotPublic] | None = None
) -> list[uuid.UUID]:
    """Publish many flows at once (a facilitator's territory import), then run the publication
    for the groups they fall in, so that an imported territory shows in the catalogue at once: the
    facilitator's import is a scheduled kind of change, not one member's probe.

    A flow whose text may not be public is left unpublished; ``held`` receives why, by flow id."""
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
        try:
            listing = _new_listing(session, flow, deny_cache[flow.company_id])
        except TextNotPublic as refused:
            if held is not None:
                held[flow.id] = refused
            continue
        listing.status = ListingStatus.PUBLISHED
        listing.expires_at = now + ttl
        listing.waiting = True  # the run below places it and stamps published_at
        groups.add(_group(listing))
        published.append(listing.id)
    session.flush()
    run_publication(session, groups)
    return published


def expire_due(session: Session) -> int:
    """Mark published or paused listings past their expiry date as expired (periodic task)."""
    now = utcnow()
    query = select(Listing).where(
        col(Listing.status).in_([ListingStatus.PUBLISHED.value, ListingStatus.PAUSED.value]),
        col(Listing.expires_at) < now,
    )
    # Locked, in the run's order (group by group, then pooled offers): a listing withdrawn or
    # resumed meanwhile is read as it now stands, and the run and this never wait on each other.
    due = select_for_update(
        session,
        query.order_by(
            col(Listing.aggregated),
            col(Listing.kind),
            col(Listing.direction),
            col(Listing.region_code),
            col(Listing.group_key),
            col(Listing.id),
        ),
    )
    for listing in due:
        listing.status = ListingStatus.EXPIRED
        listing.updated_at = now
        _leave_cell(session, listing)
        session.add(listing)
    session.flush()
    if due:
        catalogue_changed(session)
    return len(due)


def published_cells(session: Session, with_ghosts: bool = False) -> dict[tuple[str, ...], set[str]]:
    """Every published, searchable cell with the distinct legal units in it (for checks and
    stats); ``with_ghosts`` adds those that left a shown cell within the hysteresis, which still
    count for k until then. A pooled offer counts each of its contributors."""
    cells: dict[tuple[str, ...], set[str]] = {}
    query = select(Listing).where(*public_where())
    shown = list(session.exec(query))
    behind = companies_behind(session, shown)
    units = legal_units(session, [c for companies in behind.values() for c in companies])
    for listing in shown:
        cell = (
            listing.kind,
            listing.direction,
            listing.material_level,
            listing.material_key,
            hazard_key(listing.hazardous),
            listing.location_level,
            listing.location_key,
        )
        cells.setdefault(cell, set()).update(units.get(c, str(c)) for c in behind[listing.id])
    if with_ghosts:
        for ghost in session.exec(select(ListingGhost)):
            key = tuple(ghost.cell.split("|"))
            if key in cells:
                cells[key].add(ghost.legal_unit)
    return cells


def live_listings(session: Session, flow_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Listing]:
    """The live (not withdrawn, expired or fulfilled) listing of each flow, in one query."""
    ids = list(flow_ids)
    if not ids:
        return {}
    query = select(Listing).where(
        col(Listing.flow_id).in_(ids), col(Listing.status).not_in([s.value for s in TERMINAL])
    )
    return {listing.flow_id: listing for listing in session.exec(query) if listing.flow_id}
