"""Companies and sites: creation, identity sealing, SIRET lookup, positions placed on the map."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import h3
import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, func, select
from stdnum.fr import siret as siret_checker

from core.events import emit
from core.inputs import invalid_from
from core.models import utcnow
from core.reference.geo import in_france, locate
from core.reference.sectors import SectorRefused, parse_sector, sector_label
from core.settings import get_settings
from marketplace.accounts.service import Actor
from marketplace.companies.errors import (
    IdentityAdminOnly,
    InvalidNace,
    InvalidSiret,
    MovedTooOften,
    NoSuchCompany,
    NoSuchSite,
    NotInDepartement,
    OutsideFrance,
    SiretTaken,
    SiteNameTaken,
    UnknownNace,
    UnknownSizeClass,
)
from marketplace.companies.events import SECTOR_CHANGED, SITE_MOVED
from marketplace.companies.models import Company, Site, SiteMove
from marketplace.companies.schemas import (
    CompanyCreate,
    CompanyRead,
    CompanyUpdate,
    Identity,
    SiteCreate,
    SiteRead,
    SiteUpdate,
)
from privacy import audit
from privacy.blind_index import blind_index
from privacy.models import AuditEntry
from privacy.vault import Sealed, can_unwrap, open_json, seal_json

SIZE_CLASSES = ("micro", "small", "medium", "large")
# The finest position kept in clear (~5 km²): its resolution-6 parent is the finest public cell.
SITE_H3_RESOLUTION = 7
MOVE_WINDOW = timedelta(days=1)


def normalise_siret(raw: str, field: str = "siret") -> str:
    compact = re.sub(r"[\s.\-]", "", raw or "")
    if not siret_checker.is_valid(compact):
        raise InvalidSiret(field=field)
    return compact


def normalise_nace(raw: str, field: str = "nace") -> str:
    """A sector code as typed (NACE class or NAF subclass, dotted or not), as stored: the most
    precise level given, checked against the nomenclature (core/reference/sectors.py)."""
    try:
        return parse_sector(raw).code
    except SectorRefused as refused:
        if refused.reason == "unknown":
            raise UnknownNace(field=field, code=refused.code) from None
        raise InvalidNace(field=field) from None


def _check_size(size_class: str) -> str:
    if size_class not in SIZE_CLASSES:
        raise UnknownSizeClass(field="size_class", choices=", ".join(SIZE_CLASSES))
    return size_class


def siret_index(siret: str) -> str:
    return blind_index("siret", siret)


LEGAL_UNIT_PURPOSE = "legal-unit"


def legal_unit_index(siret: str) -> str:
    """The blind index of the SIRET's legal unit (its SIREN, the first nine digits)."""
    return blind_index(LEGAL_UNIT_PURPOSE, siret[:9])


def _aad(company_id: uuid.UUID) -> bytes:
    return company_id.bytes


def _sealed(company: Company) -> Sealed:
    return Sealed(company.kek_id, company.wrapped_key, company.identity_ciphertext)


def create_company(session: Session, data: CompanyCreate) -> Company:
    siret = normalise_siret(data.siret)
    index = siret_index(siret)
    if session.exec(select(Company.id).where(Company.siret_index == index)).first() is not None:
        raise SiretTaken(field="siret")
    company = Company(
        identity_ciphertext=b"",
        wrapped_key=b"",
        kek_id="",
        siret_index=index,
        legal_unit_index=legal_unit_index(siret),
        nace=normalise_nace(data.nace),
        size_class=_check_size(data.size_class),
    )
    identity = Identity(**data.model_dump(include=set(Identity.model_fields)))
    identity.siret = siret
    sealed = seal_json(identity.model_dump(mode="json"), aad=_aad(company.id))
    company.kek_id, company.wrapped_key = sealed.kek_id, sealed.wrapped_key
    company.identity_ciphertext = sealed.ciphertext
    session.add(company)
    session.flush()
    return company


def find_by_siret(session: Session, siret: str) -> Company | None:
    index = siret_index(normalise_siret(siret))
    return session.exec(select(Company).where(Company.siret_index == index)).first()


def get_company(session: Session, actor: Actor, company_id: uuid.UUID) -> Company:
    company = session.get(Company, company_id)
    # A foreign company is "not found", not "forbidden": its existence is not disclosed.
    if company is None or not actor.may_access_company(company_id):
        raise NoSuchCompany()
    return company


def identity_of(session: Session, actor: Actor, company: Company) -> Identity:
    """Decrypt a company's identity for its own members or the facilitator (logged)."""
    if not actor.may_access_company(company.id):
        raise NoSuchCompany()
    if actor.company_id != company.id:
        audit.append(session, "identity.read", actor_id=actor.user_id, subject_id=company.id)
    return Identity(**open_json(_sealed(company), aad=_aad(company.id)))


