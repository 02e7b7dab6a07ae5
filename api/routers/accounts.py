"""Login for API clients, the current account, and users."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.deps import ActorDep, SessionDep, UserDep
from api.errors import RATE_LIMITED, UNAUTHORIZED
from core.inputs import NOT_BOOLEAN, EmailText, Name
from marketplace.accounts.errors import AddingUsersAdminOnly, CompanyRolesOnly, PlatformAdminsOnly
from marketplace.accounts.models import COMPANY_ROLES, ApiToken, Role, User
from marketplace.accounts.schemas import ApiTokenRead, InvitationRead
from marketplace.accounts.service import (
    invite_user,
    issue_api_token,
    list_api_tokens,
    log_in,
    revoke_api_token,
    token_is_live,
)
from marketplace.companies.service import get_company

router = APIRouter(tags=["accounts"])


class LoginRequest(BaseModel):
    email: EmailText
    # Never normalised nor trimmed: the password is compared as typed.
    password: str = Field(max_length=200)
    token_name: Name = Field(default="api", min_length=1)
    # Shorter than the longest lifetime the platform allows (SYMBIOSE_API_TOKEN_MAX_AGE_DAYS).
    expires_in_days: Annotated[int, Field(ge=1, le=3650), NOT_BOOLEAN] | None = None


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_at: datetime


class Me(BaseModel):
    id: uuid.UUID
    email: str
    role: Role
    company_id: uuid.UUID | None
    locale: str


class UserCreate(BaseModel):
    email: EmailText = Field(min_length=3)
    password: str = Field(min_length=10, max_length=200)
    role: Role = Role.MEMBER
    company_id: uuid.UUID | None = None
    locale: str = Field(default="fr", max_length=2, pattern="^(fr|en)$")


def _me(user: User) -> Me:
    return Me(
        id=user.id,
        email=user.email,
        role=Role(user.role),
        company_id=user.company_id,
        locale=user.locale,
    )


def _token_read(row: ApiToken) -> ApiTokenRead:
    return ApiTokenRead(
        id=row.id,
        name=row.name,
        user_id=row.user_id,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked=row.revoked,
        live=token_is_live(row),
    )


@router.post(
    "/auth/token",
    response_model=TokenResponse,
    openapi_extra={"x-public": True},
    responses={401: UNAUTHORIZED, 429: RATE_LIMITED},
)
def login(body: LoginRequest, request: Request, session: SessionDep) -> TokenResponse:
    """Exchange an e-mail and password for a bearer token (for a company's software). The token
    expires after `expires_in_days`, at most the platform's longest lifetime. Failed attempts are
    limited per account and per address: past the limit, 429 with Retry-After."""
    address = request.client.host if request.client else None
    user = log_in(session, body.email, body.password, address)
    lifetime = timedelta(days=body.expires_in_days) if body.expires_in_days else None
    token, row = issue_api_token(session, user, body.token_name, lifetime)
    return TokenResponse(access_token=token, expires_at=row.expires_at)


@router.get("/tokens", response_model=list[ApiTokenRead])
def tokens(session: SessionDep, actor: ActorDep) -> list[ApiTokenRead]:
    """Your API tokens; a company administrator sees every token of its company."""
    return [_token_read(row) for row in list_api_tokens(session, actor)]


@router.post("/tokens/{token_id}/revoke", response_model=ApiTokenRead)
def revoke_token(token_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> ApiTokenRead:
    """Revoke a token (yours, or your company's as its administrator): refused at once on every
    route (public catalogue reads in other processes: within a second)."""
    return _token_read(revoke_api_token(session, actor, token_id))


@router.get("/me", response_model=Me)
def me(user: UserDep) -> Me:
    return _me(user)


@router.post("/users", response_model=InvitationRead, status_code=202)
def add_user(body: UserCreate, session: SessionDep, actor: ActorDep) -> InvitationRead:
    """A company admin adds colleagues to its company; the association adds anyone. The answer
    is the same whether the address already has an account (left untouched) or not, so this
    route does not tell who has an account."""
    if not actor.is_staff:
        if not actor.is_company_admin:
            raise AddingUsersAdminOnly(field="role")
        if body.role not in COMPANY_ROLES:
            raise CompanyRolesOnly(field="role")
        if body.company_id not in (None, actor.company_id):
            get_company(session, actor, body.company_id)  # raises NotFound for a foreign id
        body.company_id = actor.company_id
    elif body.role == Role.PLATFORM_ADMIN and actor.role != Role.PLATFORM_ADMIN:
        raise PlatformAdminsOnly(field="role")
    invitation = invite_user(
        session,
        email=body.email,
        password=body.password,
        role=body.role,
        company_id=body.company_id,
        locale=body.locale,
    )
    return InvitationRead(
        email=invitation.email, role=invitation.role, company_id=invitation.company_id
    )
