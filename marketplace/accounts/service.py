"""Accounts: password hashing, users, web sessions, API tokens, and who may act on what.

E-mail addresses are sealed with the platform text key (privacy.vault.SealedText) rather than the
company's data key: login must find and open a user before any company is known, staff belong
to no company, and accounts sits below companies (it cannot read a company's key). `keys rotate`
re-seals them with the flows' free text.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, select

from core import ratelimit
from core.db import select_for_update
from core.models import utcnow
from core.settings import get_settings
from core.worker import enqueue
from marketplace.accounts.errors import (
    CompanyAccountOnly,
    CompanyAdminOnly,
    CompanyRoleNeedsCompany,
    EmailTaken,
    NoSuchToken,
    NotAnEmail,
    PasswordsDiffer,
    PasswordTooShort,
    ResetLinkNotValid,
    StaffHaveNoCompany,
    StaffOnly,
    TokenLifetimeNotPositive,
    TooManyFailedLogins,
    TooManyPasswordResets,
    Unauthorized,
    WrongCredentials,
)
from marketplace.accounts.models import (
    COMPANY_ROLES,
    STAFF_ROLES,
    ApiToken,
    PasswordReset,
    Role,
    User,
    WebSession,
)
from marketplace.accounts.tasks import notify_existing_account, send_password_reset
from privacy.blind_index import blind_index

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
            raise StaffOnly()

    def require_company(self) -> uuid.UUID:
        if self.company_id is None:
            raise CompanyAccountOnly()
        return self.company_id

    def may_access_company(self, company_id: uuid.UUID) -> bool:
        return self.is_staff or self.company_id == company_id


def actor_of(user: User) -> Actor:
    return Actor(user_id=user.id, role=Role(user.role), company_id=user.company_id)


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@cache
def _hashing(test_suite: bool) -> tuple[PasswordHasher, str]:
    """The password hasher, and a hash verified against when the e-mail is unknown (so a login
    takes as long either way). argon2-cffi's default is RFC 9106's low-memory profile (64 MiB,
    3 passes): every environment's but the test suite's, which creates thousands of accounts and
    hashes at the smallest cost instead. A hash names its parameters: each verifies the other's.
    """
    hasher = (
        PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        if test_suite
        else PasswordHasher()
    )
    return hasher, hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordTooShort(field="password", count=MIN_PASSWORD_LENGTH)
    hasher, _ = _hashing(get_settings().environment == "test")
    return hasher.hash(password)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def email_index(email: str) -> str:
    """The blind index that finds a user by e-mail without the address being stored in clear."""
    return blind_index("user-email", normalise_email(email))


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email_index == email_index(email))).first()


def _checked_new_user(email: str, role: Role, company_id: uuid.UUID | None) -> str:
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise NotAnEmail(field="email")
    if role in COMPANY_ROLES and company_id is None:
        raise CompanyRoleNeedsCompany(field="company")
    if role in STAFF_ROLES and company_id is not None:
        raise StaffHaveNoCompany(field="company")
    return email


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    role: Role,
    company_id: uuid.UUID | None = None,
    locale: str = "fr",
) -> User:
    """Create an account (the operator's command, the demo); says so when the e-mail is taken.
    Members adding colleagues go through invite_user, which does not say."""
    email = _checked_new_user(email, role, company_id)
    if find_user_by_email(session, email) is not None:
        raise EmailTaken(field="email")
    user = User(
        email=email,
        email_index=email_index(email),
        password_hash=hash_password(password),
        role=role,
        company_id=company_id,
        locale=locale if locale in ("fr", "en") else "fr",
    )
    session.add(user)
    session.flush()
    return user


@dataclass(frozen=True)
class Invitation:
    """What adding a user answers, the same whether the address had an account or not."""

    email: str
    role: Role
    company_id: uuid.UUID | None


def invite_user(
    session: Session,
    *,
    email: str,
    password: str,
    role: Role,
    company_id: uuid.UUID | None = None,
    locale: str = "fr",
) -> Invitation:
    """Add a user unless the address already has an account, and answer alike either way: a
    "409, exists" would tell a company admin whether anyone (a competitor's staff) has an account.
    An existing account is left untouched. The password is hashed either way, so the time taken
    does not tell either. The existing account's owner gets an e-mail saying someone tried."""
    email = _checked_new_user(email, role, company_id)
    password_hash = hash_password(password)
    existing = find_user_by_email(session, email)
    if existing is not None:
        # Its owner hears of it (by e-mail, after commit); the caller does not.
        enqueue(session, notify_existing_account, str(existing.id))
    else:
        session.add(
            User(
                email=email,
                email_index=email_index(email),
                password_hash=password_hash,
                role=role,
                company_id=company_id,
                locale=locale if locale in ("fr", "en") else "fr",
            )
        )
        session.flush()
    return Invitation(email=email, role=role, company_id=company_id)


def authenticate(session: Session, email: str, password: str) -> User:
    user = find_user_by_email(session, email)
    hasher, dummy_hash = _hashing(get_settings().environment == "test")
    try:
        hasher.verify(user.password_hash if user else dummy_hash, password)
    except (VerificationError, InvalidHashError):
        user = None
    if user is None or not user.is_active:
        raise WrongCredentials()
    return user


def _login_limits(email: str, address: str | None) -> list[tuple[str, int]]:
    settings = get_settings()
    # The account's key is its blind index: the limiter's store holds no address in clear.
    return [
        (f"login:account:{email_index(email)}", settings.login_failures_per_account),
        (f"login:address:{address or 'unknown'}", settings.login_failures_per_address),
    ]


def log_in(session: Session, email: str, password: str, address: str | None) -> User:
    """authenticate(), with failed attempts limited per account and per client address (web form
    and token endpoint alike). Past a limit every attempt is refused, the right password too,
    until enough failures have left the sliding window; refused attempts are not counted, so
    the refusal ends by itself. Unknown addresses are limited alike (no hint that they are)."""
    window = get_settings().login_window_seconds
    limits = _login_limits(email, address)
    waits = [ratelimit.retry_after(key, limit, window) for key, limit in limits]
    wait = max((w for w in waits if w is not None), default=None)
    if wait is not None:
        raise TooManyFailedLogins(retry_after=wait, seconds=wait)
    try:
        return authenticate(session, email, password)
    except Unauthorized:
        for key, _ in limits:
            ratelimit.record(key, window)
        raise


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


def create_api_token(
    session: Session, user: User, name: str, lifetime: timedelta | None = None
) -> str:
    """Issue a bearer token for `user` (see issue_api_token); only the plaintext is returned."""
    return issue_api_token(session, user, name, lifetime)[0]


def issue_api_token(
    session: Session, user: User, name: str, lifetime: timedelta | None = None
) -> tuple[str, ApiToken]:
    """Issue a bearer token for `user`; the plaintext is returned once and never stored. It
    expires after `lifetime`, never later than the settings' longest lifetime."""
    longest = timedelta(days=get_settings().api_token_max_age_days)
    lifetime = longest if lifetime is None else min(lifetime, longest)
    if lifetime <= timedelta(0):
        raise TokenLifetimeNotPositive(field="expires_in_days")
    token = "sym_" + secrets.token_urlsafe(32)
    row = ApiToken(
        token_hash=_sha256(token), user_id=user.id, name=name[:100], expires_at=utcnow() + lifetime
    )
    session.add(row)
    session.flush()
    return token, row


def resolve_api_token(session: Session, token: str) -> User | None:
    """The active user a live bearer token belongs to, checked now (one query): neither revoked
    nor expired."""
    statement = (
        select(User)
        .join(ApiToken, col(ApiToken.user_id) == col(User.id))
        .where(
            col(ApiToken.token_hash) == _sha256(token),
            col(ApiToken.revoked) == sa.false(),
            col(ApiToken.expires_at) > utcnow(),
            col(User.is_active) == sa.true(),
        )
    )
    return session.exec(statement).first()


def _token_query(actor: Actor) -> Any:
    query = select(ApiToken).join(User, col(ApiToken.user_id) == col(User.id))
    if actor.is_staff:
        return query
    if actor.is_company_admin:
        # The company's administrator sees (and may revoke) every token of its company.
        return query.where(col(User.company_id) == actor.company_id)
    return query.where(col(ApiToken.user_id) == actor.user_id)


def list_api_tokens(session: Session, actor: Actor) -> Sequence[ApiToken]:
    query = _token_query(actor).order_by(col(ApiToken.created_at).desc())
    return session.exec(query).all()


def revoke_api_token(session: Session, actor: Actor, token_id: uuid.UUID) -> ApiToken:
    """Revoke a token at once on every route. The public catalogue's reads remember a token for
    up to a second (PUBLIC_READ_TOKEN_TTL_SECONDS): this process forgets at once, others within
    that second."""
    row = session.exec(_token_query(actor).where(col(ApiToken.id) == token_id)).first()
    if row is None:
        raise NoSuchToken()
    row.revoked = True
    session.add(row)
    session.flush()
    forget_token_reads()
    return row


def token_is_live(row: ApiToken, now: datetime | None = None) -> bool:
    return not row.revoked and row.expires_at > (now or utcnow())


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
        raise CompanyAdminOnly()


# --- password reset ------------------------------------------------------------------------------


def _reset_limits(email: str, address: str | None) -> list[tuple[str, int]]:
    settings = get_settings()
    # Keyed by the address's blind index whether or not it has an account, so being limited
    # tells nothing about the account either.
    return [
        (f"reset:account:{email_index(email)}", settings.password_resets_per_account),
        (f"reset:address:{address or 'unknown'}", settings.password_resets_per_address),
    ]


def request_password_reset(session: Session, email: str, address: str | None) -> None:
    """Send a reset link to `email` if it is an active account's, and answer alike either way:
    nothing is returned, and the request does the same work whatever the address (it counts the
    request and enqueues the task that looks the account up, issues the link and mails it), so
    neither the answer nor its time tells whether the address has an account. Every request
    counts against the address's and the client's limits (a sliding window), which stops both
    mail-bombing an owner and sweeping a list of addresses."""
    settings = get_settings()
    window = settings.password_reset_window_seconds
    limits = _reset_limits(email, address)
    waits = [ratelimit.retry_after(key, limit, window) for key, limit in limits]
    wait = max((w for w in waits if w is not None), default=None)
    if wait is not None:
        raise TooManyPasswordResets(retry_after=wait, seconds=wait)
    for key, _ in limits:
        ratelimit.record(key, window)
    enqueue(session, send_password_reset, email_index(email))


def _live_reset(session: Session, token: str, *, lock: bool = False) -> PasswordReset:
    if not token or len(token) > 200:
        raise ResetLinkNotValid(field="token")
    query = select(PasswordReset).where(PasswordReset.token_hash == _sha256(token))
    # Two submissions of one link at once: the second waits for the first to commit, then
    # reads the link as used (SELECT ... FOR UPDATE; SQLite's write lock).
    rows = select_for_update(session, query) if lock else session.exec(query).all()
    reset = rows[0] if rows else None
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
        raise ResetLinkNotValid(field="token")
    user = session.get(User, reset.user_id)
    if user is None or not user.is_active:
        raise ResetLinkNotValid(field="token")
    return reset


def check_reset_token(session: Session, token: str) -> None:
    """Whether a reset link still works (the form is shown only then); raises ResetLinkNotValid."""
    _live_reset(session, token)


def reset_password(session: Session, token: str, password: str, confirmation: str) -> User:
    """Set a new password through a live reset link, once. Afterwards the account's every web
    session, API token and other reset link stops working: whoever had stolen one of them (the
    reason a password is reset) is out."""
    reset = _live_reset(session, token, lock=True)
    if password != confirmation:
        raise PasswordsDiffer(field="password_confirmation")
    password_hash = hash_password(password)
    user = session.get(User, reset.user_id)
    assert user is not None  # checked by _live_reset
    user.password_hash = password_hash
    session.add(user)
    now = utcnow()
    reset.used_at = now
    session.add(reset)
    others = select(PasswordReset).where(
        PasswordReset.user_id == user.id, PasswordReset.token_hash != reset.token_hash
    )
    for other in session.exec(others).all():
        session.delete(other)
    for web_session in session.exec(select(WebSession).where(WebSession.user_id == user.id)).all():
        session.delete(web_session)
    tokens = select(ApiToken).where(ApiToken.user_id == user.id, col(ApiToken.revoked).is_(False))
    for api_token in session.exec(tokens).all():
        api_token.revoked = True
        session.add(api_token)
    session.flush()
    forget_token_reads()
    return user


def emails_of(session: Session, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The login e-mails of these users, in one query (for the facilitator's history pages,
    which name who acted)."""
    ids = set(user_ids)
    if not ids:
        return {}
    return {u.id: u.email for u in session.exec(select(User).where(col(User.id).in_(ids)))}
