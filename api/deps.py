"""API dependencies: the unit of work and the authenticated actor (deny by default)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from core.db import request_session
from marketplace.accounts.errors import TokenNotValid, TokenRequired
from marketplace.accounts.models import User
from marketplace.accounts.service import Actor, actor_of, resolve_api_token

# scope="function": the unit of work commits when the handler returns, before the response is
# sent, so a client never gets a 2xx for a write that then fails to commit.
SessionDep = Annotated[Session, Depends(request_session, scope="function")]


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenRequired()
    return token.strip()


def current_user(request: Request, session: SessionDep) -> User:
    user = resolve_api_token(session, bearer_token(request))
    if user is None:
        raise TokenNotValid()
    return user


def current_actor(user: Annotated[User, Depends(current_user)]) -> Actor:
    return actor_of(user)


ActorDep = Annotated[Actor, Depends(current_actor)]
UserDep = Annotated[User, Depends(current_user)]
