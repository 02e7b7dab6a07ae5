"""« Mes annonces »: publish a flow through a preview of exactly the card others will see, then
pause, resume, withdraw or mark fulfilled. The facilitator sees every listing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from marketplace.accounts.service import Actor
from marketplace.catalogue import service
from marketplace.catalogue.models import Listing
from marketplace.catalogue.states import ListingStatus
from web.cards import Card, card_of, run_label
from web.forms import explain
from web.i18n import page_locale, page_translator
from web.labels import LISTING_STATUSES, label
from web.security import SIGNED_IN_PAGES, CurrentViewer, DbSession
from web.templating import render

router = APIRouter(include_in_schema=False, dependencies=SIGNED_IN_PAGES)

Action = Callable[[Session, Actor, Listing], Listing]
# Any other word in the path is a page that does not exist (404).
ActionName = Literal["pause", "resume", "withdraw", "fulfil"]
# The buttons of « Mes annonces »: what each does, and the notice shown afterwards.
ACTIONS: dict[str, tuple[Action, str]] = {
    "pause": (service.pause, "listing-paused"),
    "resume": (service.resume, "listing-resumed"),
    "withdraw": (service.withdraw, "listing-withdrawn"),
    "fulfil": (service.fulfil, "listing-fulfilled"),
}
# Which buttons a status offers (the state machine refuses the others anyway).
ACTIONS_BY_STATUS: dict[str, tuple[str, ...]] = {
    ListingStatus.DRAFT: ("withdraw",),
    ListingStatus.PUBLISHED: ("pause", "fulfil", "withdraw"),
    ListingStatus.PAUSED: ("resume", "fulfil", "withdraw"),
}


@router.post("/flows/{flow_id}/publish")
def create_draft(flow_id: uuid.UUID, session: DbSession, viewer: CurrentViewer) -> Response:
    """« Publier » on a flow: a draft, then its preview; nothing is public before confirming."""
    existing = service.live_listings(session, [flow_id]).get(flow_id)
    if existing is not None:
        # A second click, or another tab: go to the listing already there.
        service.get_listing(session, viewer.actor, existing.id)
        target = f"/listings/{existing.id}/preview" if existing.status == "draft" else "/listings"
        return RedirectResponse(target, status_code=303)
    listing = service.create_listing(session, viewer.actor, flow_id)
    return RedirectResponse(f"/listings/{listing.id}/preview", status_code=303)


@router.get("/listings/{listing_id}/preview")
def preview_page(
    listing_id: uuid.UUID, request: Request, session: DbSession, viewer: CurrentViewer
) -> Response:
    listing = service.get_listing(session, viewer.actor, listing_id)
    if listing.status != ListingStatus.DRAFT:
        return RedirectResponse("/listings", status_code=303)
    public, placement = service.preview_view(session, listing)
    locale = page_locale(request)
    card = card_of(public, locale, page_translator(request))
    next_run = run_label(service.next_publication_at(), locale) if placement == "waiting" else None
    return render(
        request, "listing_preview.html", {"card": card, "next_run": next_run, "id": listing.id}
    )


@router.post("/listings/{listing_id}/publish")
def publish(listing_id: uuid.UUID, session: DbSession, viewer: CurrentViewer) -> Response:
    listing = service.get_listing(session, viewer.actor, listing_id)
    service.publish(session, viewer.actor, listing)
    return RedirectResponse("/listings?notice=listing-published", status_code=303)


@router.post("/listings/{listing_id}/{action}")
def change(
    listing_id: uuid.UUID, action: ActionName, session: DbSession, viewer: CurrentViewer
) -> Response:
    listing = service.get_listing(session, viewer.actor, listing_id)
    step, notice = ACTIONS[action]
    step(session, viewer.actor, listing)
    return RedirectResponse(f"/listings?notice={notice}", status_code=303)


@dataclass(frozen=True)
class ListingRow:
    id: uuid.UUID
    status: str
    status_label: str
    draft: bool
    brokered_only: bool
    # Published, waiting for the next publication run: when it is (else None).
    next_run: str | None
    card: Card
    actions: tuple[str, ...]
    # Paused because its text now names the company: what to rewrite in the flow (translated).
    rewrite: str | None = None
    flow_id: uuid.UUID | None = None


@router.get("/listings")
def listings_page(request: Request, session: DbSession, viewer: CurrentViewer) -> Response:
    locale, translate = page_locale(request), page_translator(request)
    rows = []
    for listing in service.list_own(session, viewer.actor):
        view = service.owner_view(session, listing)
        rows.append(
            ListingRow(
                id=view.id,
                status=view.status,
                status_label=label(LISTING_STATUSES, view.status, translate),
                draft=view.status == ListingStatus.DRAFT,
                brokered_only=view.brokered_only,
                next_run=run_label(view.next_publication_at, locale)
                if view.next_publication_at
                else None,
                card=card_of(view.public, locale, translate),
                actions=ACTIONS_BY_STATUS.get(view.status, ()),
                rewrite=explain(view.rewrite, translate) if view.rewrite else None,
                flow_id=view.flow_id,
            )
        )
    return render(request, "listings.html", {"rows": rows, "staff": viewer.actor.is_staff})
