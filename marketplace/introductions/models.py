"""Introductions, the outbox of their notifications, and the messages relayed before a reveal."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.models import UTCDateTime, new_id, utcnow
from privacy.vault import SealedText


def _ts(nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(UTCDateTime(), nullable=nullable)


class Introduction(SQLModel, table=True):
    """One requester's interest in one counterpart, from a listing or a match, up to the reveal.

    Both companies are named by id only: identities stay in the vault until the reveal path
    opens them. The requester reads this row through a view (service.requester_state) that
    shows a decline as "not available", after `requester_sees_from`."""

    __tablename__ = "introductions"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    listing_id: uuid.UUID | None = Field(default=None, foreign_key="listings.id", index=True)
    match_id: uuid.UUID | None = Field(default=None, foreign_key="matches.id", index=True)
    requester_company_id: uuid.UUID = Field(foreign_key="companies.id", index=True)
    # None for a pooled offer: its contributors answer each for its own share
    # (IntroductionShare), and none of them is the owner of the whole.
    owner_company_id: uuid.UUID | None = Field(default=None, foreign_key="companies.id", index=True)
    # The flows on each side, when known: the requester's card (distance, quantity) and the
    # exact sites revealed come from them.
    requester_flow_id: uuid.UUID | None = Field(default=None, foreign_key="flows.id")
    owner_flow_id: uuid.UUID | None = Field(default=None, foreign_key="flows.id")
    state: str = Field(max_length=24, index=True)
    # Bumped by every change: a client's or a task's stale copy is refused (the row lock
    # serialises writers; the version also tells them apart in logs and responses).
    version: int = 1
    # The facilitator's screening note: free text that may name either company, so sealed.
    screening_note: str = Field(default="", sa_column=sa.Column(SealedText(), nullable=False))
    # The owner hears of an introduction only once it is proposed.
    proposed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    owner_accepted_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    requester_accepted_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    revealed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    # A pending introduction expires at this time (beat), unless someone moves it on.
    expires_at: datetime = Field(sa_column=_ts())
    # A silent outcome (declined, or withdrawn by the other side) shows to the requester as
    # "not available" from this time only; until then it sees `requester_view`.
    requester_sees_from: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    requester_view: str | None = Field(default=None, max_length=24)
    # The requester withdrew: it sees "withdrawn" whatever happened on the other side meanwhile,
    # exactly as if it had withdrawn first.
    requester_left: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class ShareState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class IntroductionShare(SQLModel, table=True):
    """One contributor's own decision on an introduction to a pooled offer: its row is locked
    and versioned, so of concurrent answers the first counts and the others find it answered.

    The requester never reads these rows: it learns the contributors who accepted, at the
    reveal, and nothing of those who declined or did not answer."""

    __tablename__ = "introduction_shares"
    __table_args__ = (sa.UniqueConstraint("introduction_id", "company_id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    introduction_id: uuid.UUID = Field(foreign_key="introductions.id", index=True)
    company_id: uuid.UUID = Field(foreign_key="companies.id", index=True)
    state: str = Field(default=ShareState.PENDING.value, max_length=12)
    version: int = 1
    answered_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class OutboxMessage(SQLModel, table=True):
    """A notification to send, written in the transaction that decided it (the reveal), so a
    crash between commit and send loses none: a task sends it, a beat sweeper re-sends.

    The payload names ids and states only: the e-mail says where to look, the identities are
    read in the application, through the audited reveal path."""

    __tablename__ = "outbox_messages"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    kind: str = Field(max_length=40)
    introduction_id: uuid.UUID | None = Field(
        default=None, foreign_key="introductions.id", index=True
    )
    recipient_company_id: uuid.UUID = Field(foreign_key="companies.id", index=True)
    payload: dict[str, Any] = Field(sa_column=sa.Column(sa.JSON(), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    sent_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    attempts: int = 0
    # Read in the application (the in-app notification).
    read_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class IntroductionMessage(SQLModel, table=True):
    """A message relayed between the two sides before the reveal, refused unless it passes the
    public-text scrubber; the facilitator reads them all."""

    __tablename__ = "introduction_messages"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    introduction_id: uuid.UUID = Field(foreign_key="introductions.id", index=True)
    author_side: str = Field(max_length=12)  # requester | owner | facilitator
    author_user_id: uuid.UUID = Field(foreign_key="users.id")
    body: str = Field(sa_column=sa.Column(SealedText(), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
