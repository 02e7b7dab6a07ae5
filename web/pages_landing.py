"""The public landing page at `/` (signed-in users go on to their first page) and the password
reset by e-mail: the "forgot password" form, and the form the e-mailed link opens.

The reset forms are used before any session exists, so they carry the login form's signed
double-submit CSRF token (web.security.new_login_token), as /login does.
"""

from __future__ import annotations

import logging
import re

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from core.errors import Invalid, RateLimited
from core.settings import get_settings
from marketplace.accounts.errors import ResetLinkNotValid
from marketplace.accounts.service import (
    check_reset_token,
    request_password_reset,
    reset_password,
)
from marketplace.accounts.tasks import RESET_PATH
from marketplace.catalogue.figures import territory_figures
from marketplace.territory.service import latest_release
from web.cards import family_label
from web.forms import SubmittedForm, explain, text
from web.i18n import page_locale, page_translator
from web.security import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    LOGIN_CSRF_MAX_AGE,
    SESSION_COOKIE,
    CsrfRejected,
    DbSession,
    OptionalViewer,
    delete_cookie,
    login_token_valid,
    new_login_token,
    set_cookie,
)
from web.templating import render

router = APIRouter(include_in_schema=False)

# The reset link's token is in the path: no page of this flow may be cached or tell it onwards.
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


class _HideResetTokens(logging.Filter):
    """Writes the reset link's path without its token in the server's access log: uvicorn quotes
    each request's path there, and a live link read from a log opens the account. The line stays
    (that the page was asked is worth seeing), only the token goes; wherever the path stands in
    the line (behind a root path, say)."""

    TOKEN = re.compile(re.escape(RESET_PATH) + r"[^?#\s\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self.TOKEN.sub(RESET_PATH + "<hidden>", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


# uvicorn configures its loggers before it imports the app, so the filter set here stays on.
logging.getLogger("uvicorn.access").addFilter(_HideResetTokens())


@router.get("/")
def home(request: Request, session: DbSession, viewer: OptionalViewer) -> Response:
    if viewer is not None:
        return RedirectResponse(
            "/companies" if viewer.actor.is_staff else "/flows", status_code=303
        )
    settings = get_settings()
    figures = territory_figures(session)
    locale = page_locale(request)
    families = [(family_label(f.family, locale), f.offers, f.requests) for f in figures.families]
    # The latest release only, never live data: see marketplace/territory/service.py.
    exchanged = latest_release(session)
    contact = {
        "name": settings.facilitator_name.strip(),
        "email": settings.facilitator_email.strip(),
        "phone": settings.facilitator_phone.strip(),
    }
    return render(
        request,
        "landing.html",
        {
            "figures": figures,
            "families": families,
            "contact": contact,
            "k": settings.k_anonymity,
            "exchanged": exchanged if exchanged is not None and exchanged.figures.any else None,
            "family_label": lambda family: family_label(family, locale),
        },
    )


def _form(
    request: Request,
    template: str,
    context: dict[str, object],
    *,
    status: int = 200,
    retry_after: int | None = None,
) -> Response:
    token = new_login_token()
    context = {"minutes": get_settings().password_reset_ttl_minutes, **context}
    headers = dict(PRIVATE_HEADERS)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    response = render(
        request, template, {"form_token": token, **context}, status_code=status, headers=headers
    )
    set_cookie(response, LOGIN_CSRF_COOKIE, token, LOGIN_CSRF_MAX_AGE)
    return response


def _check_csrf(request: Request, form: SubmittedForm) -> None:
    sent = form.get(CSRF_FIELD)
    if not login_token_valid(
        request.cookies.get(LOGIN_CSRF_COOKIE), sent if isinstance(sent, str) else None
    ):
        raise CsrfRejected()


@router.get("/password/forgot")
def forgot_page(request: Request) -> Response:
    return _form(request, "password_forgot.html", {"email": "", "errors": {}, "sent": False})


@router.post("/password/forgot")
def forgot(request: Request, session: DbSession, form: SubmittedForm) -> Response:
    _check_csrf(request, form)
    email = text(form, "email")
    translate = page_translator(request)
    if not email or "@" not in email or len(email) > 254:
        errors = {"email": translate("Not a valid e-mail address.")}
        return _form(
            request,
            "password_forgot.html",
            {"email": email, "errors": errors, "sent": False},
            status=422,
        )
    address = request.client.host if request.client else None
    try:
        request_password_reset(session, email, address)
    except RateLimited as exc:
        errors = {"__all__": explain(exc, translate)}
        return _form(
            request,
            "password_forgot.html",
            {"email": email, "errors": errors, "sent": False},
            status=429,
            retry_after=exc.retry_after,
        )
    # The same page whatever the address: whether it has an account is not for this page to say.
    return _form(request, "password_forgot.html", {"email": "", "errors": {}, "sent": True})


@router.get("/password/reset/{token}")
def reset_page(request: Request, session: DbSession, token: str) -> Response:
    try:
        check_reset_token(session, token)
    except ResetLinkNotValid:
        return _form(request, "password_reset.html", {"valid": False, "errors": {}}, status=404)
    return _form(request, "password_reset.html", {"valid": True, "errors": {}, "token": token})


@router.post("/password/reset/{token}")
def reset(request: Request, session: DbSession, form: SubmittedForm, token: str) -> Response:
    _check_csrf(request, form)
    translate = page_translator(request)
    password = form.get("password")
    confirmation = form.get("password_confirmation")
    try:
        reset_password(
            session,
            token,
            password if isinstance(password, str) else "",
            confirmation if isinstance(confirmation, str) else "",
        )
    except ResetLinkNotValid:
        return _form(request, "password_reset.html", {"valid": False, "errors": {}}, status=404)
    except Invalid as exc:
        errors = {exc.field or "password": explain(exc, translate)}
        return _form(
            request,
            "password_reset.html",
            {"valid": True, "errors": errors, "token": token},
            status=422,
        )
    response = RedirectResponse("/login?notice=password-reset", status_code=303)
    # Every session of the account is closed, this browser's too if it had one.
    delete_cookie(response, SESSION_COOKIE)
    delete_cookie(response, LOGIN_CSRF_COOKIE)
    return response
