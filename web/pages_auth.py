"""Logging in and out. The home page (`/`) is web/pages_landing.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from core.errors import RateLimited, Unauthorized
from core.settings import get_settings
from marketplace.accounts.service import (
    close_web_session,
    log_in,
    open_web_session,
    resolve_web_session,
)
from web.forms import SubmittedForm, explain, text
from web.i18n import page_translator
from web.security import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    LOGIN_CSRF_MAX_AGE,
    SESSION_COOKIE,
    SIGNED_IN_PAGES,
    CsrfRejected,
    DbSession,
    delete_cookie,
    login_token_valid,
    new_login_token,
    safe_next,
    set_cookie,
)
from web.templating import render

router = APIRouter(include_in_schema=False)

NextUrl = Annotated[str | None, Query(alias="next", max_length=2000)]


def _login_form(
    request: Request,
    next_url: str | None,
    *,
    email: str = "",
    error: str = "",
    status: int = 200,
    retry_after: int | None = None,
) -> Response:
    token = new_login_token()
    response = render(
        request,
        "login.html",
        {"login_token": token, "next": safe_next(next_url), "email": email, "error": error},
        status_code=status,
    )
    set_cookie(response, LOGIN_CSRF_COOKIE, token, LOGIN_CSRF_MAX_AGE)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


@router.get("/login")
def login_page(request: Request, session: DbSession, next_url: NextUrl = None) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token and resolve_web_session(session, token):
        return RedirectResponse(safe_next(next_url), status_code=303)
    return _login_form(request, next_url)


@router.post("/login")
def login(request: Request, session: DbSession, form: SubmittedForm) -> Response:
    sent = form.get(CSRF_FIELD)
    if not login_token_valid(
        request.cookies.get(LOGIN_CSRF_COOKIE), sent if isinstance(sent, str) else None
    ):
        raise CsrfRejected()
    next_url = text(form, "next")
    email = text(form, "email")
    password = form.get("password")
    address = request.client.host if request.client else None
    try:
        user = log_in(session, email, password if isinstance(password, str) else "", address)
    except RateLimited as exc:
        message = explain(exc, page_translator(request))
        return _login_form(
            request, next_url, email=email, error=message, status=429, retry_after=exc.retry_after
        )
    except Unauthorized as exc:
        message = explain(exc, page_translator(request))
        return _login_form(request, next_url, email=email, error=message, status=401)
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:
        # A fresh token at every login: a session id planted before login is worth nothing.
        close_web_session(session, previous)
    token, _ = open_web_session(session, user)
    response = RedirectResponse(safe_next(next_url), status_code=303)
    set_cookie(response, SESSION_COOKIE, token, get_settings().session_max_age_seconds)
    delete_cookie(response, LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout", dependencies=SIGNED_IN_PAGES)
def logout(request: Request, session: DbSession) -> Response:
    close_web_session(session, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    delete_cookie(response, SESSION_COOKIE)
    return response
