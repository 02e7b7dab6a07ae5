"""« Mes sites »: the company's sites; the département and région follow from the position."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from marketplace.catalogue.service import company_names_changed
from marketplace.companies.models import Site
from marketplace.companies.schemas import ICPE_REGIMES, SiteCreate, SiteRead, SiteUpdate
from marketplace.companies.service import (
    create_site,
    get_site,
    list_sites,
    read_site,
    update_site,
)
from marketplace.reference.service import place_names, place_of
from web.forms import (
    FieldErrors,
    SubmittedForm,
    checked,
    form_errors,
    number,
    optional_text,
    place_errors,
    text,
)
from web.i18n import Translate, page_translator
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
