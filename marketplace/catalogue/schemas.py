"""What the catalogue shows: an explicit allow-list of generalised fields, never a table row."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel


class Area(BaseModel):
    code: str
    name: str


class ListingPublic(BaseModel):
    """A listing as the public and other members see it (see PRODUCT.md, "What each party may see").

    No owner, no site, no exact quantity, no price, no position: a distance band only, computed
    from one of the searcher's own sites to the published location's point.
    """

    id: uuid.UUID
    direction: str
    kind: str
    aggregated: bool
    family: str
    family_label: str
    hazardous: bool
    low_chapter: str | None
    low_subchapter: str | None
    low_subchapter_label: str | None
    low_code: str | None  # the six digits, only once the k-check allows them
    low_label: str | None
    location_level: str
    # At cell level, the resolution-6 H3 cell (its k companies make it public): the card names
    # what distance bands are measured to, so a band never tells more than the card.
    cell: str | None = None
    departement: Area | None
    region: Area
    quantity_class: str  # a logarithmic band; "présent" for a pool one company dominates
    temperature_class: str | None
    regularity: str
    months: list[int]
    title: str
    description: str
    published_on: date | None
    distance_band: str | None = None


class ListingOwnerView(BaseModel):
    """The owner's (or facilitator's) view of its listing: status and the public preview."""

    id: uuid.UUID
    flow_id: uuid.UUID | None
    status: str
    brokered_only: bool  # not in search: waiting for the next run, or too few companies
    # Published, waiting for the next publication run to be placed (see catalogue/service).
    waiting: bool = False
    next_publication_at: datetime | None = None
    # A paused listing whose flow's text names the company (a name declared after it was
    # published: catalogue.service.company_names_changed): what to rewrite before resuming it,
    # as "remove WHAT from the WHERE" sentences joined by "; " (public_text.TextNotPublic).
    rewrite: str | None = None
    public: ListingPublic
