"""Who is looking at a page: the session cookie, CSRF checks and role guards (deny by default).

Every authenticated router lists `verify_csrf` and a role guard in its dependencies, so a route
added later is protected without anyone remembering to protect it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode, urlsplit

import sqlalchemy as sa
from fastapi import Depends, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from core.db import request_session
from core.settings import get_settings
from marketplace.accounts.service import Actor, actor_of, resolve_web_session
from marketplace.alerts.models import Notification
from marketplace.companies.models import Company
from marketplace.companies.service import get_company
from marketplace.introductions.inbox import unread_notices

SESSION_COOKIE = "symbiose_session"
LOGIN_CSRF_COOKIE = "symbiose_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOGIN_CSRF_MAX_AGE = 3600

# Committed when the handler returns, before the response leaves ("function" scope): the page a
# redirect leads to must already see what the form wrote.
DbSession = Annotated[Session, Depends(request_session, scope="function")]


class LoginRequired(Exception):
    """No valid session: the page answers with a redirect to the login form."""

    def __init__(self, next_url: str | None) -> None:
        super().__init__("login required")
        self.next_url = next_url


class CsrfRejected(Exception):
    """A state-changing request without the session's (or login form's) CSRF token."""


class RoleRefused(Exception):
    """A page reserved to another role (company account vs. the facilitating association)."""


@dataclass(frozen=True)
class Viewer:
    """Plain values copied from the session's rows: error pages are rendered after the unit of
    work has closed (or rolled back), when the ORM rows can no longer be read."""

    actor: Actor
    email: str
    role: str
    locale: str
    csrf_token: str
    unread_alerts: int = 0
    # The company's own introduction notices not read yet (none for the facilitator).
    unread_notices: int = 0


def _unread_alerts(session: Session, user_id: uuid.UUID) -> int:
    # The header shows it on every page: one COUNT on an indexed column, no rows loaded.
    query = (
        select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, col(Notification.read_at).is_(None))
    )
    return int(session.exec(query).one())


def _signed_in_viewer(request: Request, session: Session) -> Viewer | None:
    token = request.cookies.get(SESSION_COOKIE)
    resolved = resolve_web_session(session, token) if token else None
    if resolved is None:
        return None
    user, row = resolved
    viewer = Viewer(
        actor=actor_of(user),
        email=user.email,
        role=user.role,
        locale=user.locale,
        csrf_token=row.csrf_token,
        unread_alerts=_unread_alerts(session, user.id),
        unread_notices=unread_notices(session, user.company_id) if user.company_id else 0,
    )
    # Templates, the locale choice and the error pages read it from here.
    request.state.viewer = viewer
    request.state.user_locale = user.locale
    return viewer


def current_viewer(request: Request, session: DbSession) -> Viewer:
    viewer = _signed_in_viewer(request, session)
    if viewer is None:
        raise LoginRequired(_return_path(request))
    return viewer


def optional_viewer(request: Request, session: DbSession) -> Viewer | None:
    """The public pages (the catalogue): anonymous visitors welcome, members get more."""
    return _signed_in_viewer(request, session)


CurrentViewer = Annotated[Viewer, Depends(current_viewer)]
OptionalViewer = Annotated[Viewer | None, Depends(optional_viewer)]


def own_company(session: Session, viewer: Viewer) -> Company:
    """The company of a company account (the pages that call it are guarded by require_company)."""
    return get_company(session, viewer.actor, viewer.actor.require_company())


def _return_path(request: Request) -> str | None:
    # Only a page can be returned to; a form's POST cannot be replayed after logging in.
    if request.method != "GET" or request.headers.get("hx-request"):
        return None
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def login_url(next_url: str | None) -> str:
    return "/login" + (f"?{urlencode({'next': next_url})}" if next_url else "")


def safe_next(value: str | None) -> str:
    """A local path to go to after login; anything else (another site, //host) goes home."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(value)
    return "/" if parts.scheme or parts.netloc else value


def tokens_match(sent: str | None, expected: str) -> bool:
    return bool(sent) and hmac.compare_digest(str(sent).encode(), expected.encode())


async def verify_csrf(request: Request, viewer: CurrentViewer) -> None:
    """A POST carries the session's token: in the form field, or in the header HTMX sends."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not tokens_match(sent, viewer.csrf_token):
        raise CsrfRejected()


def require_staff(viewer: CurrentViewer) -> None:
    if not viewer.actor.is_staff:
        raise RoleRefused()


def require_company(viewer: CurrentViewer) -> None:
    if viewer.actor.company_id is None:
        raise RoleRefused()


# Router dependencies: a session, the CSRF token on every POST, and the role.
COMPANY_PAGES = [Depends(verify_csrf), Depends(require_company)]
STAFF_PAGES = [Depends(verify_csrf), Depends(require_staff)]
SIGNED_IN_PAGES = [Depends(verify_csrf)]


# --- the login form's CSRF token, before any session exists --------------------------------------


def _login_signature(nonce: str) -> str:
    key = hashlib.sha256(b"login-csrf:" + get_settings().secret_key.encode()).digest()
    return hmac.new(key, nonce.encode(), hashlib.sha256).hexdigest()


def new_login_token() -> str:
    """A signed double-submit token: the same value goes in a cookie and in the form. The
    signature stops a value planted in the cookie by a sibling sub-domain from being accepted."""
    nonce = secrets.token_urlsafe(24)
    return f"{nonce}.{_login_signature(nonce)}"


def login_token_valid(cookie: str | None, field: str | None) -> bool:
    if not cookie or not tokens_match(field, cookie):
        return False
    nonce, _, signature = cookie.partition(".")
    return hmac.compare_digest(signature.encode(), _login_signature(nonce).encode())


def set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=get_settings().cookie_secure,
    )


def delete_cookie(response: Response, name: str) -> None:
    response.delete_cookie(
        name, path="/", httponly=True, samesite="lax", secure=get_settings().cookie_secure
    )
