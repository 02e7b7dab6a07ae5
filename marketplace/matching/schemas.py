"""What the matching routes answer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from marketplace.catalogue.schemas import ListingPublic


class Reason(BaseModel):
    criterion: str = Field(description="material, distance, quantity, timing, quality, precision")
    score: float = Field(ge=0, le=1)
    weight: float
    reason: str = Field(description="why, in English (the pages translate it)")
    code: str
    params: dict[str, Any] = Field(default_factory=dict)


class MatchForMember(BaseModel):
    score: float = Field(ge=0, le=1)
    why: list[Reason]
    counterpart: ListingPublic = Field(description="the counterpart's public card, nothing more")
    estimate: dict[str, Any] | None = Field(
        description="€ and CO₂e a year, from your own figures and the card's classes"
    )


class FlowMatchesRead(BaseModel):
    flow_id: uuid.UUID
    matches: list[MatchForMember]
    facilitator_has_counterpart: bool = Field(
        description=(
            "the facilitator has suggested a counterpart the catalogue does not show; "
            "no detail is given before an introduction"
        )
    )


class MatchRead(BaseModel):
    """A stored match, as the facilitator sees it."""

    id: uuid.UUID
    offer_flow_id: uuid.UUID
    request_flow_id: uuid.UUID
    score: float = Field(ge=0, le=1)
    distance_km: float
    archetype_id: str | None
    why: list[Reason]
    estimate: dict[str, Any] | None
    suggested_at: datetime | None
    computed_at: datetime


class ProspectSectorRead(BaseModel):
    nace: str = Field(description="a NACE division, group or class that usually takes the residue")
    label: str | None
    use_fr: str
    use_en: str
    archetype_id: str


class ProspectCompanyRead(BaseModel):
    company_id: uuid.UUID
    nace: str
    nace_label: str | None
    distance_km: float
    archetype_ids: list[str]


class ProspectsRead(BaseModel):
    flow_id: uuid.UUID
    sectors: list[ProspectSectorRead]
    companies: list[ProspectCompanyRead] = Field(
        description="the facilitator's only: member companies of those sectors within reach"
    )


class PlannedExchangeRead(BaseModel):
    match_id: uuid.UUID
    offer_flow_id: uuid.UUID
    request_flow_id: uuid.UUID
    offer_label: str
    request_label: str
    quantity_per_year: float
    unit: str
    co2e_t_per_year: float
    eur_per_year: float


class TerritoryPlanRead(BaseModel):
    objective: str
    exchanges: list[PlannedExchangeRead]
    total_co2e_t_per_year: float
    total_eur_per_year: float
