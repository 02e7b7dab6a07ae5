"""Contracts, their versions, comments, signatures, attached documents, deliveries and notices.

Everything that names a company or a person (the terms: legal names, SIRET, sites; evidence
texts; comments; signed PDFs; statements; carriers) is sealed (privacy.vault.SealedText), so a
copy of the database names no one. Companies are named by id only."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.models import UTCDateTime, new_id, utcnow
from privacy.vault import SealedText


def _ts(nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(UTCDateTime(), nullable=nullable)


def _sealed(nullable: bool = False) -> sa.Column[str]:
    return sa.Column(SealedText(), nullable=nullable)


class Contract(SQLModel, table=True):
    """One exchange between a giver and a taker, drafted from their revealed introduction: one
    contract per introduction, or for a pooled offer one per contributor who accepted."""

    __tablename__ = "contracts"
    __table_args__ = (sa.UniqueConstraint("introduction_id", "giver_company_id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    introduction_id: uuid.UUID = Field(foreign_key="introductions.id", index=True)
    reference: str = Field(max_length=20, unique=True)
    state: str = Field(max_length=16, index=True)
    current_version: int = 1
    giver_company_id: uuid.UUID = Field(foreign_key="companies.id", index=True)
    taker_company_id: uuid.UUID = Field(foreign_key="companies.id", index=True)
    # The current version's end date, kept here for the beat's expiry and reminders.
    end_date: date | None = Field(default=None, index=True)
    # Bumped by every change: a client's stale copy is refused (the row lock serialises writers).
    version: int = 1
    activated_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    # Reminders already sent (beat), so each goes once per period.
    end_reminded_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    overdue_reminded_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class ContractVersion(SQLModel, table=True):
    """One version of the terms with its regulatory qualification; frozen (hash fixed, PDF
    rendered) when the contract is ready for signature. A change makes a new version."""

    __tablename__ = "contract_versions"
    __table_args__ = (sa.UniqueConstraint("contract_id", "number"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    contract_id: uuid.UUID = Field(foreign_key="contracts.id", index=True)
    number: int
    # contracts.terms.Terms as JSON: names, SIRET and sites of the parties, so sealed.
    terms: str = Field(sa_column=_sealed())
    terms_hash: str = Field(max_length=64)
    # The status wizard: route decided by contracts.status.qualify from the answers.
    route: str | None = Field(default=None, max_length=24)
    answers: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON()))
    # list of contracts.status.Evidence as JSON: free texts that may name a party, so sealed.
    evidence: str = Field(default="[]", sa_column=_sealed())
    r_code: str | None = Field(default=None, max_length=8)
    end_of_waste_act: str | None = Field(default=None, max_length=64)
    case_by_case_decision: str | None = Field(default=None, sa_column=_sealed(nullable=True))
    qualified_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    frozen_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    # The PDF as rendered at freezing, then with each signature appended (base64, sealed).
    pdf: str | None = Field(default=None, sa_column=_sealed(nullable=True))
    pdf_sha256: str | None = Field(default=None, max_length=64)
    author_user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id")
    note: str = Field(default="", sa_column=_sealed())
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class ContractComment(SQLModel, table=True):
    __tablename__ = "contract_comments"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    contract_id: uuid.UUID = Field(foreign_key="contracts.id", index=True)
    version_number: int
    author_user_id: uuid.UUID = Field(foreign_key="users.id")
    author_side: str = Field(max_length=12)  # giver | taker | facilitator
    body: str = Field(sa_column=_sealed())
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class ContractSignature(SQLModel, table=True):
    """One signature of one version by one role: the unique key makes concurrent signatures of
    the same role count once. A new version voids them (`voided_at`)."""

    __tablename__ = "contract_signatures"
    __table_args__ = (sa.UniqueConstraint("contract_id", "version_number", "role"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    contract_id: uuid.UUID = Field(foreign_key="contracts.id", index=True)
    version_number: int
    role: str = Field(max_length=12)
    user_id: uuid.UUID = Field(foreign_key="users.id")
    signed_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    certificate_serial: str = Field(max_length=64)
    voided_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class ContractDocumentFile(SQLModel, table=True):
    """A document attached as evidence, found again by its SHA-256 (sealed content and name)."""

    __tablename__ = "contract_documents"
    __table_args__ = (sa.UniqueConstraint("contract_id", "sha256"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    contract_id: uuid.UUID = Field(foreign_key="contracts.id", index=True)
    name: str = Field(sa_column=_sealed())
    media_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    content: str = Field(sa_column=_sealed())  # base64
    uploaded_by: uuid.UUID = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Delivery(SQLModel, table=True):
    __tablename__ = "deliveries"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    contract_id: uuid.UUID = Field(foreign_key="contracts.id", index=True)
    delivered_on: date
    quantity: float
    unit: str = Field(max_length=8)
    lot: str = Field(default="", sa_column=_sealed())
    carrier: str = Field(default="", sa_column=_sealed())
    conformity_statement: str | None = Field(default=None, sa_column=_sealed(nullable=True))
    conformity_sha256: str | None = Field(default=None, max_length=64)
    created_by: uuid.UUID = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class ContractNotice(SQLModel, table=True):
    """A notice to a party, written in the deciding transaction (outbox): a task sends it after
    commit, a beat sweeper re-sends. The payload holds ids and states only."""

    __tablename__ = "contract_notices"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    kind: str = Field(max_length=40)
    contract_id: uuid.UUID = Field(foreign_key="contracts.id", index=True)
    recipient_company_id: uuid.UUID = Field(foreign_key="companies.id", index=True)
    payload: dict[str, Any] = Field(sa_column=sa.Column(sa.JSON(), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    sent_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    attempts: int = 0
    read_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
