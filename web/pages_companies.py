"""The facilitator's list of the territory's companies, with their sites and active flows."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core.text import collation_key
from marketplace.companies.schemas import CompanyRead
from marketplace.companies.service import count_sites_by_company, list_companies, read_company
from marketplace.flows.service import count_active_flows_by_company
from web.i18n import page_translator
from web.labels import SIZE_CLASSES, label
from web.security import STAFF_PAGES, CurrentViewer, DbSession
from web.templating import render

router = APIRouter(include_in_schema=False, dependencies=STAFF_PAGES)


@dataclass(frozen=True)
class CompanyRow:
    company: CompanyRead
    size: str
    sites: int
    flows: int


@router.get("/companies")
def companies_page(request: Request, session: DbSession, viewer: CurrentViewer) -> Response:
    translate = page_translator(request)
    site_counts = count_sites_by_company(session)
    flow_counts = count_active_flows_by_company(session)
    rows = []
    for company in list_companies(session, viewer.actor):
        # read_company appends an "identity.read" entry to the audit chain for each company shown.
        identity = read_company(session, viewer.actor, company)
        size = label(SIZE_CLASSES, identity.size_class, translate)
        sites, flows = site_counts.get(company.id, 0), flow_counts.get(company.id, 0)
        rows.append(CompanyRow(identity, size, sites, flows))
    rows.sort(key=lambda row: collation_key(row.company.legal_name))
    return render(request, "companies.html", {"rows": rows})
