"""« Mes flux »: the company's offers and requests (list, declare, edit, withdraw), LoW picker."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from core.errors import Conflict
from core.inputs import SearchWords
from core.reference.models import LowCode
from core.text import collation_key
from marketplace.catalogue.service import live_listings
from marketplace.companies.models import Company
from marketplace.companies.service import list_sites, site_name
from marketplace.flows.errors import NoSuchLowCode, WithdrawnFlowNotEdited
from marketplace.flows.models import Direction, FlowStatus, Kind
from marketplace.flows.schemas import FlowCreate, FlowFields, FlowRead, FlowUpdate
from marketplace.flows.service import (
    compact_low_code,
    create_flow,
    get_flow,
    list_flows,
    read_flow,
    update_flow,
    withdraw_flow,
)
from marketplace.flows.units import units_for
from marketplace.matching.low_codes import find_low_codes
from marketplace.reference.service import list_operations, low_codes_by_code
from web.flow_form import (
    DEFAULTS,
    FORM_FIELDS,
    applies,
    css_scope,
    form_values,
    submitted_fields,
    values_of,
)
from web.forms import (
    FieldErrors,
    SubmittedForm,
    form_errors,
    place_errors,
    text,
)
from web.i18n import Translate, page_locale, page_translator
from web.labels import (
    BASE_UNITS,
    DIRECTIONS,
    KINDS,
    PERIODS,
    PHYSICAL_STATES,
    PRECISIONS,
    REGULARITIES,
    label,
    month_names,
    rate,
)
from web.security import COMPANY_PAGES, CurrentViewer, DbSession, Viewer, own_company
from web.templating import format_number, render

router = APIRouter(include_in_schema=False, dependencies=COMPANY_PAGES)

LOW_SEARCH_LIMIT = 15


@dataclass(frozen=True)
class LowOption:
    code: str  # compact, "100102"
    spaced: str  # "10 01 02"
    label: str
    hazardous: bool


@dataclass(frozen=True)
class FlowRow:
    id: uuid.UUID
    direction: str
    is_offer: bool
    kind: str
    label: str
    low: LowOption | None
    hazardous: bool
    declared: str
    normalised: str
    site: str
    withdrawn: bool
    listing_id: uuid.UUID | None = None  # its live listing, if it has one
    listing_draft: bool = False


def _low_option(entry: LowCode, locale: str) -> LowOption:
    text_ = entry.description_fr if locale == "fr" else entry.description_en
    return LowOption(entry.code, entry.spaced, text_, entry.hazardous)


def _low_options(session: Session, codes: Iterable[str], locale: str) -> dict[str, LowOption]:
    """The labels of the codes on a page, in one query (reference data, public)."""
    return {row.code: _low_option(row, locale) for row in low_codes_by_code(session, codes)}


def _site_names(session: Session, viewer: Viewer, company: Company) -> dict[uuid.UUID, str]:
    return {s.id: site_name(company, s) for s in list_sites(session, viewer.actor)}


def _row(
    flow: FlowRead,
    sites: dict[uuid.UUID, str],
    lows: dict[str, LowOption],
    locale: str,
    translate: Translate,
) -> FlowRow:
    declared = f"{format_number(flow.quantity, locale)} {rate(flow.unit, flow.period, translate)}"
    normalised = (
        f"{format_number(flow.quantity_per_year, locale)} "
        f"{label(BASE_UNITS, flow.base_unit, translate)}"
    )
    return FlowRow(
        id=flow.id,
        direction=label(DIRECTIONS, flow.direction, translate),
        is_offer=flow.direction == Direction.OFFER,
        kind=label(KINDS, flow.kind, translate),
        label=flow.label,
        low=lows.get(flow.low_code) if flow.low_code else None,
        hazardous=flow.hazardous,
        declared=declared,
        normalised=normalised,
        site=sites.get(flow.site_id, ""),
        withdrawn=flow.status == FlowStatus.WITHDRAWN,
    )


@router.get("/flows")
def flows_page(
    request: Request, session: DbSession, viewer: CurrentViewer, withdrawn: bool = False
) -> Response:
    locale, translate = page_locale(request), page_translator(request)
    company = own_company(session, viewer)
    flows = [read_flow(f) for f in list_flows(session, viewer.actor, include_withdrawn=withdrawn)]
    lows = _low_options(session, (f.low_code for f in flows if f.low_code), locale)
    sites = _site_names(session, viewer, company)
    listings = live_listings(session, (f.id for f in flows))
    rows = []
    for flow in flows:
        row = _row(flow, sites, lows, locale, translate)
        listing = listings.get(flow.id)
        if listing is not None:
            row = replace(row, listing_id=listing.id, listing_draft=listing.status == "draft")
        rows.append(row)
    return render(
        request,
        "flows.html",
        {"rows": rows, "show_withdrawn": withdrawn, "has_sites": bool(sites)},
    )


def _choices(table: dict[Any, str], translate: Translate) -> list[tuple[str, str]]:
    return [(str(code), translate(word)) for code, word in table.items()]


def _form_page(
    request: Request,
    session: Session,
    viewer: Viewer,
    *,
    flow: FlowRead | None,
    values: dict[str, Any],
    errors: FieldErrors,
) -> Response:
    locale, translate = page_locale(request), page_translator(request)
    company = own_company(session, viewer)
    sites = _site_names(session, viewer, company)
    code = compact_low_code(str(values.get("low_code") or ""))
    low = _low_options(session, [code], locale).get(code)
    units = units_for(flow.kind) if flow else sorted({u for k in Kind for u in units_for(k)})

    def shows(field: str) -> bool:
        return flow is None or applies(field, flow.direction, flow.kind)

    context = {
        "flow": flow,
        "values": {**DEFAULTS, **values},
        "errors": errors,
        "sites": sorted(((str(i), n) for i, n in sites.items()), key=lambda s: collation_key(s[1])),
        "low": low,
        "directions": _choices(DIRECTIONS, translate),
        "kinds": _choices(KINDS, translate),
        "periods": _choices(PERIODS, translate),
        "regularities": _choices(REGULARITIES, translate),
        "states": _choices(PHYSICAL_STATES, translate),
        "precisions": _choices(PRECISIONS, translate),
        "months": list(month_names(locale).items()),
        "units": units,
        "operations": list_operations(session),
        "shows": shows,
        "scope": css_scope if flow is None else (lambda _field: ""),
        "direction_label": label(DIRECTIONS, flow.direction, translate) if flow else "",
        "kind_label": label(KINDS, flow.kind, translate) if flow else "",
    }
    return render(request, "flow_form.html", context, status_code=422 if errors else 200)


@router.get("/flows/new")
def new_flow_page(request: Request, session: DbSession, viewer: CurrentViewer) -> Response:
    return _form_page(request, session, viewer, flow=None, values={}, errors={})


@router.post("/flows/new")
def new_flow(
    request: Request, session: DbSession, viewer: CurrentViewer, form: SubmittedForm
) -> Response:
    translate = page_translator(request)
    direction, kind = text(form, "direction"), text(form, "kind")
    head = {"site_id": text(form, "site_id"), "direction": direction, "kind": kind}
    with form_errors(session, translate) as errors:
        data = FlowCreate.model_validate(
            {**submitted_fields(form, direction, kind), **{k: v for k, v in head.items() if v}}
        )
        create_flow(session, viewer.actor, data)
    if not errors:
        return RedirectResponse("/flows?notice=flow-saved", status_code=303)
    return _form_page(
        request,
        session,
        viewer,
        flow=None,
        values=form_values(form),
        errors=place_errors(errors, FORM_FIELDS),
    )


@router.get("/flows/{flow_id}/edit")
def edit_flow_page(
    flow_id: uuid.UUID, request: Request, session: DbSession, viewer: CurrentViewer
) -> Response:
    flow = read_flow(get_flow(session, viewer.actor, flow_id))
    if flow.status == FlowStatus.WITHDRAWN:
        raise WithdrawnFlowNotEdited()
    return _form_page(
        request, session, viewer, flow=flow, values=values_of(flow, page_locale(request)), errors={}
    )


@router.post("/flows/{flow_id}/edit")
def edit_flow(
    flow_id: uuid.UUID,
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    form: SubmittedForm,
) -> Response:
    translate = page_translator(request)
    flow = get_flow(session, viewer.actor, flow_id)
    # update_flow may have moved the flow to another site before a rule refused the rest.
    with form_errors(session, translate) as errors:
        fields = FlowFields.model_validate(submitted_fields(form, flow.direction, flow.kind))
        # Every field is sent, so a field emptied on the form is emptied in the flow.
        update = FlowUpdate.model_validate(
            {**fields.model_dump(), "site_id": text(form, "site_id") or None}
        )
        update_flow(session, viewer.actor, flow, update)
    if not errors:
        return RedirectResponse("/flows?notice=flow-saved", status_code=303)
    values = {**form_values(form), "direction": flow.direction.value, "kind": flow.kind.value}
    return _form_page(
        request,
        session,
        viewer,
        flow=read_flow(flow),
        values=values,
        errors=place_errors(errors, FORM_FIELDS),
    )


@router.get("/flows/{flow_id}/withdraw")
def withdraw_flow_page(
    flow_id: uuid.UUID, request: Request, session: DbSession, viewer: CurrentViewer
) -> Response:
    flow = get_flow(session, viewer.actor, flow_id)
    if flow.status == FlowStatus.WITHDRAWN:
        return RedirectResponse("/flows", status_code=303)
    return render(request, "flow_withdraw.html", {"flow": read_flow(flow)})


@router.post("/flows/{flow_id}/withdraw")
def withdraw(flow_id: uuid.UUID, session: DbSession, viewer: CurrentViewer) -> Response:
    # Withdrawn already (a second click, another tab) is what the member asked for.
    with suppress(Conflict):
        withdraw_flow(session, viewer.actor, get_flow(session, viewer.actor, flow_id))
    return RedirectResponse("/flows?notice=flow-withdrawn", status_code=303)


# --- the List of Waste picker (HTMX fragments) ----------------------------------------------------

SearchText = Annotated[SearchWords, Query()]


@router.get("/low-codes/search")
def low_code_search(request: Request, session: DbSession, q: SearchText = "") -> Response:
    locale = page_locale(request)
    rows = find_low_codes(session, q, limit=LOW_SEARCH_LIMIT) if len(q.strip()) >= 2 else []
    options = [_low_option(row, locale) for row in rows]
    return render(request, "_low_options.html", {"options": options, "query": q.strip()})


@router.get("/low-codes/pick")
def low_code_pick(request: Request, session: DbSession, code: SearchText = "") -> Response:
    compact = compact_low_code(code)
    low = _low_options(session, [compact], page_locale(request)).get(compact)
    if low is None:
        raise NoSuchLowCode()
    return render(
        request,
        "_low_code_field.html",
        {"low": low, "value": low.spaced, "error": "", "clear_options": True},
    )
