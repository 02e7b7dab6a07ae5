"""Companies and their sites."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from api.deps import ActorDep, SessionDep
from api.errors import RATE_LIMITED
from marketplace.catalogue.service import company_names_changed
from marketplace.companies import service
from marketplace.companies.schemas import (
    CompanyCreate,
    CompanyRead,
    CompanyUpdate,
    SiteCreate,
    SiteRead,
    SiteUpdate,
)

router = APIRouter(tags=["companies"])


@router.get("/companies", response_model=list[CompanyRead])
def list_companies(session: SessionDep, actor: ActorDep) -> list[CompanyRead]:
    """Your own company; every company for the facilitator (each identity read is logged)."""
    return [service.read_company(session, actor, c) for c in service.list_companies(session, actor)]


@router.post("/companies", response_model=CompanyRead, status_code=201)
def create_company(body: CompanyCreate, session: SessionDep, actor: ActorDep) -> CompanyRead:
    """The facilitator registers a company of its territory."""
    actor.require_staff()
    company = service.create_company(session, body)
    return service.read_company(session, actor, company)


@router.get("/companies/{company_id}", response_model=CompanyRead)
def get_company(company_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> CompanyRead:
    company = service.get_company(session, actor, company_id)
    return service.read_company(session, actor, company)


@router.patch("/companies/{company_id}", response_model=CompanyRead)
def update_company(
    company_id: uuid.UUID, body: CompanyUpdate, session: SessionDep, actor: ActorDep
) -> CompanyRead:
    company = service.get_company(session, actor, company_id)
    service.update_company(session, actor, company, body)
    company_names_changed(session, company.id)
    return service.read_company(session, actor, company)


@router.get("/sites", response_model=list[SiteRead])
def list_sites(
    session: SessionDep, actor: ActorDep, company_id: uuid.UUID | None = None
) -> list[SiteRead]:
    sites = service.list_sites(session, actor, company_id)
    companies = {s.company_id: service.get_company(session, actor, s.company_id) for s in sites}
    return [service.read_site(companies[s.company_id], s) for s in sites]


@router.post("/sites", response_model=SiteRead, status_code=201)
def create_site(
    body: SiteCreate, session: SessionDep, actor: ActorDep, company_id: uuid.UUID | None = None
) -> SiteRead:
    """Declare a site of your company (the facilitator names the company with `company_id`)."""
    target = company_id if actor.is_staff and company_id else actor.require_company()
    company = service.get_company(session, actor, target)
    site = service.create_site(session, actor, company, body)
    company_names_changed(session, company.id)
    return service.read_site(company, site)


@router.get("/sites/{site_id}", response_model=SiteRead)
def get_site(site_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> SiteRead:
    site = service.get_site(session, actor, site_id)
    return service.read_site(service.get_company(session, actor, site.company_id), site)


# A site moves a limited number of times a day (companies.service): past it, 429.
@router.patch("/sites/{site_id}", response_model=SiteRead, responses={429: RATE_LIMITED})
def update_site(
    site_id: uuid.UUID, body: SiteUpdate, session: SessionDep, actor: ActorDep
) -> SiteRead:
    site = service.get_site(session, actor, site_id)
    service.update_site(session, actor, site, body)
    company_names_changed(session, site.company_id, site.id)
    return service.read_site(service.get_company(session, actor, site.company_id), site)
