"""The public catalogue: search and listing cards, open to anonymous visitors, rate-limited per
client; a signed-in member also gets distance bands from one of its own sites.

Responses come from the catalogue's response cache (marketplace/catalogue/cache.py) when another
request already rendered the same bytes under the current catalogue version; a change shows
within about a second. Hits are sent as they were stored, without validating them again.

Each request is one call in the thread pool, unit of work included, rather than one per
dependency: a cache hit costs little else, and every extra hop between the event loop and the
pool would cost about as much as the hit itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.deps import bearer_token
from api.errors import RATE_LIMITED, UNAUTHORIZED
from core.db import unit_of_work
from marketplace.accounts.errors import TokenNotValid
from marketplace.accounts.service import Actor, actor_for_public_read
from marketplace.catalogue import cache
from marketplace.catalogue.schemas import ListingPublic
from marketplace.catalogue.search import (
    CacheKey,
    CataloguePage,
    CatalogueQuery,
    Origin,
    card_key,
    count_read,
    get_public,
    origin_of,
    page_key,
    search,
)

router = APIRouter(tags=["catalogue"])
PUBLIC = {"x-public": True}
# Public, but a bad token is refused rather than read as anonymous, and reads are budgeted.
ERRORS: dict[int | str, dict[str, object]] = {401: UNAUTHORIZED, 429: RATE_LIMITED}

# What renders a response body, given the request's session and viewer.
Render = Callable[[Session, Actor | None], bytes]


def optional_actor(request: Request, session: Session) -> Actor | None:
    """Anonymous without an Authorization header; a bad or revoked token is still refused (401),
    so a client never silently falls back to the anonymous view. The token check may be up to a
    second stale (accounts.service.actor_for_public_read): these routes read public data only."""
    if "authorization" not in request.headers:
        return None
    actor = actor_for_public_read(session, bearer_token(request))
    if actor is None:
        raise TokenNotValid()
    return actor


def _respond(
    request: Request,
    from_site: uuid.UUID | None,
    key_of: Callable[[Origin | None], CacheKey],
    render: Render,
) -> Response:
    with unit_of_work() as session:
        actor = optional_actor(request, session)
        count_read(actor, request.client.host if request.client else None)  # hits count too
        # On every request, cached or not: it is what entitles this client to from_site's bands.
        origin = origin_of(session, actor, from_site)
        body = cache.serve(session, key_of(origin), lambda: render(session, actor))
    return Response(content=body, media_type="application/json")


@router.get("/catalogue", response_model=CataloguePage, openapi_extra=PUBLIC, responses=ERRORS)
async def search_catalogue(query: Annotated[CatalogueQuery, Query()], request: Request) -> Response:
    """Search the published listings. Unknown parameters are refused: no parameter takes a position;
    distances start from `from_site`, one of your own sites, and show as bands."""

    def render(session: Session, actor: Actor | None) -> bytes:
        return search(session, actor, query).model_dump_json().encode()

    key = lambda origin: page_key(query, origin)  # noqa: E731
    return await run_in_threadpool(_respond, request, query.from_site, key, render)


@router.get(
    "/catalogue/{listing_id}", response_model=ListingPublic, openapi_extra=PUBLIC, responses=ERRORS
)
async def get_catalogue_listing(
    listing_id: uuid.UUID, request: Request, from_site: uuid.UUID | None = None
) -> Response:
    """One published listing's card; with `from_site` (signed in), its distance band."""

    def render(session: Session, actor: Actor | None) -> bytes:
        return get_public(session, actor, listing_id, from_site).model_dump_json().encode()

    key = lambda origin: card_key(listing_id, origin)  # noqa: E731
    return await run_in_threadpool(_respond, request, from_site, key, render)
