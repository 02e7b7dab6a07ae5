"""Jinja2 rendering: one environment per language, with the gettext catalogue installed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse

from web.i18n import LOCALES, lang_url, page_locale, translations, translator
from web.labels import NOTICES, ROLES, label

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
HTMX_FILE = STATIC_DIR / "vendor" / "htmx.min.js"


def format_number(value: float | int | None, locale: str) -> str:
    """1200.5 → "1 200,5" in French, "1,200.5" in English; at most two decimals."""
    if value is None:
        return ""
    return format_decimal(value, format="#,##0.##", locale=locale)


def format_day(value: date | None, locale: str) -> str:
    """A date as its reader writes it: « 1 janv. 2027 » in French, "Jan 1, 2027" in English."""
    return format_date(value, format="medium", locale=locale) if value else ""


def format_moment(value: datetime | None, locale: str) -> str:
    """A stored time (UTC) in the page's language, its zone said: the server keeps UTC."""
    if value is None:
        return ""
    return f"{format_datetime(value, format='short', tzinfo=UTC, locale=locale)} UTC"


@lru_cache
def environment(locale: str) -> Environment:
    """An environment per language rather than translations swapped per request: requests run
    on several threads at once, and installing translations mutates the environment."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters["number"] = lambda value: format_number(value, locale)
    env.filters["day"] = lambda value: format_day(value, locale)
    env.filters["moment"] = lambda value: format_moment(value, locale)
    env.filters["coordinate"] = lambda value: format_decimal(value, "0.0#####", locale=locale)
    env.globals["locale"] = locale
    env.globals["locales"] = LOCALES
    return env


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A page (or an HTMX fragment) in the request's language."""
    locale = page_locale(request)
    viewer = getattr(request.state, "viewer", None)
    values: dict[str, Any] = {
        "request": request,
        "viewer": viewer,
        "csrf_token": viewer.csrf_token if viewer else "",
        "lang_url": lambda code: lang_url(request, code),
        "path": request.url.path,
        # Without the script the pages still work: plain forms, no live search or polling.
        "htmx": HTMX_FILE.is_file(),
    }
    translate = translator(locale)
    notice = NOTICES.get(request.query_params.get("notice", ""))
    values["notice"] = translate(notice) if notice else ""
    values["role"] = label(ROLES, viewer.role, translate) if viewer else ""
    values.update(context or {})
    html = environment(locale).get_template(template).render(values)
    return HTMLResponse(html, status_code=status_code, headers=headers)
