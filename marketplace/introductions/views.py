"""An introduction as each reader may see it: the requester its view of the state, the owner
the requester's anonymized card, both the other's identity after the reveal only, and the
facilitator everything but identities (which it reads, logged, through the companies' routes)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import h3
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from core.reference.sectors import sector_label
from core.settings import get_settings
from marketplace.accounts.service import Actor
from marketplace.catalogue.models import Listing, PoolShare, public_where
from marketplace.companies.models import Company, Site
from marketplace.companies.service import (
    identity_keys_available,
    revealed_identity,
    site_name,
    site_position,
)
from marketplace.flows.models import Flow
from marketplace.introductions.errors import RevealUnavailable
from marketplace.introductions.models import Introduction, IntroductionMessage, ShareState
from marketplace.introductions.schemas import (
    Counterpart,
    IntroductionRead,
    MessageRead,
    PermitFlags,
    RequesterCard,
    RevealedContact,
    RevealedSite,
    ShareRead,
)
from marketplace.introductions.service import PENDING_VIEWS, about, is_pooled, shares, state_for
from marketplace.introductions.states import Party, State
from privacy.generalisation import LocationLevel, distance_band, haversine_km, quantity_class
from privacy.places import region_point

NEXT_ACTIONS: dict[tuple[Party, str], str] = {
    (Party.FACILITATOR, State.INTEREST_EXPRESSED): "screen or propose",
    (Party.FACILITATOR, State.SCREENING): "propose or decline",
    (Party.OWNER, State.PROPOSED): "accept or decline",
    (Party.REQUESTER, State.INTEREST_EXPRESSED): "wait, or withdraw",
    (Party.REQUESTER, State.SCREENING): "wait, or withdraw",
    (Party.REQUESTER, State.PROPOSED): "wait, or withdraw",
}


def _legal_units_besides(reader_unit: str | None) -> SelectOfScalar[int]:
    """Counts distinct legal units, the reader's own left out: a reader knows it is not the
    requester, so it counting itself would leave k - 1 candidates; and a reader that could
    count itself in could change its own sector or permits and read the card again until it
    showed, learning how few share them (and, over the permits' combinations, which the
    requester holds)."""
    query = select(sa.func.count(sa.distinct(col(Company.legal_unit_index))))
    if reader_unit is not None:
        query = query.where(col(Company.legal_unit_index) != reader_unit)
    return query


@dataclass(frozen=True)
class _Area:
    """Where a card's k-checks count: the requester's région, or the published location of one
    of its own public listings (a département, or a cell within its département)."""

    region: str | None = None
    departement: str | None = None
    cell: str | None = None

    def holds(self, site: Site) -> bool:
        if self.region is not None:
            return site.region_code == self.region
        if site.departement_code != self.departement:
            return False
        if self.cell is None:
            return True
        resolution = h3.get_resolution(self.cell)
        return h3.cell_to_parent(site.h3_cell, resolution) == self.cell

    def sites(self) -> ColumnElement[bool]:
        """The SQL part of holds (the cell is checked in Python)."""
        if self.region is not None:
            return col(Site.region_code) == self.region
        return col(Site.departement_code) == self.departement


def _areas(session: Session, company: Company, region_code: str | None) -> list[_Area]:
    """The requester's région and the published locations of its public listings: the card's
    quantity class and région lead to its own listings in the catalogue, whose cell is then known;
    a sector or permits shared by k companies in the région but not in that cell would name it."""
    areas = [_Area(region=region_code)] if region_code is not None else []
    query = select(Listing.location_level, Listing.location_key).where(
        col(Listing.company_id) == company.id, *public_where()
    )
    for level, key in set(session.exec(query).all()):
        if level == LocationLevel.DEPARTEMENT.value:
            areas.append(_Area(departement=key))
        elif level == LocationLevel.CELL.value:
            departement, _, cell = key.rpartition(":")
            areas.append(_Area(departement=departement, cell=cell or None))
    return areas


def _shared_in_every(
    session: Session,
    areas: list[_Area],
    reader_unit: str | None,
    of_company: ColumnElement[bool] | None,
    of_site: ColumnElement[bool] | None,
) -> bool:
    """Whether, in each area, at least k legal units besides the reader's have a site there
    (matching ``of_site``) and match ``of_company``."""
    k = get_settings().k_anonymity
    for area in areas:
        query = (
            select(Company.legal_unit_index, Site)
            .join(Site, col(Site.company_id) == col(Company.id))
            .where(area.sites())
        )
        if of_company is not None:
            query = query.where(of_company)
        if of_site is not None:
            query = query.where(of_site)
        if reader_unit is not None:
            query = query.where(col(Company.legal_unit_index) != reader_unit)
        units = {unit for unit, site in session.exec(query).all() if area.holds(site)}
        if len(units) < k:
            return False
    return True


def _sector_shown(
    session: Session, company: Company, areas: list[_Area], reader_unit: str | None
) -> str | None:
    """The requester's sector division when at least k legal units share it in its région and
    in the location of each of its public listings, besides the reader's: a trade rare there
    names its company to anyone who reads the public company registers."""
    division = company.nace[:2]
    same = col(Company.nace).startswith(f"{division}.")
    if not areas:
        query = _legal_units_besides(reader_unit).where(same)
        shown = int(session.exec(query).one()) >= get_settings().k_anonymity
    else:
        shown = _shared_in_every(session, areas, reader_unit, same, None)
    return division if shown else None


def _permits_shared(
    session: Session,
    areas: list[_Area],
    division: str | None,
    permits: PermitFlags,
    reader_unit: str | None,
) -> bool:
    """Whether at least k legal units besides the reader's have a site declaring the same
    permits in the requester's région and in the location of each of its public listings (and
    share its division, when the card shows it). Permits are public (the ICPE register names
    its installations): a rare combination of them, with a sector, would name the requester."""
    same_site = sa.and_(
        col(Site.icpe_regime).is_(None)
        if permits.icpe_regime is None
        else col(Site.icpe_regime) == permits.icpe_regime,
        col(Site.receives_non_hazardous_waste) == permits.non_hazardous_waste,
        col(Site.receives_hazardous_waste) == permits.hazardous_waste,
        col(Site.animal_by_products_approved) == permits.animal_by_products,
    )
    same = col(Company.nace).startswith(f"{division}.") if division is not None else None
    return _shared_in_every(session, areas, reader_unit, same, same_site)


def shows_card(party: Party, state: str) -> bool:
    """Whether `party` reads the requester's card: the facilitator always; the owner while the
    introduction is open or revealed. A card computed live for a closed one would let the owner
    keep watching the requester's later changes (sector, permits, sites) and combine the cards."""
    if party == Party.FACILITATOR:
        return True
    return party == Party.OWNER and (state in PENDING_VIEWS or state == State.REVEALED)


