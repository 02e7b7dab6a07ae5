"""Request and response models of saved searches and notifications (explicit allow-lists).

The filters themselves are those of the catalogue search (marketplace.catalogue.search
.CatalogueQuery, without cursor, limit and sort), checked by the service.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.inputs import Name
from marketplace.catalogue.schemas import ListingPublic


class SavedSearchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name = Field(min_length=1, examples=["Cendres volantes du Nord"])
    filters: dict[str, Any] = Field(
        default_factory=dict,
        # One entry per catalogue filter at most; each is checked as the search checks it.
        max_length=20,
        description="catalogue search filters (direction, kind, family, low_chapter, "
        "low_subchapter, low_code, hazardous, quantity_band, regularity, departement, region, q, "
        "from_site, distance_band); no cursor, limit or sort",
        examples=[{"kind": "material", "low_chapter": "10", "departement": "59"}],
    )
    email_alerts: bool = True


class SavedSearchRead(BaseModel):
    id: uuid.UUID
    name: str
    filters: dict[str, Any]
    email_alerts: bool
    created_at: datetime


class NotificationRead(BaseModel):
    """One alert. `listing` is the public card while the listing is in the catalogue, and null
    once it is withdrawn, expired or brokered only."""

    id: uuid.UUID
    saved_search_id: uuid.UUID
    saved_search_name: str
    listing_id: uuid.UUID
    created_at: datetime
    read_at: datetime | None
    emailed_at: datetime | None
    listing: ListingPublic | None
