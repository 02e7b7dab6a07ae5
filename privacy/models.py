"""The audit chain: an append-only, hash-chained log of sensitive accesses and acts."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.models import UTCDateTime, utcnow


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entries"

    seq: int = Field(primary_key=True)  # contiguous: a gap is a broken link
    at: datetime = Field(default_factory=utcnow, sa_column=sa.Column(UTCDateTime(), nullable=False))
    actor_id: uuid.UUID | None = None
    action: str = Field(max_length=64)  # e.g. "identity.read", "identity.reveal"
    subject_id: uuid.UUID | None = None
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)
