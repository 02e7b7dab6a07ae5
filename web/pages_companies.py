"""The facilitator's workbench of companies: the territory's list, searched and filtered, and one
company's page (identity, sites, flows, listings, history), where its size class is corrected."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from babel.dates import format_datetime
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from core.errors import DomainError
from core.text import collation_key, fold
from marketplace.accounts.service import emails_of
from marketplace.catalogue.labels import departement_names
from marketplace.catalogue.staff import company_listings
from marketplace.companies.errors import InvalidSiret, NoSuchCompany
from marketplace.companies.models import Company
from marketplace.companies.schemas import CompanyRead
from marketplace.companies.service import (
    company_history,
    count_sites_by_company,
    filter_companies,
    find_by_siret,
    get_company,
    list_sites,
    read_company,
    read_site,
    set_size_class,
)
from marketplace.flows.service import count_active_flows_by_company, list_flows
from web.cards import spaced
from web.forms import FieldErrors, SubmittedForm, domain_errors, text
from web.i18n import N_, Translate, page_locale, page_translator
from web.labels import (
    BASE_UNITS,
    DIRECTIONS,
    KINDS,
    LISTING_STATUSES,
    SIZE_CLASSES,
    STATUSES,
    label,
)
from web.security import STAFF_PAGES, CurrentViewer, DbSession, Viewer
from web.templating import format_number, render

router = APIRouter(include_in_schema=False, dependencies=STAFF_PAGES)

FILTERS = ("q", "sector", "departement", "size")
# What the audit entries of a company's history say, in words; another action shows its code.
HISTORY_ACTIONS = {
    "identity.read": N_("Identity read by the facilitator"),
    "identity.reveal": N_("Identity revealed to a counterpart"),
    "site.moved": N_("A site moved"),
    "company.size_class": N_("Size class changed"),
}
_DIGITS = re.compile(r"[\s.\-]")


@dataclass(frozen=True)
class CompanyRow:
    company: CompanyRead
    size: str
    sites: int
    flows: int


def _filter_values(request: Request) -> dict[str, str]:
    return {name: request.query_params.get(name, "").strip() for name in FILTERS}


def _matches_name(company: CompanyRead, words: str) -> bool:
    """Whether every word typed appears in the legal name or a brand, accents and case aside."""
    haystack = fold(" ".join([company.legal_name, *company.brands]))
    return all(word in haystack for word in fold(words).split())


def _by_siret(session: Session, typed: str) -> Company | None:
    """The company of a SIRET typed in the search box, found by its blind index."""
    try:
        return find_by_siret(session, typed)
    except InvalidSiret:
        return None


@router.get("/companies")
def companies_page(request: Request, session: DbSession, viewer: CurrentViewer) -> Response:
    translate = page_translator(request)
    values = _filter_values(request)
    departements = departement_names()
    errors: FieldErrors = {}
    if values["departement"] and values["departement"] not in departements:
        errors["departement"] = translate(N_("Choose a département from the list."))
    companies: list[Company] = []
    if not errors:
        try:
            companies = list(
                filter_companies(
                    session,
                    viewer.actor,
                    sector=values["sector"],
                    departement=values["departement"],
                    size_class=values["size"],
                )
            )
        except DomainError as exc:
            errors = {
                ("size" if key == "size_class" else key): message
                for key, message in domain_errors(exc, translate).items()
            }
    query = values["q"]
    if query and _DIGITS.sub("", query).isdigit() and len(_DIGITS.sub("", query)) == 14:
        # A SIRET: found through its blind index, without opening every identity.
        found = _by_siret(session, query)
        companies = [c for c in companies if found is not None and c.id == found.id]
        query = ""
    site_counts = count_sites_by_company(session)
    flow_counts = count_active_flows_by_company(session)
    rows = []
    for company in companies:
        # read_company appends an "identity.read" entry to the audit chain for each company read.
        identity = read_company(session, viewer.actor, company)
        if query and not _matches_name(identity, query):
            continue
        size = label(SIZE_CLASSES, identity.size_class, translate)
        sites, flows = site_counts.get(company.id, 0), flow_counts.get(company.id, 0)
        rows.append(CompanyRow(identity, size, sites, flows))
    rows.sort(key=lambda row: collation_key(row.company.legal_name))
    context = {
        "rows": rows,
        "values": values,
        "errors": errors,
        "filtered": any(values.values()),
        "sizes": [(code, translate(word)) for code, word in SIZE_CLASSES.items()],
        "departements": [(code, f"{code} — {name}") for code, name in sorted(departements.items())],
    }
    return render(request, "companies.html", context, status_code=422 if errors else 200)


def _company_of(session: Session, viewer: Viewer, company_id: str) -> Company:
    try:
        key = uuid.UUID(company_id)
    except ValueError:
        raise NoSuchCompany() from None
    return get_company(session, viewer.actor, key)


def _sites(company: Company, session: Session, viewer: Viewer) -> list[dict[str, Any]]:
    departements = departement_names()
    rows = []
    for site in list_sites(session, viewer.actor, company.id):
        read = read_site(company, site)
        rows.append(
            {
                "site": read,
                "departement": f"{departements.get(read.departement_code, '')} "
                f"({read.departement_code})",
            }
        )
    return rows


def _flows(
    session: Session, viewer: Viewer, company: Company, locale: str, translate: Translate
) -> list[dict[str, str]]:
    flows = list_flows(session, viewer.actor, company_id=company.id, include_withdrawn=True)
    return [
        {
            "label": flow.label,
            "direction": label(DIRECTIONS, flow.direction, translate),
            "material": spaced(flow.low_code)
            if flow.low_code
            else label(KINDS, flow.kind, translate),
            "quantity": f"{format_number(flow.quantity_per_year, locale)} "
            f"{label(BASE_UNITS, flow.base_unit, translate)}",
            "status": label(STATUSES, flow.status, translate),
            "active": "1" if flow.status == "active" else "",
        }
        for flow in flows
    ]


def _history(
    session: Session, viewer: Viewer, company: Company, locale: str, translate: Translate
) -> list[dict[str, str]]:
    entries = company_history(session, viewer.actor, company)
    emails = emails_of(session, (e.actor_id for e in entries if e.actor_id is not None))
    sizes = {code: translate(word) for code, word in SIZE_CLASSES.items()}
    rows = []
    for entry in entries:
        detail = ""
        if entry.action == "company.size_class" and entry.data:
            before = sizes.get(entry.data.get("from", ""), "")
            detail = f"{before} → {sizes.get(entry.data.get('to', ''), '')}"
        rows.append(
            {
                "at": format_datetime(entry.at, "short", locale=locale),
                "what": label(HISTORY_ACTIONS, entry.action, translate),
                "detail": detail,
                "who": emails.get(entry.actor_id, "—") if entry.actor_id else "—",
            }
        )
    return rows


def _company_page(
    request: Request,
    session: Session,
    viewer: Viewer,
    company: Company,
    *,
    size_value: str | None = None,
    errors: FieldErrors | None = None,
) -> Response:
    locale, translate = page_locale(request), page_translator(request)
    # The identity is read first: its "identity.read" entry heads the history shown below.
    identity = read_company(session, viewer.actor, company)
    own, pools = company_listings(session, viewer.actor, company.id)
    context = {
        "company": identity,
        "size": label(SIZE_CLASSES, identity.size_class, translate),
        "sizes": [(code, translate(word)) for code, word in SIZE_CLASSES.items()],
        "values": {"size_class": size_value or identity.size_class},
        "errors": errors or {},
        "sites": _sites(company, session, viewer),
        "flows": _flows(session, viewer, company, locale, translate),
        "listings": [
            {"listing": listing, "status": label(LISTING_STATUSES, listing.status, translate)}
            for listing in [*own, *pools]
        ],
        "history": _history(session, viewer, company, locale, translate),
    }
    return render(request, "company_workbench.html", context, status_code=422 if errors else 200)


@router.get("/companies/{company_id}")
def company_page(
    request: Request, session: DbSession, viewer: CurrentViewer, company_id: str
) -> Response:
    return _company_page(request, session, viewer, _company_of(session, viewer, company_id))


@router.post("/companies/{company_id}/size")
def company_size(
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    company_id: str,
    form: SubmittedForm,
) -> Response:
    company = _company_of(session, viewer, company_id)
    size = text(form, "size_class")
    try:
        set_size_class(session, viewer.actor, company, size)
    except DomainError as exc:
        session.rollback()
        errors = domain_errors(exc, page_translator(request))
        return _company_page(request, session, viewer, company, size_value=size, errors=errors)
    return RedirectResponse(f"/companies/{company.id}?notice=size-saved", status_code=303)
