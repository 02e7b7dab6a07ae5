"""The territory's figures shown to visitors on the landing page: counts of what the public
catalogue already shows, and nothing else.

Every figure is a count of public listings (published, not brokered only), each of which was
placed in a cell holding at least k legal units before it was shown, so a figure teaches nothing
a visitor could not count by paging through the catalogue. On top of that, a figure below k is
not shown at all (a family with two offers says nothing rather than "2"): small counts are where
a reader starts guessing who is behind them.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.settings import get_settings
from marketplace.catalogue.models import Listing, public_where


@dataclass(frozen=True)
class FamilyFigure:
    family: str
    offers: int | None  # None: below k, not shown
    requests: int | None


@dataclass(frozen=True)
class TerritoryFigures:
    offers: int | None
    requests: int | None
    families: list[FamilyFigure]

    @property
    def any(self) -> bool:
        return self.offers is not None or self.requests is not None


def _shown(count: int, k: int) -> int | None:
    return count if count >= k else None


def territory_figures(session: Session) -> TerritoryFigures:
    """Public offers and requests, in all and per material family; counts below k left out."""
    k = get_settings().k_anonymity
    query = (
        select(col(Listing.direction), col(Listing.family), sa.func.count())
        .where(*public_where())
        .group_by(col(Listing.direction), col(Listing.family))
    )
    per_family: dict[str, dict[str, int]] = {}
    totals = {"offer": 0, "request": 0}
    for direction, family, count in session.exec(query).all():
        per_family.setdefault(family, {})[direction] = int(count)
        totals[direction] = totals.get(direction, 0) + int(count)
    families = [
        FamilyFigure(
            family,
            _shown(counts.get("offer", 0), k),
            _shown(counts.get("request", 0), k),
        )
        for family, counts in sorted(per_family.items())
    ]
    return TerritoryFigures(
        offers=_shown(totals["offer"], k),
        requests=_shown(totals["request"], k),
        families=[f for f in families if f.offers is not None or f.requests is not None],
    )
