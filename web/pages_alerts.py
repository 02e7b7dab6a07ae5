"""« Mes recherches enregistrées » and « Alertes »: save the catalogue's current filters, list and
delete saved searches, read the alerts they bring and mark them read."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from core.errors import DomainError
from marketplace.alerts import service as alerts
from web.cards import Card, card_of, date_label
from web.catalogue_form import FILTER_FIELDS, catalogue_url, describe, param_text
from web.forms import SubmittedForm, checked, explain, text
from web.i18n import page_locale, page_translator
from web.pages import own_sites
from web.security import SIGNED_IN_PAGES, CurrentViewer, DbSession
from web.templating import render

router = APIRouter(include_in_schema=False, dependencies=SIGNED_IN_PAGES)


@dataclass(frozen=True)
class SavedSearchRow:
    id: uuid.UUID
    name: str
    filters: list[tuple[str, str]]
    email_alerts: bool
    url: str
    created_on: str


@router.get("/saved-searches")
def saved_searches_page(request: Request, session: DbSession, viewer: CurrentViewer) -> Response:
    return _searches_page(request, session, viewer, error="")


def _searches_page(
    request: Request, session: DbSession, viewer: CurrentViewer, error: str
) -> Response:
    locale, translate = page_locale(request), page_translator(request)
    sites = dict(own_sites(session, viewer))
    rows = [
        SavedSearchRow(
            id=search.id,
            name=search.name,
            filters=describe(search.filters, locale, translate, sites),
            email_alerts=search.email_alerts,
            url=catalogue_url([(k, param_text(v)) for k, v in search.filters.items()]),
            created_on=date_label(search.created_at.date(), locale),
        )
        for search in alerts.list_searches(session, viewer.actor)
    ]
    status = 422 if error else 200
    return render(
        request, "saved_searches.html", {"rows": rows, "error": error}, status_code=status
    )


@router.post("/saved-searches")
def save_search(
    request: Request, session: DbSession, viewer: CurrentViewer, form: SubmittedForm
) -> Response:
    """The catalogue's « Enregistrer cette recherche »: its filters come as hidden fields."""
    filters = {name: text(form, name) for name in FILTER_FIELDS if text(form, name)}
    try:
        alerts.save_search(
            session,
            viewer.actor,
            text(form, "name"),
            filters,
            email_alerts=checked(form, "email_alerts"),
        )
    except DomainError as exc:
        if exc.status_code == 403:
            raise
        session.rollback()
        return _searches_page(request, session, viewer, explain(exc, page_translator(request)))
    return RedirectResponse("/saved-searches?notice=search-saved", status_code=303)


@router.post("/saved-searches/{search_id}/delete")
def delete_search(search_id: uuid.UUID, session: DbSession, viewer: CurrentViewer) -> Response:
    alerts.delete_search(session, viewer.actor, search_id)
    return RedirectResponse("/saved-searches?notice=search-deleted", status_code=303)


@dataclass(frozen=True)
class NotificationRow:
    id: uuid.UUID
    search_name: str
    received_on: str
    unread: bool
    card: Card | None  # None once the listing has left the catalogue


@router.get("/notifications")
def notifications_page(request: Request, session: DbSession, viewer: CurrentViewer) -> Response:
    locale, translate = page_locale(request), page_translator(request)
    rows = [
        NotificationRow(
            id=n.id,
            search_name=n.saved_search_name,
            received_on=date_label(n.created_at.date(), locale),
            unread=n.read_at is None,
            card=card_of(n.listing, locale, translate) if n.listing else None,
        )
        for n in alerts.list_notifications(session, viewer.actor)
    ]
    return render(request, "notifications.html", {"rows": rows})


@router.post("/notifications/{notification_id}/read")
def mark_read(notification_id: uuid.UUID, session: DbSession, viewer: CurrentViewer) -> Response:
    alerts.mark_read(session, viewer.actor, notification_id)
    return RedirectResponse("/notifications", status_code=303)
