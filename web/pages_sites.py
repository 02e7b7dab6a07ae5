"""« Mes sites »: the company's sites; the département and région follow from the position."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from core import ratelimit
from core.addresses import MAX_QUERY_CHARS, MIN_QUERY_CHARS, AddressSearchFailed, address_search
from core.errors import DomainError, RateLimited
from core.reference.map_svg import (
    OVERSEAS_CODES,
    departement_map,
    departement_names,
    metropole_map,
)
from marketplace.catalogue.service import company_names_changed
from marketplace.companies.models import Site
from marketplace.companies.schemas import (
    ICPE_REGIMES,
    Latitude,
    Longitude,
    SiteCreate,
    SiteRead,
    SiteUpdate,
)
from marketplace.companies.service import (
    create_site,
    get_site,
    list_sites,
    place,
    read_site,
    update_site,
)
from marketplace.reference.service import place_names, place_of
from web.errors import error_page
from web.forms import (
    FieldErrors,
    SubmittedForm,
    checked,
    domain_errors,
    explain,
    form_errors,
    number,
    optional_text,
    place_errors,
    text,
    validation_errors,
)
from web.i18n import N_, Translate, page_translator
from web.labels import ICPE_REGIME_LABELS
from web.security import COMPANY_PAGES, CurrentViewer, DbSession, Viewer, own_company
from web.templating import render

router = APIRouter(include_in_schema=False, dependencies=COMPANY_PAGES)

SITE_FIELDS = ("name", "latitude", "longitude", "commune")
PERMIT_FLAGS = (
    "receives_non_hazardous_waste",
    "receives_hazardous_waste",
    "animal_by_products_approved",
)
FORM_FIELDS = (*SITE_FIELDS, "icpe_regime", *PERMIT_FLAGS)
assert set(ICPE_REGIME_LABELS) == set(ICPE_REGIMES)


def icpe_options(translate: Translate) -> list[tuple[str, str]]:
    return [(regime, translate(ICPE_REGIME_LABELS[regime])) for regime in ICPE_REGIMES]


@router.get("/sites")
def sites_page(request: Request, session: DbSession, viewer: CurrentViewer) -> Response:
    company = own_company(session, viewer)
    sites = [read_site(company, s) for s in list_sites(session, viewer.actor)]
    departements, regions = place_names(session)
    return render(
        request,
        "sites.html",
        {"sites": sites, "departements": departements, "regions": regions},
    )


def _form_page(
    request: Request,
    session: DbSession,
    *,
    site: SiteRead | None,
    values: dict[str, Any],
    errors: FieldErrors,
) -> Response:
    place = None
    if site is not None:
        place = place_of(session, site.departement_code, site.region_code)
    return render(
        request,
        "site_form.html",
        {
            "site": site,
            "place": place,
            "values": values,
            "errors": errors,
            "icpe_options": icpe_options(page_translator(request)),
            "site_map": metropole_map(),
            "overseas": [(code, departement_names()[code]) for code in OVERSEAS_CODES],
            "address_search": address_search() is not None,
            "address_min_chars": MIN_QUERY_CHARS,
            "address_max_chars": MAX_QUERY_CHARS,
        },
        status_code=422 if errors else 200,
    )


def _submitted(form: SubmittedForm) -> dict[str, Any]:
    return {
        "name": text(form, "name"),
        "latitude": number(form, "latitude"),
        "longitude": number(form, "longitude"),
        "commune": text(form, "commune"),
        # Left blank: not declared.
        "icpe_regime": optional_text(form, "icpe_regime"),
        **{flag: checked(form, flag) for flag in PERMIT_FLAGS},
    }


def _save(
    request: Request, session: DbSession, viewer: Viewer, form: SubmittedForm, site: Site | None
) -> Response:
    company = own_company(session, viewer)
    values = _submitted(form)
    translate = page_translator(request)
    # update_site changes the row before it checks the position: nothing of it may be kept.
    with form_errors(session, translate) as errors:
        # The whole form is checked as a creation, so an emptied field is refused on an edit
        # too rather than silently keeping its old value.
        data = SiteCreate.model_validate(
            {k: v for k, v in values.items() if v is not None or k == "icpe_regime"}
        )
        if site is None:
            create_site(session, viewer.actor, company, data)
            company_names_changed(session, company.id)
        else:
            update_site(session, viewer.actor, site, SiteUpdate(**data.model_dump()))
            company_names_changed(session, company.id, site.id)
    if not errors:
        return RedirectResponse("/sites?notice=site-saved", status_code=303)
    current = read_site(company, site) if site is not None else None
    return _form_page(
        request, session, site=current, values=values, errors=place_errors(errors, FORM_FIELDS)
    )


@router.get("/sites/new")
def new_site_page(request: Request, session: DbSession) -> Response:
    return _form_page(request, session, site=None, values={}, errors={})


@router.post("/sites/new")
def new_site(
    request: Request, session: DbSession, viewer: CurrentViewer, form: SubmittedForm
) -> Response:
    return _save(request, session, viewer, form, None)


@router.get("/sites/{site_id}/edit")
def edit_site_page(
    site_id: uuid.UUID, request: Request, session: DbSession, viewer: CurrentViewer
) -> Response:
    site = get_site(session, viewer.actor, site_id)
    current = read_site(own_company(session, viewer), site)
    values = {name: getattr(current, name) for name in FORM_FIELDS}
    return _form_page(request, session, site=current, values=values, errors={})


@router.post("/sites/{site_id}/edit")
def edit_site(
    site_id: uuid.UUID,
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    form: SubmittedForm,
) -> Response:
    site = get_site(session, viewer.actor, site_id)
    return _save(request, session, viewer, form, site)


# --- the map, the département checked on the fly, the address search --------------------------
# Positions and addresses travel in POST bodies, never in a URL: access logs quote URLs, and a
# site's exact position and address are sealed identity data.

ADDRESS_SEARCHES_PER_MINUTE = 30


_FIELD_NAMES = {"latitude": N_("Latitude"), "longitude": N_("Longitude")}


class _Position(BaseModel):
    latitude: Latitude
    longitude: Longitude


@router.get("/sites/map/{code}")
def departement_map_fragment(code: str, request: Request) -> Response:
    """One département alone, for a finer placement (an HTMX fragment of the site form)."""
    # Known codes only reach the cache, so made-up ones cannot evict the real maps.
    if code not in departement_names() or (drawn := departement_map(code)) is None:
        return error_page(request, 404)
    return render(request, "_site_map_zoom.html", {"zoom_map": drawn, "code": code})


@router.post("/sites/place")
def site_place(request: Request, session: DbSession, form: SubmittedForm) -> Response:
    """The département and région a position falls in, by the rule the site's save applies. A
    refusal is an answer too (200, the message in place of the place): the position is only
    being tried, and the save will refuse it with its 422."""
    translate = page_translator(request)
    raw = {"latitude": number(form, "latitude"), "longitude": number(form, "longitude")}
    context: dict[str, Any] = {"place": None, "message": ""}
    if raw["latitude"] is None or raw["longitude"] is None:
        context["message"] = translate(N_("Type a latitude and a longitude, or click the map."))
        return render(request, "_site_place.html", context)
    try:
        position = _Position.model_validate(raw)
        departement_code, region_code, _ = place(position.latitude, position.longitude)
    except ValidationError as exc:
        errors = validation_errors(exc, translate)
        context["message"] = " ".join(
            translate(N_("%(field)s: %(reason)s"), field=translate(_FIELD_NAMES[key]), reason=why)
            for key, why in errors.items()
            if key in _FIELD_NAMES
        )
        return render(request, "_site_place.html", context)
    except DomainError as exc:
        context["message"] = " ".join(domain_errors(exc, translate).values())
        return render(request, "_site_place.html", context)
    departement, region = place_of(session, departement_code, region_code)
    context["place"] = {"code": departement_code, "departement": departement, "region": region}
    return render(request, "_site_place.html", context)


@router.post("/sites/address")
def address_suggestions(request: Request, viewer: CurrentViewer, form: SubmittedForm) -> Response:
    """Suggestions of the national address service for the address typed; 404 when the
    deployment has none. Our server asks it, so the member's browser never talks to it."""
    gateway = address_search()
    if gateway is None:
        return error_page(request, 404)
    translate = page_translator(request)
    query = " ".join(text(form, "address").split())[:MAX_QUERY_CHARS]
    context: dict[str, Any] = {"suggestions": [], "message": ""}
    if len(query) < MIN_QUERY_CHARS:
        return render(request, "_site_addresses.html", context)
    try:
        ratelimit.hit(f"address:{viewer.actor.user_id}", ADDRESS_SEARCHES_PER_MINUTE)
        context["suggestions"] = gateway.search(query)
    except RateLimited as exc:
        context["message"] = explain(exc, translate)
        return render(request, "_site_addresses.html", context, status_code=429)
    except AddressSearchFailed:
        context["message"] = translate(
            N_("The address service does not answer: type the coordinates or click the map.")
        )
        return render(request, "_site_addresses.html", context)
    if not context["suggestions"]:
        context["message"] = translate(N_("No address found."))
    return render(request, "_site_addresses.html", context)
