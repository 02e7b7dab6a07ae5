"""Matches: the engine's offer ↔ request pairs, as the facilitator sees them (exact facts)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

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
    distance_km: float
    archetype_id: str | None = Field(default=None, max_length=80)
    # Per criterion: score, weight, reason (English), code and params (for translations).
    breakdown: list[dict[str, Any]] = Field(sa_column=sa.Column(sa.JSON(), nullable=False))
    # Economics and CO2e (matching/economics.py), with the assumptions they rest on.
    estimate: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON()))
    # The facilitator judged it worth proposing: the only way a member hears of a counterpart
    # that the catalogue does not show (a brokered-only listing, an unlisted flow). A suggested
    # match is kept when it stops being one, scored 0 with no reasons (service.store_matches).
    suggested_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))
    computed_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime(), nullable=False)
    )
