"""Request and response models of accounts: API tokens and invitations."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from marketplace.accounts.models import Role


class ApiTokenRead(BaseModel):
    """A token as its owner or the company's administrator sees it: never the secret itself."""

    id: uuid.UUID
    name: str
    user_id: uuid.UUID
    created_at: datetime
    expires_at: datetime
    revoked: bool
    live: bool


class InvitationRead(BaseModel):
    """The answer to adding a user: the same shape, and the same values, whether the address
    already had an account or not."""

    status: str = "invited"
    email: str
    role: Role
    company_id: uuid.UUID | None
