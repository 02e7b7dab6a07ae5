"""The Flow table: every field of step 1 (map the flows)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.models import UTCDateTime, new_id, utcnow
from privacy.vault import SealedText


class Direction(enum.StrEnum):
    OFFER = "offer"
    REQUEST = "request"


class Kind(enum.StrEnum):
    MATERIAL = "material"
    HEAT = "heat"
    WATER = "water"
    GAS = "gas"


class Period(enum.StrEnum):
    YEAR = "year"
    MONTH = "month"
    WEEK = "week"
    DAY = "day"


class Regularity(enum.StrEnum):
    CONTINUOUS = "continuous"
    BATCH = "batch"
    SEASONAL = "seasonal"
    ONE_OFF = "one-off"


class PhysicalState(enum.StrEnum):
    SOLID = "solid"
    POWDER = "powder"
    SLUDGE = "sludge"
    LIQUID = "liquid"
    GAS = "gas"


class Precision(enum.StrEnum):
    MEASURED = "measured"
    ESTIMATED = "estimated"


class FlowStatus(enum.StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


def _enum_column(length: int = 16, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(sa.String(length), nullable=nullable)


class Flow(SQLModel, table=True):
    __tablename__ = "flows"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    company_id: uuid.UUID = Field(foreign_key="companies.id", index=True)
    site_id: uuid.UUID = Field(foreign_key="sites.id", index=True)
    direction: Direction = Field(sa_column=_enum_column())
    kind: Kind = Field(sa_column=_enum_column())
    status: FlowStatus = Field(default=FlowStatus.ACTIVE, sa_column=_enum_column())
    # Free text may name the company: sealed at rest (privacy.vault.SealedText).
    label: str = Field(sa_column=sa.Column(SealedText(), nullable=False))
    low_code: str | None = Field(
        default=None, foreign_key="low_codes.code", max_length=8, index=True
    )
    hazardous: bool = False
    physical_state: PhysicalState | None = Field(
        default=None, sa_column=_enum_column(nullable=True)
    )
    # As declared, kept for display...
    quantity: float
    unit: str = Field(max_length=16)
    period: Period = Field(sa_column=_enum_column())
    # ...and normalised per kind: t/yr (material), MWh/yr (heat), m³/yr (water, gas).
    quantity_per_year: float
    base_unit: str = Field(max_length=8)
    regularity: Regularity = Field(sa_column=_enum_column())
    # Months the flow runs, as a 12-bit mask (bit 0 = January); 0 when not stated.
    months_mask: int = 0
    temperature_c: float | None = None
    # Heat: carrier medium (water, steam, air, oil) and power; water: quality class.
    medium: str | None = Field(default=None, max_length=32)
    power_kw: float | None = None
    water_quality: str | None = Field(default=None, max_length=64)
    quality_spec: str = Field(default="", sa_column=sa.Column(SealedText(), nullable=False))
    precision: Precision = Field(default=Precision.ESTIMATED, sa_column=_enum_column())
    # Offer: where it goes today and what that costs (R/D code, € cents per tonne or unit).
    current_operation: str | None = Field(default=None, foreign_key="operations.code", max_length=8)
    current_cost_cents: int | None = None
    # Request: the virgin material it would replace and that material's price (€ cents per unit).
    replaces_material: str | None = Field(default=None, max_length=200)
    virgin_price_cents: int | None = None
    description: str = Field(default="", sa_column=sa.Column(SealedText(), nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime(), nullable=False)
    )