def identity_keys_available(company: Company) -> bool:
    """Whether the company's identity can be opened with the keys configured now."""
    return can_unwrap(_sealed(company), aad=_aad(company.id))


def revealed_identity(
    session: Session,
    company: Company,
    *,
    reader_id: uuid.UUID,
    why: dict[str, str] | None = None,
) -> Identity:
    """The reveal path: a company's identity for a counterpart that a higher domain has
    established (an introduction both sides accepted). The caller decides who may; each call is
    an `identity.reveal` entry naming who read (`reader_id`) and whose (the company), and a
    checkpoint follows before the transaction commits (privacy/audit.py). `why` names the
    caller's reason in the entry (the introduction's id)."""
    audit.append(session, "identity.reveal", actor_id=reader_id, subject_id=company.id, data=why)
    return Identity(**open_json(_sealed(company), aad=_aad(company.id)))


def read_company(session: Session, actor: Actor, company: Company) -> CompanyRead:
    identity = identity_of(session, actor, company)
    return CompanyRead(
        id=company.id,
        nace=company.nace,
        nace_label=sector_label(company.nace),
        size_class=company.size_class,
        **identity.model_dump(),
    )


def list_companies(session: Session, actor: Actor) -> Sequence[Company]:
    query = select(Company).order_by(col(Company.created_at))
    if not actor.is_staff:
        query = query.where(Company.id == actor.require_company())
    return session.exec(query).all()


def update_company(
    session: Session, actor: Actor, company: Company, data: CompanyUpdate
) -> Company:
    if not (actor.is_staff or (actor.company_id == company.id and actor.is_company_admin)):
        raise IdentityAdminOnly()
    changes = data.model_dump(exclude_unset=True)
    sector_changed = False
    if "nace" in changes and changes["nace"] is not None:
        nace = normalise_nace(changes.pop("nace"))
        sector_changed = nace != company.nace
        company.nace = nace
    if "size_class" in changes and changes["size_class"] is not None:
        company.size_class = _check_size(changes.pop("size_class"))
    identity_changes = {
        k: v for k, v in changes.items() if v is not None and k in Identity.model_fields
    }
    if identity_changes:
        current = identity_of(session, actor, company).model_dump()
        try:
            identity = Identity.model_validate(current | identity_changes)
        except ValidationError as exc:
            raise invalid_from(exc) from None
        sealed = seal_json(
            identity.model_dump(mode="json"), aad=_aad(company.id), sealed=_sealed(company)
        )
        company.identity_ciphertext = sealed.ciphertext
    session.add(company)
    session.flush()
    if sector_changed:
        emit(session, SECTOR_CHANGED, company)
    return company


# --- sites -------------------------------------------------------------------------------------


def site_name_index(company_id: uuid.UUID, name: str) -> str:
    return blind_index("site", f"{company_id}:{name}")


def place(latitude: float, longitude: float) -> tuple[str, str, str]:
    """(département, région, H3 cell) of a position; refuses one outside France."""
    if not in_france(latitude, longitude):
        raise OutsideFrance(field="latitude")
    placement = locate(latitude, longitude)
    if placement is None:
        raise NotInDepartement(field="latitude")
    cell = h3.latlng_to_cell(latitude, longitude, SITE_H3_RESOLUTION)
    return placement.departement_code, placement.region_code, cell


def seal_site_name(company: Company, name: str) -> bytes:
    return seal_json({"name": name}, aad=_aad(company.id), sealed=_sealed(company)).ciphertext


def site_name(company: Company, site: Site) -> str:
    sealed = Sealed(company.kek_id, company.wrapped_key, site.name_ciphertext)
    return str(open_json(sealed, aad=_aad(company.id))["name"])


@dataclass(frozen=True)
class SitePosition:
    """A site's exact position and commune: stored sealed, opened for its company's members, the
    facilitator and the origin of the company's distance bands."""

    latitude: float
    longitude: float
    commune: str = ""


def seal_site_position(company: Company, position: SitePosition) -> bytes:
    payload = {
        "latitude": position.latitude,
        "longitude": position.longitude,
        "commune": position.commune,
    }
    return seal_json(payload, aad=_aad(company.id), sealed=_sealed(company)).ciphertext


def open_site_position(
    company_id: uuid.UUID, kek_id: str, wrapped_key: bytes, ciphertext: bytes
) -> SitePosition:
    """A sealed position opened with its company's key (given as columns, for readers that load
    no Company row, such as the distance bands' origin)."""
    values = open_json(Sealed(kek_id, wrapped_key, ciphertext), aad=_aad(company_id))
    return SitePosition(float(values["latitude"]), float(values["longitude"]), values["commune"])


