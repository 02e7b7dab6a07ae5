"""What the facilitator reads of the catalogue for its workbench: one company's listings (its own
and the pools it contributes to) and every pooled offer with its contributors."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from marketplace.accounts.service import Actor
from marketplace.catalogue.models import Listing, PoolShare

# A territory has a few hundred pools at most; past this the list says it is cut.
MAX_POOLS_SHOWN = 500


@dataclass(frozen=True)
class Pool:
    listing: Listing
    shares: Sequence[PoolShare]


def company_listings(
    session: Session, actor: Actor, company_id: uuid.UUID
) -> tuple[Sequence[Listing], Sequence[Listing]]:
    """(the company's own listings, the pools it contributes to), most recently changed first."""
    actor.require_staff()
    own = session.exec(
        select(Listing)
        .where(Listing.company_id == company_id)
        .order_by(col(Listing.updated_at).desc())
    ).all()
    pooled_ids = select(PoolShare.listing_id).where(PoolShare.company_id == company_id)
    pools = session.exec(
        select(Listing)
        .where(col(Listing.id).in_(pooled_ids))
        .order_by(col(Listing.updated_at).desc())
    ).all()
    return own, pools


def list_pools(session: Session, actor: Actor, status: str | None = None) -> list[Pool]:
    """The pooled offers, most recently changed first, each with its contributors' shares."""
    actor.require_staff()
    query = select(Listing).where(Listing.aggregated == True)  # noqa: E712
    if status:
        query = query.where(Listing.status == status)
    listings = session.exec(
        query.order_by(col(Listing.updated_at).desc()).limit(MAX_POOLS_SHOWN)
    ).all()
    shares: dict[uuid.UUID, list[PoolShare]] = {listing.id: [] for listing in listings}
    if listings:
        found = select(PoolShare).where(col(PoolShare.listing_id).in_(list(shares)))
        for share in session.exec(found):
            shares[share.listing_id].append(share)
    return [Pool(listing, shares[listing.id]) for listing in listings]
