"""Accounts: password hashing, users, web sessions, API tokens, and who may act on what."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, select

from core.models import utcnow
from core.settings import get_settings
from marketplace.accounts.errors import Conflict, Forbidden, Invalid, Unauthorized
from marketplace.accounts.models import COMPANY_ROLES, STAFF_ROLES, ApiToken, Role, User, WebSession

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so a login takes as long either way.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
MIN_PASSWORD_LENGTH = 10


@dataclass(frozen=True)
class Actor:
    """Who is acting: the user, their role and company. Passed to every service call."""

    user_id: uuid.UUID
    role: Role
    company_id: uuid.UUID | None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_company_admin(self) -> bool:
        return self.role == Role.COMPANY_ADMIN

    def require_staff(self) -> None:
        if not self.is_staff:
            raise Forbidden("reserved to the facilitating association")

    def require_company(self) -> uuid.UUID:
        if self.company_id is None:
            raise Forbidden("this action belongs to a company account")
        return self.company_id

    def may_access_company(self, company_id: uuid.UUID) -> bool:
        return self.is_staff or self.company_id == company_id


def actor_of(user: User) -> Actor:
    return Actor(user_id=user.id, role=Role(user.role), company_id=user.company_id)


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            f"password must have at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )
    return _hasher.hash(password)


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    role: Role,
    company_id: uuid.UUID | None = None,
    locale: str = "fr",
) -> User:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise Invalid("not an e-mail address", field="email")
    if role in COMPANY_ROLES and company_id is None:
        raise Invalid("a company role needs a company", field="company")
    if role in STAFF_ROLES and company_id is not None:
        raise Invalid("the association's staff belong to no company", field="company")
    if session.exec(select(User).where(User.email == email)).first() is not None:
        raise Conflict("an account with this e-mail already exists", field="email")
    user = User(
        email=email,
        password_hash=hash_password(password),
        role=role,
        company_id=company_id,
        locale=locale if locale in ("fr", "en") else "fr",
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User:
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        user = None
    if user is None or not user.is_active:
        raise Unauthorized("wrong e-mail or password")
    return user


def open_web_session(session: Session, user: User) -> tuple[str, WebSession]:
    """Start a login session; returns the cookie token (shown once) and the stored row."""
    token = secrets.token_urlsafe(32)
    ttl = timedelta(seconds=get_settings().session_max_age_seconds)
    row = WebSession(
        token_hash=_sha256(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        expires_at=utcnow() + ttl,
    )
    session.add(row)
    session.flush()
    return token, row


def resolve_web_session(session: Session, token: str) -> tuple[User, WebSession] | None:
    row = session.get(WebSession, _sha256(token))
    if row is None or row.expires_at < utcnow():
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    return user, row


def close_web_session(session: Session, token: str) -> None:
    row = session.get(WebSession, _sha256(token))
    if row is not None:
        session.delete(row)
        session.flush()


def create_api_token(session: Session, user: User, name: str) -> str:
    """Issue a bearer token for `user`; the plaintext is returned once and never stored."""
    token = "sym_" + secrets.token_urlsafe(32)
    session.add(ApiToken(token_hash=_sha256(token), user_id=user.id, name=name[:100]))
    session.flush()
    return token


def resolve_api_token(session: Session, token: str) -> User | None:
    """The active user a live bearer token belongs to, checked now (one query)."""
    statement = (
        select(User)
        .join(ApiToken, col(ApiToken.user_id) == col(User.id))
        .where(
            col(ApiToken.token_hash) == _sha256(token),
            col(ApiToken.revoked) == sa.false(),
            col(User.is_active) == sa.true(),
        )
    )
    return session.exec(statement).first()


class _ReaderMemo:
    """Who recent bearer tokens belong to, for public reads only (see actor_for_public_read)."""

    def __init__(self, max_age: float, max_entries: int) -> None:
        self.max_age, self.max_entries = max_age, max_entries
        self.clock = time.monotonic
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, Actor | None]] = {}

    def get(self, token_hash: str) -> tuple[bool, Actor | None]:
        with self._lock:
            known = self._entries.get(token_hash)
        if known is None or self.clock() - known[0] >= self.max_age:
            return False, None
        return True, known[1]

    def put(self, token_hash: str, actor: Actor | None) -> None:
        with self._lock:
            if len(self._entries) >= self.max_entries:
                # Rare (that many distinct tokens within a second): start over.
                self._entries.clear()
            self._entries[token_hash] = (self.clock(), actor)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# As stale as the catalogue's own response cache may be about other processes' changes: a token
# revoked (or a user deactivated) elsewhere may still read the public catalogue for up to a second.
PUBLIC_READ_TOKEN_TTL_SECONDS = 1.0
_readers = _ReaderMemo(PUBLIC_READ_TOKEN_TTL_SECONDS, 10_000)


def actor_for_public_read(session: Session, token: str) -> Actor | None:
    """Who a bearer token belongs to, for reads of public data only (the catalogue): remembered
    for about a second, since on a cached catalogue page this check would otherwise be nearly all
    the request's work. A bad token is remembered as bad as well. Every other route checks the
    token on each request (resolve_api_token)."""
    token_hash = _sha256(token)
    known, actor = _readers.get(token_hash)
    if known:
        return actor
    user = resolve_api_token(session, token)
    actor = None if user is None else actor_of(user)
    _readers.put(token_hash, actor)
    return actor


def forget_token_reads() -> None:
    """Forget remembered tokens (tests, and after revoking tokens in this process)."""
    _readers.clear()


def require_company_admin(actor: Actor, company_id: uuid.UUID) -> None:
    if actor.is_staff:
        return
    if actor.company_id != company_id or not actor.is_company_admin:
        raise Forbidden("only the company's administrator may do this")
