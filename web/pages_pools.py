"""The facilitator's pooled offers: choose compatible offers of several companies (same material,
same area) and publish them as one listing, through the same preview as any listing."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from core.errors import DomainError
from core.text import fold
from marketplace.catalogue.labels import departement_names, region_names
from marketplace.catalogue.pools import PoolCreate, create_pool
from marketplace.catalogue.staff import MAX_POOLS_SHOWN, list_pools
from marketplace.catalogue.states import ListingStatus
from marketplace.companies.service import companies_by_id, identity_of, sites_by_id
from marketplace.flows.service import list_active_offers
from web.cards import spaced
from web.forms import (
    FieldErrors,
    SubmittedForm,
    domain_errors,
    place_errors,
    text,
    validation_errors,
)
from web.i18n import N_, Translate, page_locale, page_translator
from web.labels import BASE_UNITS, KINDS, LISTING_STATUSES, label
from web.security import STAFF_PAGES, CurrentViewer, DbSession, Viewer
from web.templating import format_number, render

router = APIRouter(include_in_schema=False, dependencies=STAFF_PAGES)

# A territory has a few hundred offers; past this, the facilitator narrows them another way.
MAX_OFFERS_SHOWN = 500
AREAS = {"departement": N_("Département"), "region": N_("Région")}
MATERIALS = {
    "code": N_("The same List of Waste code"),
    "subchapter": N_("The same subchapter (published at the subchapter, e.g. 10 01)"),
}
FORM_FIELDS = ("flow_ids", "area", "material", "title", "description")
SUBCHAPTER = N_("subchapter")


@dataclass(frozen=True)
class OfferRow:
    id: str
    company: str
    label: str
    material: str
    hazardous: bool
    place: str
    quantity: str


def _offers(session: Session, viewer: Viewer, locale: str, translate: Translate) -> list[OfferRow]:
    """Active offers with their company's name: the facilitator may see identities, and each
    company's decryption is recorded in the audit chain (identity_of)."""
    flows = list_active_offers(session, MAX_OFFERS_SHOWN)
    sites = sites_by_id(session, (f.site_id for f in flows))
    companies = companies_by_id(session, (f.company_id for f in flows))
    names = {c.id: identity_of(session, viewer.actor, c).legal_name for c in companies}
    departements = departement_names()
    rows = []
    for flow in flows:
        site = sites[flow.site_id]
        quantity = (
            f"{format_number(flow.quantity_per_year, locale)} "
            f"{label(BASE_UNITS, flow.base_unit, translate)}"
        )
        rows.append(
            OfferRow(
                id=str(flow.id),
                company=names.get(flow.company_id, ""),
                label=flow.label,
                material=spaced(flow.low_code)
                if flow.low_code
                else label(KINDS, flow.kind, translate),
                hazardous=flow.hazardous,
                place=f"{departements.get(site.departement_code, '')} ({site.departement_code})",
                quantity=quantity,
            )
        )
    return rows


def _form_page(
    request: Request,
    session: Session,
    viewer: Viewer,
    values: dict[str, object],
    errors: FieldErrors,
) -> Response:
    locale, translate = page_locale(request), page_translator(request)
    context = {
        "offers": _offers(session, viewer, locale, translate),
        "areas": [(code, translate(word)) for code, word in AREAS.items()],
        "materials": [(code, translate(word)) for code, word in MATERIALS.items()],
        "values": values,
        "errors": errors,
        "limit": MAX_OFFERS_SHOWN,
    }
    return render(request, "pool_form.html", context, status_code=422 if errors else 200)


@router.get("/pools/new")
def new_pool_page(request: Request, session: DbSession, viewer: CurrentViewer) -> Response:
    values: dict[str, object] = {"area": "departement", "material": "code", "flow_ids": []}
    return _form_page(request, session, viewer, values, {})


@router.post("/pools/new")
def new_pool(
    request: Request, session: DbSession, viewer: CurrentViewer, form: SubmittedForm
) -> Response:
    translate = page_translator(request)
    flow_ids = [v for v in form.getlist("flow_ids") if isinstance(v, str)]
    values: dict[str, object] = {
        "flow_ids": flow_ids,
        "area": text(form, "area"),
        "material": text(form, "material") or "code",
        "title": text(form, "title"),
        "description": text(form, "description"),
    }
    try:
        data = PoolCreate.model_validate(values)
        listing = create_pool(session, viewer.actor, data)
    except ValidationError as exc:
        errors = validation_errors(exc, translate)
        if any(key.startswith("flow_ids") for key in errors):
            errors = {k: v for k, v in errors.items() if not k.startswith("flow_ids")}
            errors["flow_ids"] = translate(N_("Choose at least two offers."))
    except DomainError as exc:
        session.rollback()
        errors = domain_errors(exc, translate)
    else:
        return RedirectResponse(f"/listings/{listing.id}/preview", status_code=303)
    return _form_page(request, session, viewer, values, place_errors(errors, FORM_FIELDS))


@dataclass(frozen=True)
class Contributor:
    company_id: str
    name: str
    quantity: str


@dataclass(frozen=True)
class PoolRow:
    id: str
    title: str
    material: str
    area: str
    quantity: str
    status: str
    # Published, but with fewer than k legal units: the facilitator brokers it, search hides it.
    brokered_only: bool
    contributors: list[Contributor]


@router.get("/pools")
def pools_page(request: Request, session: DbSession, viewer: CurrentViewer) -> Response:
    """Every pooled offer with its state and its contributors (each name an audited read)."""
    locale, translate = page_locale(request), page_translator(request)
    status = request.query_params.get("status", "")
    if status not in {s.value for s in ListingStatus}:
        status = ""
    pools = list_pools(session, viewer.actor, status or None)
    companies = companies_by_id(
        session, (share.company_id for pool in pools for share in pool.shares)
    )
    names = {c.id: identity_of(session, viewer.actor, c).legal_name for c in companies}
    departements, regions = departement_names(), region_names()
    rows = []
    for pool in pools:
        listing = pool.listing
        unit = label(BASE_UNITS, listing.base_unit, translate)
        if listing.location_level == "region":
            area = f"{regions.get(listing.region_code, '')} ({translate(AREAS['region'])})"
        else:
            area = f"{departements.get(listing.departement_code, '')} ({listing.departement_code})"
        contributors = sorted(
            (
                Contributor(
                    str(share.company_id),
                    names.get(share.company_id, ""),
                    f"{format_number(share.quantity_per_year, locale)} {unit}",
                )
                for share in pool.shares
            ),
            key=lambda c: fold(c.name),
        )
        if not listing.low_code:
            material = label(KINDS, listing.kind, translate)
        elif listing.material_level == "subchapter":
            # Pooled by subchapter: its codes differ, the subchapter is what they share.
            code = listing.low_code
            material = f"{code[:2]} {code[2:4]} ({translate(SUBCHAPTER)})"
        else:
            material = spaced(listing.low_code)
        rows.append(
            PoolRow(
                id=str(listing.id),
                title=listing.title,
                material=material,
                area=area,
                quantity=f"{format_number(listing.quantity_per_year, locale)} {unit}",
                status=label(LISTING_STATUSES, listing.status, translate),
                brokered_only=listing.status == ListingStatus.PUBLISHED and listing.brokered_only,
                contributors=contributors,
            )
        )
    statuses = [(s.value, label(LISTING_STATUSES, s.value, translate)) for s in ListingStatus]
    context = {
        "rows": rows,
        "statuses": statuses,
        "values": {"status": status},
        "errors": {},
        "limit": MAX_POOLS_SHOWN,
    }
    return render(request, "pools.html", context)
