"""What each party of an introduction sends and reads: explicit allow-lists, per reader.

Before the reveal nothing here names a company: the owner reads the requester's anonymized card
(no finer than a public card), the requester reads its own interest's state as it is allowed to
see it. After the reveal, `counterpart` carries the other company's identity and exact sites."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from core.inputs import FreeText

MessageText = Annotated[FreeText, StringConstraints(min_length=1, max_length=2000)]
NoteText = Annotated[FreeText, StringConstraints(max_length=2000)]


class IntroductionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    listing_id: uuid.UUID | None = None
    match_id: uuid.UUID | None = None
    # The requester's own flow this interest is for (its card's distance and quantity).
    requester_flow_id: uuid.UUID | None = None
    # The facilitator only: the company on whose behalf it starts the introduction.
    requester_company_id: uuid.UUID | None = None


class ScreeningNote(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: NoteText = ""


class MessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: MessageText


class PermitFlags(BaseModel):
    """The permits the requester's receiving site declares (companies.models.Site)."""

    icpe_regime: str | None = Field(
        description="authorisation, enregistrement, declaration, none; null if not declared"
    )
    non_hazardous_waste: bool
    hazardous_waste: bool
    animal_by_products: bool = Field(description="agrément sanitaire for animal by-products")


class RequesterCard(BaseModel):
    """The requester as the owner sees it before the reveal: its sector's division, how far
    (from the listing's published point to the requester's région), how much it needs,
    and the permit flags of the site it asks for (null when it named no flow, or when fewer than
    k legal units of its région declare the same permits)."""

    # None when fewer than k legal units share it (in the requester's région).
    sector_division: str | None
    sector_label: str | None
    distance_band: str | None
    quantity_class: str | None
    permits: PermitFlags | None = None


class RevealedSite(BaseModel):
    name: str
    latitude: float
    longitude: float
    commune: str


class RevealedContact(BaseModel):
    name: str
    email: str | None
    phone: str | None
    role: str | None


class Counterpart(BaseModel):
    """The other company, after the reveal only."""

    company_id: uuid.UUID
    legal_name: str
    siret: str
    address: str
    contacts: list[RevealedContact]
    sites: list[RevealedSite]


Side = Literal["requester", "owner", "facilitator"]


class ShareRead(BaseModel):
    """One contributor's answer on a pooled introduction: the facilitator's view only."""

    company_id: uuid.UUID
    state: str
    version: int


class IntroductionRead(BaseModel):
    """One introduction as its reader may see it. `state` is the reader's view: the requester
    sees a decline (or a listing gone) as "not_available", after a delay."""

    id: uuid.UUID
    side: Side
    state: str
    listing_id: uuid.UUID | None
    match_id: uuid.UUID | None
    created_at: datetime
    expires_at: datetime | None
    next_action: str | None = Field(description="what the reader may do now, if anything")
    requester: RequesterCard | None = None
    counterpart: Counterpart | None = None
    pooled: bool = Field(default=False, description="an introduction to a pooled offer")
    # The requester's view of a revealed pool: the contributors who accepted, only.
    contributors: list[Counterpart] | None = None
    # The facilitator's view only.
    requester_company_id: uuid.UUID | None = None
    owner_company_id: uuid.UUID | None = None
    screening_note: str | None = None
    version: int | None = None
    shares: list[ShareRead] | None = None


class MessageRead(BaseModel):
    id: uuid.UUID
    author_side: Side
    body: str
    created_at: datetime
