"""Small factory functions: each creates and commits exactly what its name says."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session
from stdnum import luhn

from marketplace.accounts.models import Role, User
from marketplace.accounts.service import actor_of, create_api_token, create_user
from marketplace.companies.models import Company, Site
from marketplace.companies.schemas import CompanyCreate, SiteCreate
from marketplace.companies.service import create_company, create_site, site_position
from marketplace.flows.models import Direction, Flow, Kind
from marketplace.flows.schemas import FlowCreate
from marketplace.flows.service import create_flow

_counter = itertools.count(1)
PASSWORD = "correct-horse-battery"


def make_siret(seed: int | None = None) -> str:
    """A fresh 14-digit SIRET with a valid Luhn checksum."""
    n = seed if seed is not None else next(_counter)
    siren_body = f"{40000000 + n:08d}"
    siren = siren_body + luhn.calc_check_digit(siren_body)
    body = f"{siren}{n % 10000:04d}"
    return body + luhn.calc_check_digit(body)


def create_company_row(session: Session, name: str | None = None, **extra: Any) -> Company:
    n = next(_counter)
    data = CompanyCreate(
        legal_name=name or f"Société Test {n} SAS",
        siret=extra.pop("siret", None) or make_siret(),
        address=extra.pop("address", f"{n} rue du Port, 59140 Dunkerque"),
        contacts=extra.pop(
            "contacts",
            [{"name": "Camille Martin", "email": f"c{n}@example.fr", "phone": "03 28 00 00 00"}],
        ),
        nace=extra.pop("nace", "23.51Z"),
        size_class=extra.pop("size_class", "medium"),
        **extra,
    )
    company = create_company(session, data)
    session.commit()
    return company


def create_user_row(
    session: Session,
    role: Role = Role.COMPANY_ADMIN,
    company: Company | None = None,
    email: str | None = None,
) -> User:
    user = create_user(
        session,
        email=email or f"user{next(_counter)}@example.fr",
        password=PASSWORD,
        role=role,
        company_id=company.id if company else None,
    )
    session.commit()
    return user


def create_site_row(
    session: Session,
    company: Company,
    name: str | None = None,
    latitude: float = 51.0,
    longitude: float = 2.3,
) -> Site:
    user_actor = actor_of(
        User(id=uuid.uuid4(), email="x", password_hash="", role=Role.FACILITATOR, company_id=None)
    )
    site = create_site(
        session,
        user_actor,
        company,
        SiteCreate(
            name=name or f"Site {next(_counter)}",
            latitude=latitude,
            longitude=longitude,
            commune="Dunkerque",
        ),
    )
    session.commit()
    return site


def position_of(session: Session, site: Site) -> tuple[float, float]:
    """A site's exact position, opened with its company's key (it is stored sealed)."""
    company = session.get(Company, site.company_id)
    assert company is not None
    position = site_position(company, site)
    return position.latitude, position.longitude


def create_flow_row(session: Session, site: Site, **fields: Any) -> Flow:
    staff = actor_of(
        User(id=uuid.uuid4(), email="x", password_hash="", role=Role.FACILITATOR, company_id=None)
    )
    values: dict[str, Any] = {
        "site_id": site.id,
        "direction": Direction.OFFER,
        "kind": Kind.MATERIAL,
        "label": "Cendres volantes",
        "low_code": "10 01 02",
        "quantity": 1200,
        "unit": "t",
        "period": "year",
    }
    values.update(fields)
    flow = create_flow(session, staff, FlowCreate(**values))
    session.commit()
    return flow


def bearer(session: Session, user: User) -> dict[str, str]:
    token = create_api_token(session, user, "test")
    session.commit()
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Tenant:
    """A company with an admin, a site and a flow: what most tests need."""

    company: Company
    admin: User
    site: Site
    flow: Flow
    headers: dict[str, str]


def create_tenant(session: Session, name: str | None = None) -> Tenant:
    company = create_company_row(session, name)
    admin = create_user_row(session, Role.COMPANY_ADMIN, company)
    site = create_site_row(session, company)
    flow = create_flow_row(session, site)
    return Tenant(company, admin, site, flow, bearer(session, admin))
