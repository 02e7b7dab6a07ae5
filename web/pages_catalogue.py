"""« Catalogue des annonces »: the public catalogue (filters, cards, next page) and one listing's
page, open to visitors; a company member also gets distance bands from one of its own sites."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core.errors import DomainError, RateLimited
from marketplace.catalogue import service as catalogue
from marketplace.catalogue.errors import NoSuchListing
from marketplace.catalogue.search import count_read, public_card, search_page
from marketplace.catalogue.states import ListingStatus
from marketplace.introductions import inbox
from web.cards import card_of
from web.catalogue_form import (
    FIELD_LABELS,
    FILTER_FIELDS,
    ParsedSearch,
    catalogue_url,
    form_choices,
    read_search,
    search_params,
)
from web.forms import domain_errors, explain, place_errors
from web.i18n import Translate, page_locale, page_translator
from web.labels import LISTING_STATUSES, label
from web.pages import own_sites
from web.security import DbSession, OptionalViewer
from web.templating import render

router = APIRouter(include_in_schema=False)


def _error_lines(errors: dict[str, str], translate: Translate) -> list[tuple[str, str]]:
    # Shown above the results too: an HTMX update replaces the results, not the form. A field
    # without a label is not named at all: its parameter's name is English, not a word of the page.
    return [
        (translate(FIELD_LABELS[name]) if name in FIELD_LABELS else "", message)
        for name, message in errors.items()
    ]


@router.get("/catalogue")
def catalogue_page(request: Request, session: DbSession, viewer: OptionalViewer) -> Response:
    locale, translate = page_locale(request), page_translator(request)
    sites = own_sites(session, viewer)
    parsed: ParsedSearch = read_search(request.query_params, bool(sites), translate)
    errors = dict(parsed.errors)
    context: dict[str, Any] = {"cards": [], "next_url": None, "message": "", "save_fields": None}
    status = 200
    if parsed.query is not None:
        try:
            count_read(
                viewer.actor if viewer else None, request.client.host if request.client else None
            )
            page = search_page(session, viewer.actor if viewer else None, parsed.query)
        except RateLimited as exc:
            # Visitors included: a message in place of the results, never a failure.
            status, context["message"] = 429, explain(exc, translate)
        except DomainError as exc:
            errors = place_errors(domain_errors(exc, translate), FILTER_FIELDS)
        else:
            params = search_params(parsed.query)
            context["cards"] = [card_of(item, locale, translate) for item in page.items]
            context["total"], context["more"] = page.total, page.more
            if page.next_cursor:
                context["next_url"] = catalogue_url([*params, ("cursor", page.next_cursor)])
            context["first_url"] = catalogue_url(params) if parsed.query.cursor else None
            context["save_fields"] = search_params(parsed.query, with_sort=False)
            site = parsed.query.from_site
            context["card_query"] = f"?from_site={site}" if site else ""
    if errors:
        status = 422
    context.update(
        values=parsed.values,
        errors=errors,
        error_lines=_error_lines(errors, translate),
        choices=form_choices(locale, translate, sites, bool(sites)),
        may_measure=bool(sites),
    )
    context.setdefault("first_url", None)
    context.setdefault("card_query", "")
    # A history restore asks for the whole page (htmx's cache missed), every other HTMX request
    # for the results alone.
    fragment = request.headers.get("hx-request") and not request.headers.get(
        "hx-history-restore-request"
    )
    template = "_catalogue_results.html" if fragment else "catalogue.html"
    return render(request, template, context, status_code=status)


@router.get("/catalogue/{listing_id}")
def listing_page(
    listing_id: uuid.UUID,
    request: Request,
    session: DbSession,
    viewer: OptionalViewer,
    from_site: uuid.UUID | None = None,
) -> Response:
    """One listing as the catalogue shows it. Not published, brokered only or unknown: one page
    saying it is not available, the same for every such case (its owner and the facilitator
    see its state instead)."""
    count_read(viewer.actor if viewer else None, request.client.host if request.client else None)
    sites = own_sites(session, viewer)
    try:
        listing = public_card(
            session, viewer.actor if viewer else None, listing_id, from_site if sites else None
        )
    except NoSuchListing:
        return _listing_gone(request, session, viewer, listing_id)
    card = card_of(listing, page_locale(request), page_translator(request))
    context: dict[str, Any] = {"card": card, "interest": None}
    actor = viewer.actor if viewer else None
    # « Exprimer un intérêt »: a member's own interest, or the link to the one it has.
    if (
        actor is not None
        and actor.company_id is not None
        and not listing.aggregated
        and not inbox.own_listing(session, actor, listing_id)
    ):
        context["interest"] = {
            "existing": inbox.own_introduction_for_listing(session, actor, listing_id),
            "flows": inbox.own_flows_for(session, actor, listing.direction, listing.kind),
        }
    return render(request, "listing.html", context)


def _listing_gone(
    request: Request, session: DbSession, viewer: OptionalViewer, listing_id: uuid.UUID
) -> Response:
    """The page of a listing the catalogue does not show. To anyone but its owner and the
    facilitator it is one page, byte for byte, whether the listing was withdrawn, expired,
    fulfilled, paused, is brokered only or never existed, and it names nothing of it (not even
    its family or area, which the reader may never have seen): the links go to the whole
    catalogue and to saved searches. Its status is 404, as for an unknown page, and not 410,
    which would tell "it existed"."""
    own = None
    if viewer is not None:
        try:
            own = catalogue.get_listing(session, viewer.actor, listing_id)
        except NoSuchListing:
            own = None
    if own is None:
        return render(request, "listing_gone.html", {"own": None}, status_code=404)
    translate = page_translator(request)
    state = {
        "status": label(LISTING_STATUSES, own.status, translate),
        "brokered_only": own.brokered_only and own.status == ListingStatus.PUBLISHED,
        "waiting": own.waiting and own.status == ListingStatus.PUBLISHED,
        "title": own.title,
    }
    return render(request, "listing_gone.html", {"own": state}, status_code=200)
