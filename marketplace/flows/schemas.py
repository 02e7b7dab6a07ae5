"""Request and response models of flows."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from marketplace.flows.models import (
    Direction,
    FlowStatus,
    Kind,
    Period,
    PhysicalState,
    Precision,
    Regularity,
)


class FlowFields(BaseModel):
    """Every field of step 1 (map the flows); shared by creation and import."""

    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, max_length=200)
    low_code: str | None = Field(default=None, max_length=12, examples=["10 01 02"])
    hazardous: bool | None = Field(
        default=None, description="Derived from the LoW code; refused when it contradicts it."
    )
    physical_state: PhysicalState | None = None
    quantity: float = Field(description="Declared quantity per period, > 0")
    unit: str = Field(min_length=1, max_length=16, examples=["t", "MWh", "m3"])
    period: Period = Period.YEAR
    regularity: Regularity = Regularity.CONTINUOUS
    months: list[int] = Field(default_factory=list, max_length=12, description="1 = January")
    temperature_c: float | None = Field(default=None, ge=-200, le=2000)
    medium: str | None = Field(default=None, max_length=32)
    power_kw: float | None = Field(default=None, gt=0)
    water_quality: str | None = Field(default=None, max_length=64)
    quality_spec: str = Field(default="", max_length=4000)
    precision: Precision = Precision.ESTIMATED
    current_operation: str | None = Field(default=None, max_length=8, examples=["R 5", "D 1"])
    current_cost_eur_per_unit: float | None = Field(default=None, ge=0)
    replaces_material: str | None = Field(default=None, max_length=200)
    virgin_price_eur_per_unit: float | None = Field(default=None, ge=0)
    description: str = Field(default="", max_length=4000)


class FlowCreate(FlowFields):
    site_id: uuid.UUID
    direction: Direction
    kind: Kind


class FlowUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    site_id: uuid.UUID | None = None
    label: str | None = Field(default=None, min_length=1, max_length=200)
    low_code: str | None = Field(default=None, max_length=12)
    hazardous: bool | None = None
    physical_state: PhysicalState | None = None
    quantity: float | None = None
    unit: str | None = Field(default=None, min_length=1, max_length=16)
    period: Period | None = None
    regularity: Regularity | None = None
    months: list[int] | None = Field(default=None, max_length=12)
    temperature_c: float | None = Field(default=None, ge=-200, le=2000)
    medium: str | None = Field(default=None, max_length=32)
    power_kw: float | None = Field(default=None, gt=0)
    water_quality: str | None = Field(default=None, max_length=64)
    quality_spec: str | None = Field(default=None, max_length=4000)
    precision: Precision | None = None
    current_operation: str | None = Field(default=None, max_length=8)
    current_cost_eur_per_unit: float | None = Field(default=None, ge=0)
    replaces_material: str | None = Field(default=None, max_length=200)
    virgin_price_eur_per_unit: float | None = Field(default=None, ge=0)
    description: str | None = Field(default=None, max_length=4000)


class FlowRead(BaseModel):
    """A flow as its owner (or the facilitator) sees it: never shown to another company."""

    id: uuid.UUID
    company_id: uuid.UUID
    site_id: uuid.UUID
    direction: Direction
    kind: Kind
    status: FlowStatus
    label: str
    low_code: str | None
    low_label_fr: str | None = None
    hazardous: bool
    physical_state: PhysicalState | None
    quantity: float
    unit: str
    period: Period
    quantity_per_year: float
    base_unit: str
    regularity: Regularity
    months: list[int]
    temperature_c: float | None
    medium: str | None
    power_kw: float | None
    water_quality: str | None
    quality_spec: str
    precision: Precision
    current_operation: str | None
    current_cost_eur_per_unit: float | None
    replaces_material: str | None
    virgin_price_eur_per_unit: float | None
    description: str
    created_at: datetime
    updated_at: datetime
