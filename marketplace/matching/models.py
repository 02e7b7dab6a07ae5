"""Matches: the engine's offer ↔ request pairs, as the facilitator sees them (exact facts)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.models import UTCDateTime, new_id, utcnow


class MatchedFlow(SQLModel, table=True):
    """When a flow's matches were last computed: a flow edited since (or never matched) is what
    `symbiose match` computes first."""

    __tablename__ = "matched_flows"

    flow_id: uuid.UUID = Field(foreign_key="flows.id", primary_key=True)
    matched_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))


class Match(SQLModel, table=True):
    """One candidate exchange, scored on the flows as they are. Members never read these rows:
    their matches are scored on the counterparts' public cards (matching/service.py)."""

    __tablename__ = "matches"
    __table_args__ = (sa.UniqueConstraint("offer_flow_id", "request_flow_id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    offer_flow_id: uuid.UUID = Field(foreign_key="flows.id", index=True)
    request_flow_id: uuid.UUID = Field(foreign_key="flows.id", index=True)
    score: float
    distance_km: float  # to 10 m, as shown (service._match_columns)
    archetype_id: str | None = Field(default=None, max_length=80)
    # Numbers only: the reasons and the estimate are built from them and the two flows when a
    # match is read (service.explain), not stored (a territory's recompute stores them by the
    # hundred thousand, a facilitator reads a few dozen). None on a suggestion that is no longer
    # a match. Each criterion's score in [0, 1] (scoring.CRITERIA):
    material_score: float | None = None
    distance_score: float | None = None
    quantity_score: float | None = None
    timing_score: float | None = None
    quality_score: float | None = None
    precision_score: float | None = None
    # Per unit exchanged (matching/economics.py's PerUnit; the plan reads them), as whole
    # numbers: € and kg CO₂e per unit × 10⁴ (the four decimals an estimate shows), the pipe in
    # euros; None when a quantity is missing.
    eur_giver_per_unit_e4: int | None = Field(default=None, sa_type=sa.BigInteger)
    eur_taker_per_unit_e4: int | None = Field(default=None, sa_type=sa.BigInteger)
    co2e_kg_per_unit_e4: int | None = Field(default=None, sa_type=sa.BigInteger)
    investment_eur: int | None = Field(default=None, sa_type=sa.BigInteger)
    # The facilitator judged it worth proposing: the only way a member hears of a counterpart
    # that the catalogue does not show (a brokered-only listing, an unlisted flow). A suggested
    # match is kept when it stops being one, scored 0 with no reasons (service.store_matches).
    suggested_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))
    computed_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime(), nullable=False)
    )
