"""A company's listings: draft from a flow, preview exactly what others see, publish, pause,
resume, withdraw, fulfil; the facilitator's pooled offers."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from fastapi import APIRouter
from pydantic import BaseModel
from sqlmodel import Session

from api.deps import ActorDep, SessionDep
from marketplace.accounts.service import Actor
from marketplace.catalogue import pools, service
from marketplace.catalogue.models import Listing
from marketplace.catalogue.schemas import ListingOwnerView, ListingPublic

router = APIRouter(tags=["listings"])


class ListingCreate(BaseModel):
    flow_id: uuid.UUID


class DraftWithPreview(BaseModel):
    listing: ListingOwnerView
    preview: ListingPublic
    # "public": published now, it joins a card the catalogue already shows; "waiting": it waits
    # for the next publication run. Decided from public cards and this listing only.
    placement: service.Placement


@router.get("/listings", response_model=list[ListingOwnerView])
def my_listings(session: SessionDep, actor: ActorDep) -> list[ListingOwnerView]:
    return [service.owner_view(session, x) for x in service.list_own(session, actor)]


@router.post("/listings", response_model=DraftWithPreview, status_code=201)
def create_listing(body: ListingCreate, session: SessionDep, actor: ActorDep) -> DraftWithPreview:
    """A draft listing of one of your flows, with the preview of what others will see."""
    listing = service.create_listing(session, actor, body.flow_id)
    preview, placement = service.preview_view(session, listing)
    return DraftWithPreview(
        listing=service.owner_view(session, listing), preview=preview, placement=placement
    )


@router.get("/listings/{listing_id}", response_model=ListingOwnerView)
def get_listing(listing_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> ListingOwnerView:
    return service.owner_view(session, service.get_listing(session, actor, listing_id))


@router.get("/listings/{listing_id}/preview", response_model=ListingPublic)
def preview_listing(listing_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> ListingPublic:
    """Exactly what the public and other members would see were it published now."""
    return service.preview(session, service.get_listing(session, actor, listing_id))


Action = Callable[[Session, Actor, Listing], Listing]


def _act(action: Action, listing_id: uuid.UUID, session: Session, actor: Actor) -> ListingOwnerView:
    listing = service.get_listing(session, actor, listing_id)
    return service.owner_view(session, action(session, actor, listing))


@router.post("/listings/{listing_id}/publish", response_model=ListingOwnerView)
def publish(listing_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> ListingOwnerView:
    return _act(service.publish, listing_id, session, actor)


@router.post("/listings/{listing_id}/pause", response_model=ListingOwnerView)
def pause(listing_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> ListingOwnerView:
    return _act(service.pause, listing_id, session, actor)


@router.post("/listings/{listing_id}/resume", response_model=ListingOwnerView)
def resume(listing_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> ListingOwnerView:
    return _act(service.resume, listing_id, session, actor)


@router.post("/listings/{listing_id}/withdraw", response_model=ListingOwnerView)
def withdraw(listing_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> ListingOwnerView:
    return _act(service.withdraw, listing_id, session, actor)


@router.post("/listings/{listing_id}/fulfil", response_model=ListingOwnerView)
def fulfil(listing_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> ListingOwnerView:
    return _act(service.fulfil, listing_id, session, actor)


@router.post("/pools", response_model=ListingOwnerView, status_code=201)
def create_pool(body: pools.PoolCreate, session: SessionDep, actor: ActorDep) -> ListingOwnerView:
    """The facilitator pools compatible flows of several companies into one offer."""
    return service.owner_view(session, pools.create_pool(session, actor, body))
