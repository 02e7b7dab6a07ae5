"""What the parties of a contract send and read: explicit allow-lists.

Only the giver, the taker and the facilitator ever read a contract (anyone else gets 404), and
they were revealed to each other before it was drafted: the terms name both."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from contracts.status import Answers, Evidence, Obligation
from contracts.terms import TermChange, Terms
from core.inputs import Code, FreeText, Line, Name

NoteText = Annotated[FreeText, StringConstraints(max_length=2000)]
CommentText = Annotated[FreeText, StringConstraints(min_length=1, max_length=4000)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=256)]
VersionNumber = Annotated[int, Field(ge=1, le=10_000)]
Side = Literal["giver", "taker", "facilitator"]


class ContractCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    introduction_id: uuid.UUID
    # For an introduction to a pooled offer: the contributor (one who accepted) whose share
    # this contract exchanges; each has its own contract with the requester.
    contributor_company_id: uuid.UUID | None = None
    # The language of the default clauses.
    locale: Literal["fr", "en"] = "fr"
    start_date: date | None = Field(default=None, description="default: today")
    end_date: date | None = Field(default=None, description="default: one year after the start")


class TermsProposal(BaseModel):
    """New terms: a new version (voiding any signature of the current one)."""

    model_config = ConfigDict(extra="forbid")

    terms: Terms
    note: NoteText = ""
    base_version: VersionNumber = Field(
        description="the version these terms change: refused (409) when it is no longer current"
    )


class CommentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: CommentText


class StatusAnswers(BaseModel):
    """The status wizard: the guided answers, the evidence of each condition, the R/D code."""

    model_config = ConfigDict(extra="forbid")

    answers: Answers
    evidence: list[Evidence] = Field(default_factory=list, max_length=40)
    r_code: Code | None = Field(default=None, examples=["R5", "R10", "D10"])


class SignRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: Password = Field(description="the signer's password, asked again to sign")
    version: VersionNumber = Field(description="the version read and signed")


class DeliveryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delivered_on: date
    quantity: Annotated[float, Field(gt=0, le=1e9, allow_inf_nan=False)]
    unit: Code = Field(min_length=1, examples=["t", "MWh", "m3"])
    lot: Name = ""
    carrier: Line = ""
    conformity_statement: NoteText | None = Field(
        default=None, description="the statement of conformity of the lot (end-of-waste)"
    )


class SignatureRead(BaseModel):
    role: Side
    version_number: int
    signed_at: datetime
    certificate_serial: str


class QualificationRead(BaseModel):
    """The status decided from the answers, what evidence is still missing (empty: complete),
    and the obligations that follow."""

    route: str | None
    reasons: list[str]
    reasons_en: list[str]
    missing: list[str] = Field(description="ids of the conditions still without evidence")
    missing_labels: list[str]
    obligations: list[Obligation]
    answers: Answers | None
    evidence: list[Evidence]
    r_code: str | None


class ContractRead(BaseModel):
    id: uuid.UUID
    reference: str
    state: str
    side: Side
    introduction_id: uuid.UUID
    giver_company_id: uuid.UUID
    taker_company_id: uuid.UUID
    current_version: int
    version: int = Field(description="changes with every write: the row's optimistic lock")
    terms: Terms
    terms_hash: str
    frozen_at: datetime | None
    qualification: QualificationRead
    signatures: list[SignatureRead]
    activated_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class VersionRead(BaseModel):
    number: int
    terms: Terms
    terms_hash: str
    route: str | None
    note: str
    frozen_at: datetime | None
    created_at: datetime


class DiffRead(BaseModel):
    from_version: int
    to_version: int
    changes: list[TermChange]


class CommentRead(BaseModel):
    id: uuid.UUID
    version_number: int
    author_side: Side
    body: str
    created_at: datetime


class DocumentRead(BaseModel):
    id: uuid.UUID
    name: str
    media_type: str
    size: int
    sha256: str
    created_at: datetime


class DeliveryRead(BaseModel):
    id: uuid.UUID
    delivered_on: date
    quantity: float
    unit: str
    lot: str
    carrier: str
    conformity_statement: str | None
    conformity_sha256: str | None
    created_at: datetime


class DeliveriesRead(BaseModel):
    deliveries: list[DeliveryRead]
    unit: str
    total_quantity: float
    contracted_per_year: float
    contracted_total: float = Field(description="the yearly quantity over the contract's term")
    share_of_contracted: float = Field(description="total / contracted_total, 0 to 1 or more")


class SignatureCheck(BaseModel):
    field: str
    signer: str
    signed_at: datetime | None
    valid: bool
    intact: bool
    trusted: bool
    covers_rest_of_document: bool
    # From the signer's certificate: the role it signed as, and its serial (as in `signatures`).
    role: str | None = None
    serial: str | None = None
    recorded: bool = Field(
        default=False, description="the platform recorded this signature for this contract"
    )


class VerificationRead(BaseModel):
    ok: bool
    changed_after_signing: bool
    reason: str | None
    signatures: list[SignatureCheck]
    pdf_sha256: str


class ContractNoticeRead(BaseModel):
    """An in-app notice: which contract moved, and to what state."""

    id: uuid.UUID
    kind: str
    contract_id: uuid.UUID
    created_at: datetime
    read_at: datetime | None
