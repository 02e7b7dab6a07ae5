"""Saved searches and the notifications they produce."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.models import UTCDateTime, new_id, utcnow


class SavedSearch(SQLModel, table=True):
    __tablename__ = "saved_searches"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    name: str = Field(max_length=120)
    # The catalogue filters, as the search endpoint takes them (never a position).
    filters: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON))
    email_alerts: bool = True
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime(), nullable=False)
    )


class Notification(SQLModel, table=True):
    """One alert: `revision` is a digest of the listing's public card (32 hex digits), so
    re-running the task for the same change adds nothing (unique key) while a later change of the
    card notifies again."""

    __tablename__ = "notifications"
    __table_args__ = (sa.UniqueConstraint("saved_search_id", "listing_id", "revision"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    saved_search_id: uuid.UUID = Field(foreign_key="saved_searches.id", index=True)
    listing_id: uuid.UUID = Field(foreign_key="listings.id", index=True)
    revision: str = Field(max_length=40)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime(), nullable=False)
    )
    read_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))
    emailed_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))