def site_position(company: Company, site: Site) -> SitePosition:
    return open_site_position(
        company.id, company.kek_id, company.wrapped_key, site.position_ciphertext
    )


def create_site(session: Session, actor: Actor, company: Company, data: SiteCreate) -> Site:
    if not actor.may_access_company(company.id):
        raise NoSuchCompany()
    name = data.name.strip()
    index = site_name_index(company.id, name)
    duplicate = select(Site.id).where(Site.company_id == company.id, Site.name_index == index)
    if session.exec(duplicate).first() is not None:
        raise SiteNameTaken(field="name")
    departement, region, cell = place(data.latitude, data.longitude)
    site = Site(
        company_id=company.id,
        name_ciphertext=seal_site_name(company, name),
        name_index=index,
        position_ciphertext=seal_site_position(
            company, SitePosition(data.latitude, data.longitude, data.commune.strip())
        ),
        departement_code=departement,
        region_code=region,
        h3_cell=cell,
    )
    _set_permits(site, data.model_dump(include=PERMIT_FIELDS))
    session.add(site)
    session.flush()
    return site


def get_site(session: Session, actor: Actor, site_id: uuid.UUID) -> Site:
    site = session.get(Site, site_id)
    if site is None or not actor.may_access_company(site.company_id):
        raise NoSuchSite()
    return site


def list_sites(
    session: Session, actor: Actor, company_id: uuid.UUID | None = None
) -> Sequence[Site]:
    query = select(Site).order_by(col(Site.created_at))
    if actor.is_staff:
        if company_id is not None:
            query = query.where(Site.company_id == company_id)
    else:
        query = query.where(Site.company_id == actor.require_company())
    return session.exec(query).all()


def update_site(session: Session, actor: Actor, site: Site, data: SiteUpdate) -> Site:
    company = get_company(session, actor, site.company_id)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if "name" in changes:
        name = changes["name"].strip()
        index = site_name_index(company.id, name)
        clash = select(Site.id).where(
            Site.company_id == company.id, Site.name_index == index, Site.id != site.id
        )
        if session.exec(clash).first() is not None:
            raise SiteNameTaken(field="name")
        site.name_ciphertext, site.name_index = seal_site_name(company, name), index
    current = site_position(company, site)
    position = SitePosition(
        changes.get("latitude", current.latitude),
        changes.get("longitude", current.longitude),
        changes["commune"].strip() if "commune" in changes else current.commune,
    )
    moved = (position.latitude, position.longitude) != (current.latitude, current.longitude)
    if moved:
        site.departement_code, site.region_code, site.h3_cell = place(
            position.latitude, position.longitude
        )
        _record_move(session, actor, site)
    if position != current:
        site.position_ciphertext = seal_site_position(company, position)
    permits = {k: v for k, v in changes.items() if k in PERMIT_FIELDS}
    if "icpe_regime" in data.model_fields_set and data.icpe_regime is None:
        permits["icpe_regime"] = None  # undeclared on purpose
    _set_permits(site, permits)
    session.add(site)
    session.flush()
    if moved:
        emit(session, SITE_MOVED, site)
    return site


def _moves_since(
    session: Session, since: datetime, condition: ColumnElement[bool]
) -> tuple[int, datetime | None]:
    """How many moves match ``condition`` after ``since``, and when the oldest of them was."""
    statement = select(func.count(), func.min(SiteMove.moved_at)).where(
        col(SiteMove.moved_at) > since, condition
    )
    count, oldest = session.exec(statement).one()
    return int(count), oldest


def _record_move(session: Session, actor: Actor, site: Site) -> None:
    """Count a move against the site's and the company's daily limits (429 past either, with the
    seconds until the oldest move of the window leaves it), and audit it."""
    settings = get_settings()
    now = utcnow()
    since = now - MOVE_WINDOW
    limits = (
        (settings.site_moves_per_day, "this site", col(SiteMove.site_id) == site.id),
        (
            settings.company_site_moves_per_day,
            "your company's sites",
            col(SiteMove.company_id) == site.company_id,
        ),
    )
    for limit, whose, condition in limits:
        count, oldest = _moves_since(session, since, condition)
        if count >= limit:
            assert oldest is not None
            wait = max(1, int((oldest + MOVE_WINDOW - now).total_seconds()) + 1)
            raise MovedTooOften(
                field="latitude", retry_after=wait, whose=whose, count=count, wait=wait
            )
    session.add(SiteMove(site_id=site.id, company_id=site.company_id, moved_at=now))
    audit.append(session, "site.moved", actor_id=actor.user_id, subject_id=site.id)


PERMIT_FIELDS = {
    "icpe_regime",
    "receives_non_hazardous_waste",
    "receives_hazardous_waste",
    "animal_by_products_approved",
}


def _set_permits(site: Site, permits: dict[str, object]) -> None:
    for name, value in permits.items():
        setattr(site, name, value)