def requester_card(
    session: Session, intro: Introduction, reader: uuid.UUID | None = None
) -> RequesterCard:
    """The requester as the owner sees it: nothing finer than a public card. Its distance is
    measured from the listing's published point (not the owner's moving sites) to the point of
    the requester's région: its département, or its own listing's cell, would be found again
    from the bands of a few listings of the owner's (or of companies it controls), and with its
    sector would narrow it below k companies. `reader`: the reading company (an owner, a
    pool's contributor), whose own legal unit the card's k-checks leave out; None for the
    facilitator."""
    company = session.get(Company, intro.requester_company_id)
    assert company is not None
    reading = session.get(Company, reader) if reader is not None else None
    reader_unit = reading.legal_unit_index if reading is not None else None
    band: str | None = None
    quantity: str | None = None
    region_code: str | None = None
    permits: PermitFlags | None = None
    site_of_flow: Site | None = None
    flow = session.get(Flow, intro.requester_flow_id) if intro.requester_flow_id else None
    if flow is not None:
        quantity = quantity_class(
            flow.kind, flow.quantity_per_year, flow.temperature_c, flow.base_unit
        ).label_en
        listing = session.get(Listing, intro.listing_id) if intro.listing_id else None
        site_of_flow = session.get(Site, flow.site_id)
        region_code = site_of_flow.region_code if site_of_flow is not None else None
        if listing is not None and region_code is not None:
            lat, lon = region_point(region_code)
            band = distance_band(haversine_km(listing.latitude, listing.longitude, lat, lon))
    areas = _areas(session, company, region_code)
    division = _sector_shown(session, company, areas, reader_unit)
    if site_of_flow is not None:
        permits = permit_flags(site_of_flow)
        if not _permits_shared(session, areas, division, permits, reader_unit):
            permits = None
    return RequesterCard(
        sector_division=division,
        sector_label=sector_label(division),
        distance_band=band,
        quantity_class=quantity,
        permits=permits,
    )


def reader_of(actor: Actor) -> uuid.UUID | None:
    """The company whose own legal unit a card's k-checks leave out: the reader's, none for the
    facilitator (it reads identities anyway)."""
    return None if actor.is_staff else actor.company_id


