"""The audit chain: an append-only, hash-chained log of sensitive accesses and acts."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.models import UTCDateTime, utcnow


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entries"

    # Contiguous, never auto-incremented: a gap is a broken link.
    seq: int = Field(sa_column=sa.Column(sa.Integer, primary_key=True, autoincrement=False))
    at: datetime = Field(default_factory=utcnow, sa_column=sa.Column(UTCDateTime(), nullable=False))
    actor_id: uuid.UUID | None = None
    action: str = Field(max_length=64)  # e.g. "identity.read", "identity.reveal"
    subject_id: uuid.UUID | None = None
    # Further ids the entry names (an introduction's entries name the introduction), hashed
    # with the rest; null on entries written before it existed, which hash as they did.
    data: dict[str, str] | None = Field(default=None, sa_column=sa.Column(sa.JSON(), nullable=True))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class AuditCheckpoint(SQLModel, table=True):
    """A signed statement "the chain's entry `head_seq` has hash `head_hash`".

    Anyone able to write the tables can recompute the entries' hashes, not sign: a checkpoint
    is what a truncated or rewritten chain can no longer match. Checkpoints are numbered without
    gaps and each signs the digest of the one before, so removing one breaks the next."""

    __tablename__ = "audit_checkpoints"

    number: int = Field(sa_column=sa.Column(sa.Integer, primary_key=True, autoincrement=False))
    at: datetime = Field(default_factory=utcnow, sa_column=sa.Column(UTCDateTime(), nullable=False))
    head_seq: int
    head_hash: str = Field(max_length=64)
    prev_digest: str = Field(max_length=64)
    key_id: str = Field(max_length=16)
    signature: str = Field(max_length=128)  # hex of the 64-byte Ed25519 signature
