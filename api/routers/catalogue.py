"""The public catalogue: search and listing cards, open to anonymous visitors, rate-limited per
client; a signed-in member also gets distance bands from one of its own sites."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from api.deps import SessionDep, current_user
from core import ratelimit
from core.settings import get_settings
from marketplace.accounts.service import Actor, actor_of
from marketplace.catalogue.schemas import ListingPublic
from marketplace.catalogue.search import CataloguePage, CatalogueQuery, get_public, search

router = APIRouter(tags=["catalogue"])
PUBLIC = {"x-public": True}


def optional_actor(request: Request, session: SessionDep) -> Actor | None:
    """Anonymous without an Authorization header; a bad or revoked token is still refused (401),
    so a client never silently falls back to the anonymous view."""
    if "authorization" not in request.headers:
        return None
    return actor_of(current_user(request, session))


OptionalActorDep = Annotated[Actor | None, Depends(optional_actor)]


def _count_request(request: Request, actor: Actor | None) -> None:
    # A signed-in client is counted by user, wherever it connects from; others by address (behind
    # a proxy, run uvicorn with --proxy-headers so this is the client's, not the proxy's).
    if actor is not None:
        client = f"user:{actor.user_id}"
    else:
        client = f"ip:{request.client.host if request.client else 'unknown'}"
    ratelimit.hit(f"catalogue:{client}", get_settings().search_rate_per_minute)


@router.get("/catalogue", response_model=CataloguePage, openapi_extra=PUBLIC)
def search_catalogue(
    query: Annotated[CatalogueQuery, Query()],
    request: Request,
    session: SessionDep,
    actor: OptionalActorDep,
) -> CataloguePage:
    """Search the published listings. Unknown parameters are refused: no parameter takes a position;
    distances start from `from_site`, one of your own sites, and show as bands."""
    _count_request(request, actor)
    return search(session, actor, query)


@router.get("/catalogue/{listing_id}", response_model=ListingPublic, openapi_extra=PUBLIC)
def get_catalogue_listing(
    listing_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    actor: OptionalActorDep,
    from_site: uuid.UUID | None = None,
) -> ListingPublic:
    """One published listing's card; with `from_site` (signed in), its distance band."""
    _count_request(request, actor)
    return get_public(session, actor, listing_id, from_site)
