"""Login for API clients, the current account, and users."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import ActorDep, SessionDep, UserDep
from core.errors import Invalid
from marketplace.accounts.models import COMPANY_ROLES, Role, User
from marketplace.accounts.service import authenticate, create_api_token, create_user
from marketplace.companies.service import get_company

router = APIRouter(tags=["accounts"])


class LoginRequest(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=200)
    token_name: str = Field(default="api", max_length=100)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret


class Me(BaseModel):
    id: uuid.UUID
    email: str
    role: Role
    company_id: uuid.UUID | None
    locale: str


class UserCreate(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(min_length=10, max_length=200)
    role: Role = Role.MEMBER
    company_id: uuid.UUID | None = None
    locale: str = Field(default="fr", pattern="^(fr|en)$")


def _me(user: User) -> Me:
    return Me(
        id=user.id,
        email=user.email,
        role=Role(user.role),
        company_id=user.company_id,
        locale=user.locale,
    )


@router.post("/auth/token", response_model=TokenResponse, openapi_extra={"x-public": True})
def login(body: LoginRequest, session: SessionDep) -> TokenResponse:
    """Exchange an e-mail and password for a bearer token (for a company's software)."""
    user = authenticate(session, body.email, body.password)
    return TokenResponse(access_token=create_api_token(session, user, body.token_name))


@router.get("/me", response_model=Me)
def me(user: UserDep) -> Me:
    return _me(user)


@router.post("/users", response_model=Me, status_code=201)
def add_user(body: UserCreate, session: SessionDep, actor: ActorDep) -> Me:
    """A company admin adds colleagues to its company; the association adds anyone."""
    if not actor.is_staff:
        if not actor.is_company_admin:
            raise Invalid("only a company administrator may add users", field="role")
        if body.role not in COMPANY_ROLES:
            raise Invalid("a company administrator adds company roles only", field="role")
        if body.company_id not in (None, actor.company_id):
            get_company(session, actor, body.company_id)  # raises NotFound for a foreign id
        body.company_id = actor.company_id
    elif body.role == Role.PLATFORM_ADMIN and actor.role != Role.PLATFORM_ADMIN:
        raise Invalid("only a platform administrator adds platform administrators", field="role")
    user = create_user(
        session,
        email=body.email,
        password=body.password,
        role=body.role,
        company_id=body.company_id,
        locale=body.locale,
    )
    return _me(user)
