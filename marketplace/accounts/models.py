"""Users, web sessions and API tokens."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.models import UTCDateTime, new_id, utcnow
from privacy.vault import SealedText


class Role(enum.StrEnum):
    MEMBER = "member"  # a company's member: its sites, flows, catalogue
    COMPANY_ADMIN = "company_admin"  # also manages the company's identity and users
    FACILITATOR = "facilitator"  # the association's staff: the trusted third party
    PLATFORM_ADMIN = "platform_admin"


COMPANY_ROLES = frozenset({Role.MEMBER, Role.COMPANY_ADMIN})
STAFF_ROLES = frozenset({Role.FACILITATOR, Role.PLATFORM_ADMIN})


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    # A copy of the database names no person: the address is sealed (the platform text key, see
    # service.py) and login finds the user through the blind index of its normalised form.
    email: str = Field(sa_column=sa.Column("email_sealed", SealedText(), nullable=False))
    # Set by the service from the address (accounts.service.email_index); unique, so a row
    # written without it fails loudly at the second one.
    email_index: str = Field(default="", max_length=64, unique=True, index=True)
    password_hash: str = Field(max_length=255)
    role: Role = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    company_id: uuid.UUID | None = Field(default=None, foreign_key="companies.id", index=True)
    locale: str = Field(default="fr", max_length=5)
    is_active: bool = True
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime(), nullable=False)
    )


class WebSession(SQLModel, table=True):
    """A server-side login session: the cookie holds a random token, the table only its hash."""

    __tablename__ = "web_sessions"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    csrf_token: str = Field(max_length=64)
    expires_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))


class ApiToken(SQLModel, table=True):
    """A bearer token for a company's software; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    name: str = Field(max_length=100)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime(), nullable=False)
    )
    # A leaked token stops working by itself: at most api_token_max_age_days after issue.
    expires_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    revoked: bool = False


class PasswordReset(SQLModel, table=True):
    """A password-reset link sent by e-mail: the link holds a random token, the table only its
    SHA-256, so a copy of the database cannot be used to take over an account. Used once, then
    `used_at` is set; it stops working by itself at `expires_at`."""

    __tablename__ = "password_resets"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime(), nullable=False)
    )
    expires_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = Field(
        default=None, sa_column=sa.Column(UTCDateTime(), nullable=True)
    )
