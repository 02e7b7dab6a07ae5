"""Error pages (404, 403, 500...) in the page's language, never with a stack trace.

The application's handlers answer JSON for the API; these wrap them so a page gets a page and
`/api/...` still gets exactly what the API's handler gives.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import Scope

from core.errors import DomainError, log_unexpected
from web.forms import explain
from web.i18n import N_, page_translator
from web.middleware import SECURITY_HEADERS, is_api_path
from web.security import CsrfRejected, LoginRequired, RoleRefused, login_url
from web.templating import render

log = logging.getLogger("symbiose.web")

Handler = Callable[[Request, Any], Response | Awaitable[Response]]

TITLES = {
    400: N_("Bad request"),
    403: N_("Access refused"),
    404: N_("Page not found"),
    405: N_("Action not allowed"),
    409: N_("Conflict"),
    413: N_("File too large"),
    422: N_("Invalid data"),
    429: N_("Too many requests"),
    500: N_("Something went wrong"),
    503: N_("Service unavailable"),
}
MESSAGES = {
    400: N_("The request could not be understood."),
    403: N_("You do not have access to this page."),
    404: N_("This page does not exist, or is not yours to see."),
    405: N_("This action is not allowed here."),
    409: N_("This conflicts with a change saved meanwhile. Reload the page and try again."),
    500: N_("An unexpected error occurred. It has been recorded; please try again later."),
    503: N_("The service is busy. Please try again in a moment."),
}
CSRF_MESSAGE = N_(
    "This form has expired or did not come from this site. Reload the page and try again."
)
ROLE_MESSAGE = N_("This page is reserved to another kind of account.")
# Used when a template itself cannot be rendered: no translation, no template, nothing to fail.
FALLBACK_PAGE = (
    "<!doctype html><html lang=fr><meta charset=utf-8><title>Erreur</title>"
    "<p>Une erreur inattendue s'est produite. <a href='/'>Retour à l'accueil</a></p></html>"
)


def error_page(request: Request, status: int, message: str | None = None) -> Response:
    translate = page_translator(request)
    title = translate(TITLES.get(status, TITLES[400] if status < 500 else TITLES[500]))
    if message is None:
        fallback = MESSAGES[400] if status < 500 else MESSAGES[500]
        message = translate(MESSAGES.get(status, fallback))
    try:
        return render(
            request,
            "error.html",
            {"status": status, "title": title, "message": message},
            status_code=status,
        )
    except Exception:
        log.exception("error page could not be rendered")
        return HTMLResponse(FALLBACK_PAGE, status_code=status)


def install_error_pages(app: FastAPI) -> None:
    def wrap(exc_class: type[Exception] | int, page: Handler) -> None:
        previous = app.exception_handlers.get(exc_class)

        async def handler(request: Request, exc: Any) -> Response:
            if is_api_path(request.url.path):
                if previous is None:
                    # Starlette's own answer when nothing handles an error.
                    return PlainTextResponse("Internal Server Error", status_code=500)
                result = previous(request, exc)
                return await result if isinstance(result, Awaitable) else result
            result = page(request, exc)
            return await result if isinstance(result, Awaitable) else result

        app.add_exception_handler(exc_class, handler)

    wrap(LoginRequired, _login_redirect)
    wrap(CsrfRejected, lambda r, _: error_page(r, 403, page_translator(r)(CSRF_MESSAGE)))
    wrap(RoleRefused, lambda r, _: error_page(r, 403, page_translator(r)(ROLE_MESSAGE)))
    wrap(DomainError, _domain_error)
    # The API answers these with its JSON body; a page gets a page with the same status.
    wrap(IntegrityError, lambda r, _: error_page(r, 409))
    wrap(OperationalError, _database_busy)
    wrap(StarletteHTTPException, lambda r, exc: error_page(r, exc.status_code))
    wrap(RequestValidationError, _validation_error)
    wrap(Exception, lambda r, exc: unexpected_page(r.scope, exc))


def _login_redirect(request: Request, exc: LoginRequired) -> Response:
    target = login_url(exc.next_url)
    if request.headers.get("hx-request"):
        # An HTMX fragment would otherwise swap the login page into a corner of the page.
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def _domain_error(request: Request, exc: DomainError) -> Response:
    if exc.status_code in (403, 404):
        return error_page(request, exc.status_code)
    page = error_page(request, exc.status_code, explain(exc, page_translator(request)))
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        page.headers["Retry-After"] = str(retry_after)
    return page


def _database_busy(request: Request, exc: OperationalError) -> Response:
    # Logged as the API logs it: the error's type only, its message may quote the statement.
    request_id = getattr(request.state, "request_id", None)
    log.warning("database busy: %s, request id %s", type(exc.orig).__name__, request_id)
    return error_page(request, 503)


def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    # A malformed id in the path is a page that does not exist.
    in_path = any(error.get("loc", ("",))[0] == "path" for error in exc.errors())
    return error_page(request, 404 if in_path else 400)


def unexpected_page(scope: Scope, exc: Exception) -> Response:
    """The 500 page of an exception no handler knows, logged as the API logs one: its type and
    place, never its message or values (a company's name, a position). The request id's
    middleware sends it (api/request_id.py): Starlette's outermost one would send it too, then
    raise the exception again for the server to log whole."""
    request = Request(scope)
    request_id = getattr(request.state, "request_id", None) or ""
    log_unexpected(log, exc, request_id)
    page = error_page(request, 500)
    # Sent from outside the page middleware: its headers are put here.
    for name, value in SECURITY_HEADERS.items():
        page.headers.setdefault(name, value)
    if request_id:
        page.headers["X-Request-ID"] = request_id
    return page