def read_site(company: Company, site: Site) -> SiteRead:
    position = site_position(company, site)
    return SiteRead(
        id=site.id,
        company_id=site.company_id,
        name=site_name(company, site),
        latitude=position.latitude,
        longitude=position.longitude,
        commune=position.commune,
        departement_code=site.departement_code,
        region_code=site.region_code,
        icpe_regime=site.icpe_regime,
        receives_non_hazardous_waste=site.receives_non_hazardous_waste,
        receives_hazardous_waste=site.receives_hazardous_waste,
        animal_by_products_approved=site.animal_by_products_approved,
    )


def deny_terms(session: Session, company: Company) -> list[str]:
    """The words that would name the company in its public text: legal name, brands, site names,
    communes. Decrypted for the scrubber only, never returned to anyone, hence not audited."""
    identity = Identity(**open_json(_sealed(company), aad=_aad(company.id)))
    terms = [identity.legal_name, *identity.brands]
    for contact in identity.contacts:
        terms.append(contact.name)
    for site in session.exec(select(Site).where(Site.company_id == company.id)).all():
        terms.append(site_name(company, site))
        commune = site_position(company, site).commune
        if commune:
            terms.append(commune)
    return [t for t in terms if t and t.strip()]


def count_sites_by_company(session: Session) -> dict[uuid.UUID, int]:
    """How many sites each company has (counts only, for the facilitator's list): one grouped
    query rather than every site of the territory loaded."""
    query = select(Site.company_id, func.count()).group_by(col(Site.company_id))
    return dict(session.exec(query).all())


def sites_by_id(session: Session, site_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Site]:
    """The sites of these ids, in one query."""
    return {s.id: s for s in session.exec(select(Site).where(col(Site.id).in_(set(site_ids))))}


def companies_by_id(session: Session, company_ids: Iterable[uuid.UUID]) -> Sequence[Company]:
    """The companies of these ids, in one query."""
    return session.exec(select(Company).where(col(Company.id).in_(set(company_ids)))).all()


# --- the facilitator's workbench ---------------------------------------------------------------


def set_size_class(session: Session, actor: Actor, company: Company, size_class: str) -> Company:
    """The facilitator corrects a company's size class (an import gives every new company the
    default); the change is an audit entry of the company, so its history shows who set it."""
    actor.require_staff()
    size = _check_size(size_class)
    if size != company.size_class:
        audit.append(
            session,
            "company.size_class",
            actor_id=actor.user_id,
            subject_id=company.id,
            data={"from": company.size_class, "to": size},
        )
        company.size_class = size
        session.add(company)
        session.flush()
    return company


def sector_prefix(raw: str, field: str = "sector") -> str:
    """A sector filter as typed ("35", "35.1", "35.11Z", "3511"), without its dots: codes are
    matched by their beginning, so a division finds every class and subclass under it."""
    compact = re.sub(r"[\s.]", "", raw or "").upper()
    if compact and not re.fullmatch(r"\d{2,4}[A-Z]?", compact):
        raise InvalidNace(field=field)
    return compact


def filter_companies(
    session: Session,
    actor: Actor,
    *,
    sector: str = "",
    departement: str = "",
    size_class: str = "",
) -> Sequence[Company]:
    """The companies of the territory narrowed by what is stored in clear (sector, size, the
    départements of their sites), before any identity is decrypted: a narrower list opens fewer
    identities, and each opening is an audit entry."""
    actor.require_staff()
    query = select(Company).order_by(col(Company.created_at))
    prefix = sector_prefix(sector)
    if prefix:
        compact_nace = func.replace(col(Company.nace), ".", "")
        query = query.where(func.substr(compact_nace, 1, len(prefix)) == prefix)
    if size_class:
        query = query.where(Company.size_class == _check_size(size_class))
    if departement:
        in_departement = select(Site.company_id).where(Site.departement_code == departement)
        query = query.where(col(Company.id).in_(in_departement))
    return session.exec(query).all()


# Audit entries shown in a company's history: newest first, a page's worth.
HISTORY_LIMIT = 100


def company_history(session: Session, actor: Actor, company: Company) -> Sequence[AuditEntry]:
    """The audit entries about a company and its sites (identity reads and reveals, moves, size
    changes), newest first: what the facilitator answers for when a member asks who saw what."""
    actor.require_staff()
    site_ids = select(Site.id).where(Site.company_id == company.id)
    query = (
        select(AuditEntry)
        .where(
            sa.or_(
                col(AuditEntry.subject_id) == company.id,
                col(AuditEntry.subject_id).in_(site_ids),
            )
        )
        .order_by(col(AuditEntry.seq).desc())
        .limit(HISTORY_LIMIT)
    )
    return session.exec(query).all()
