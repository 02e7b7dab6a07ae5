"""« Mon entreprise »: the company's identity, read by its members, edited by its administrator."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from marketplace.catalogue.service import company_names_changed
from marketplace.companies.errors import IdentityAdminOnly
from marketplace.companies.schemas import CompanyRead, CompanyUpdate
from marketplace.companies.service import read_company, update_company
from web.forms import (
    FieldErrors,
    SubmittedForm,
    form_errors,
    optional_text,
    place_errors,
    text,
)
from web.i18n import page_translator
from web.labels import SIZE_CLASSES, label
from web.security import COMPANY_PAGES, CurrentViewer, DbSession, Viewer, own_company
from web.templating import render

router = APIRouter(include_in_schema=False, dependencies=COMPANY_PAGES)

MAX_CONTACTS = 20
CONTACT_PARTS = ("name", "email", "phone", "role")
IDENTITY_FIELDS = ("legal_name", "address", "nace", "size_class", "brands")


def _require_admin(viewer: Viewer) -> None:
    if not viewer.actor.is_company_admin:
        raise IdentityAdminOnly()


@router.get("/company")
def company_page(request: Request, session: DbSession, viewer: CurrentViewer) -> Response:
    company = read_company(session, viewer.actor, own_company(session, viewer))
    translate = page_translator(request)
    return render(
        request,
        "company.html",
        {
            "company": company,
            "size": label(SIZE_CLASSES, company.size_class, translate),
            "may_edit": viewer.actor.is_company_admin,
        },
    )


def _form_of(company: CompanyRead) -> dict[str, Any]:
    return {
        "legal_name": company.legal_name,
        "address": company.address,
        "nace": company.nace,
        "size_class": company.size_class,
        "brands": "\n".join(company.brands),
        "contacts": [c.model_dump() for c in company.contacts],
    }


def _edit_page(
    request: Request, company: CompanyRead, values: dict[str, Any], errors: FieldErrors
) -> Response:
    translate = page_translator(request)
    # The rows filled in, then one empty row to add a contact.
    contacts = [*values["contacts"][: MAX_CONTACTS - 1], dict.fromkeys(CONTACT_PARTS, "")]
    return render(
        request,
        "company_form.html",
        {
            "company": company,
            "values": values,
            "contacts": contacts,
            "errors": errors,
            "sizes": [(code, translate(word)) for code, word in SIZE_CLASSES.items()],
        },
        status_code=422 if errors else 200,
    )


@router.get("/company/edit")
def edit_company_page(request: Request, session: DbSession, viewer: CurrentViewer) -> Response:
    _require_admin(viewer)
    company = read_company(session, viewer.actor, own_company(session, viewer))
    return _edit_page(request, company, _form_of(company), {})


def _contacts_of(form: FormData) -> list[dict[str, str | None]]:
    """The contact rows that were filled in, in order; an empty row is no contact."""
    contacts = []
    for index in range(MAX_CONTACTS):
        row = {part: optional_text(form, f"contact_{part}_{index}") for part in CONTACT_PARTS}
        if any(row.values()):
            contacts.append(row)
    return contacts


@router.post("/company/edit")
def edit_company(
    request: Request, session: DbSession, viewer: CurrentViewer, form: SubmittedForm
) -> Response:
    _require_admin(viewer)
    company = own_company(session, viewer)
    contacts = _contacts_of(form)
    values: dict[str, Any] = {name: text(form, name) for name in IDENTITY_FIELDS}
    values["contacts"] = contacts
    translate = page_translator(request)
    # Nothing of a refused change may reach the commit at the end of the request.
    with form_errors(session, translate) as errors:
        update = CompanyUpdate.model_validate(
            {
                "legal_name": values["legal_name"],
                "address": values["address"],
                "nace": values["nace"],
                "size_class": values["size_class"] or None,
                "brands": [b.strip() for b in values["brands"].splitlines() if b.strip()],
                "contacts": contacts,
            }
        )
        update_company(session, viewer.actor, company, update)
        company_names_changed(session, company.id)
    if not errors:
        return RedirectResponse("/company?notice=company-saved", status_code=303)
    shown = [*IDENTITY_FIELDS] + [
        f"contacts.{i}.{part}" for i in range(len(contacts)) for part in CONTACT_PARTS
    ]
    current = read_company(session, viewer.actor, company)
    return _edit_page(request, current, values, place_errors(errors, shown))
