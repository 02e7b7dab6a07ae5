"""The releases of the territory's exchange figures: one frozen row per closed period."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.models import UTCDateTime, new_id, utcnow


class FiguresRelease(SQLModel, table=True):
    """What was published about one period, and nothing more: the suppressed cells are not
    stored (not even their values), so neither a page nor a copy of the database holds a figure
    the secrecy rules refused. Never updated: a later delivery dated in the period changes no
    release, so two reads of the figures never differ by one company's change."""

    __tablename__ = "figures_releases"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    # "2025": the unique key makes concurrent releases of one period store one row.
    period: str = Field(max_length=16, unique=True)
    period_start: date
    period_end: date = Field(index=True)
    # marketplace.territory.schemas.ExchangeFigures as JSON: published cells only.
    figures: dict[str, Any] = Field(sa_column=sa.Column(sa.JSON(), nullable=False))
    # SHA-256 of the figures' canonical JSON, also in the release's audit entry.
    figures_sha256: str = Field(max_length=64)
    released_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime(), nullable=False)
    )