def permit_flags(site: Site) -> PermitFlags:
    return PermitFlags(
        icpe_regime=site.icpe_regime,
        non_hazardous_waste=site.receives_non_hazardous_waste,
        hazardous_waste=site.receives_hazardous_waste,
        animal_by_products=site.animal_by_products_approved,
    )


def counterpart(session: Session, actor: Actor, intro: Introduction, party: Party) -> Counterpart:
    """The other side, through the reveal path (each read an audit entry naming the
    introduction)."""
    if party == Party.OWNER:
        company_id, flow_id = intro.requester_company_id, intro.requester_flow_id
    else:
        assert intro.owner_company_id is not None, "a pool's requester reads its contributors"
        company_id, flow_id = intro.owner_company_id, intro.owner_flow_id
    flow = session.get(Flow, flow_id) if flow_id else None
    return _revealed(session, actor, intro, company_id, [flow.site_id] if flow else None)


def contributors(session: Session, actor: Actor, intro: Introduction) -> list[Counterpart]:
    """A revealed pool as its requester sees it: the contributors who accepted, each with the
    sites of its own flows in the pool; those who declined or did not answer, not at all."""
    found = []
    for share in shares(session, intro):
        if share.state != ShareState.ACCEPTED:
            continue
        flows = select(Flow.site_id).join(PoolShare, col(PoolShare.flow_id) == col(Flow.id))
        flows = flows.where(
            PoolShare.listing_id == intro.listing_id, PoolShare.company_id == share.company_id
        )
        # Only the sites of its flows still in the pool: none if they all left it.
        site_ids = list(session.exec(flows).all())
        found.append(_revealed(session, actor, intro, share.company_id, site_ids))
    return found


def _revealed(
    session: Session,
    actor: Actor,
    intro: Introduction,
    company_id: uuid.UUID,
    site_ids: list[uuid.UUID] | None,
) -> Counterpart:
    company = session.get(Company, company_id)
    assert company is not None
    if not identity_keys_available(company):
        raise RevealUnavailable()
    identity = revealed_identity(session, company, reader_id=actor.user_id, why=about(intro))
    query = select(Site).where(Site.company_id == company.id).order_by(col(Site.created_at))
    if site_ids is not None:
        query = query.where(col(Site.id).in_(site_ids))
    sites = []
    for site in session.exec(query).all():
        position = site_position(company, site)
        sites.append(
            RevealedSite(
                name=site_name(company, site),
                latitude=position.latitude,
                longitude=position.longitude,
                commune=position.commune,
            )
        )
    return Counterpart(
        company_id=company.id,
        legal_name=identity.legal_name,
        siret=identity.siret,
        address=identity.address,
        contacts=[RevealedContact(**c.model_dump()) for c in identity.contacts],
        sites=sites,
    )


def read(session: Session, actor: Actor, intro: Introduction, party: Party) -> IntroductionRead:
    state = state_for(session, intro, party, actor.company_id)
    pending = state in PENDING_VIEWS
    read = IntroductionRead(
        id=intro.id,
        side=party.value,
        state=state,
        listing_id=intro.listing_id,
        match_id=intro.match_id,
        created_at=intro.created_at,
        # A silent outcome has no deadline to show, whatever the row still holds.
        expires_at=intro.expires_at if pending else None,
        next_action=_next_action(intro, party, state),
        pooled=is_pooled(intro),
    )
    if shows_card(party, state):
        read.requester = requester_card(session, intro, reader_of(actor))
    if party != Party.FACILITATOR and state == State.REVEALED:
        if party == Party.REQUESTER and is_pooled(intro):
            read.contributors = contributors(session, actor, intro)
        else:
            read.counterpart = counterpart(session, actor, intro, party)
    if party == Party.FACILITATOR:
        read.requester_company_id = intro.requester_company_id
        read.owner_company_id = intro.owner_company_id
        read.screening_note = intro.screening_note
        read.version = intro.version
        if is_pooled(intro):
            read.shares = [
                ShareRead(company_id=s.company_id, state=s.state, version=s.version)
                for s in shares(session, intro)
            ]
    return read


def _next_action(intro: Introduction, party: Party, state: str) -> str | None:
    if state == State.ACCEPTED:
        if party == Party.REQUESTER and intro.requester_accepted_at is None:
            return "confirm (accept), or withdraw"
        return "wait for the other side"
    return NEXT_ACTIONS.get((party, state))


def read_message(message: IntroductionMessage) -> MessageRead:
    return MessageRead(
        id=message.id,
        author_side=message.author_side,
        body=message.body,
        created_at=message.created_at,
    )
