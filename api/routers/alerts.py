"""Saved searches and the notifications they bring: save a catalogue search, list, delete; read
one's alerts and mark them read."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from api.deps import ActorDep, SessionDep
from marketplace.alerts import service
from marketplace.alerts.models import SavedSearch
from marketplace.alerts.schemas import NotificationRead, SavedSearchCreate, SavedSearchRead

router = APIRouter(tags=["alerts"])


def _read(search: SavedSearch) -> SavedSearchRead:
    return SavedSearchRead(
        id=search.id,
        name=search.name,
        filters=search.filters,
        email_alerts=search.email_alerts,
        created_at=search.created_at,
    )


@router.get("/saved-searches", response_model=list[SavedSearchRead])
def list_saved_searches(session: SessionDep, actor: ActorDep) -> list[SavedSearchRead]:
    return [_read(s) for s in service.list_searches(session, actor)]


@router.post("/saved-searches", response_model=SavedSearchRead, status_code=201)
def save_search(body: SavedSearchCreate, session: SessionDep, actor: ActorDep) -> SavedSearchRead:
    """Save catalogue filters (those of the catalogue search, without cursor, limit or sort): a
    new or changed listing that fits them notifies you in the app and, if asked, by e-mail."""
    search = service.save_search(
        session, actor, body.name, body.filters, email_alerts=body.email_alerts
    )
    return _read(search)


@router.delete("/saved-searches/{search_id}", status_code=204)
def delete_saved_search(search_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> Response:
    service.delete_search(session, actor, search_id)
    return Response(status_code=204)


@router.get("/notifications", response_model=list[NotificationRead])
def list_notifications(
    session: SessionDep, actor: ActorDep, unread: bool = False
) -> list[NotificationRead]:
    """Your latest alerts, newest first; `unread=true` keeps those not yet read."""
    return service.list_notifications(session, actor, unread_only=unread)


@router.post("/notifications/{notification_id}/read", response_model=NotificationRead)
def mark_read(notification_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> NotificationRead:
    return service.mark_read(session, actor, notification_id)
