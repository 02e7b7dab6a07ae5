"""Form input turned into service input, and the services' errors turned into messages per field."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import ValidationError
from sqlmodel import Session
from starlette.datastructures import FormData

from core.errors import DomainError
from core.inputs import schema_refusal
from web.i18n import N_, Translate
from web.messages import (
    BY_NAME,
    REWRITE_WORDS,
    case_message,
    error_message,
    remove_sentence,
    schema_message,
)

# Errors that belong to no field shown on the form go at the top of it, under this key.
GENERAL = "__all__"
FieldErrors = dict[str, str]

# What a listing's text must lose, as stored text (a listing's view, an import's report): its
# sentences are "remove WHAT from the WHERE", joined by "; " (public_text.TextNotPublic).
_REWRITE = re.compile(r"^remove (?P<what>.+) from the (?P<where>title|description)$")


def _explain_rewrite(detail: str, translate: Translate) -> str | None:
    sentences = []
    for part in detail.split("; "):
        match = _REWRITE.match(part)
        if match is None or match["what"] not in REWRITE_WORDS:
            return None
        sentences.append(remove_sentence(match["what"], match["where"], translate))
    return " ".join(sentences)


def explain_known(error: DomainError | str, translate: Translate) -> str | None:
    """A service's error in the page's language, or None when it is not a known one: a case by
    its class (web/messages.py); as text, only what a listing's text must lose."""
    if isinstance(error, DomainError):
        known = error_message(error, translate)
        if known is not None:
            return known
        error = error.detail
    return _explain_rewrite(error, translate)


def explain(error: DomainError | str, translate: Translate) -> str:
    """A service's error in the page's language (in its own words when not known)."""
    known = explain_known(error, translate)
    detail = error.detail if isinstance(error, DomainError) else error
    return known or translate(N_("This value was refused (%(detail)s)."), detail=detail)


def explain_reason(reason: dict[str, Any], translate: Translate) -> str:
    """One refusal of an import's report, by its case's name and parameters; a report stored
    before its rows' refusals had a case shows their English reason."""
    case = BY_NAME.get(str(reason.get("code", "")))
    params = reason.get("params")
    text = str(reason.get("reason", ""))
    if case is not None:
        known = case_message(case, params if isinstance(params, dict) else {}, translate)
        if known is not None:
            return known
    return explain_known(text, translate) or text


def validation_errors(exc: ValidationError, translate: Translate) -> FieldErrors:
    """A form's schema refusals, by their pydantic type (as web/messages.py words the same
    refusals met in a service or an import's row)."""
    errors: FieldErrors = {}
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or GENERAL
        params = {"reason": error.get("msg", ""), **schema_refusal(error)}
        errors.setdefault(key, schema_message(params, translate))
    return errors


def domain_errors(exc: DomainError, translate: Translate) -> FieldErrors:
    return {exc.field or GENERAL: explain(exc, translate)}


def place_errors(errors: FieldErrors, shown: Iterable[str]) -> FieldErrors:
    """Errors about fields the form does not show go to the top, so none is silently lost."""
    shown = set(shown)
    placed: FieldErrors = {}
    for key, message in errors.items():
        target = key if key in shown else GENERAL
        placed[target] = f"{placed[target]} {message}" if target in placed else message
    return placed


# --- reading fields -------------------------------------------------------------------------------


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def optional_text(form: FormData, name: str) -> str | None:
    return text(form, name) or None


def number(form: FormData, name: str) -> str | None:
    """A number as a French user types it: spaces between thousands dropped, a decimal comma
    read as a point ("1 200,5" → "1200.5"). Left as text, so the schema's validation names a bad
    value as it does for any other field."""
    raw = re.sub(r"[\s\u00a0\u202f]", "", text(form, name))
    if not raw:
        return None
    return raw.replace(",", ".") if raw.count(",") == 1 and "." not in raw else raw


def checked(form: FormData, name: str) -> bool:
    return form.get(name) in ("on", "true", "1", "yes")


def values(form: FormData) -> dict[str, str]:
    """The submitted text fields, to fill a form again after an error."""
    return {key: value for key, value in form.multi_items() if isinstance(value, str)}


async def _submitted_form(request: Request) -> FormData:
    # Read here, in an async dependency, so handlers stay plain functions run on the thread pool
    # (the services are synchronous); Starlette caches the parsed form for the CSRF check too.
    return await request.form()


SubmittedForm = Annotated[FormData, Depends(_submitted_form)]


@contextmanager
def form_errors(session: Session, translate: Translate) -> Iterator[FieldErrors]:
    """Collect, field by field, why a form's change was refused. A refused change is rolled back
    whole: a service may have changed a row before a later rule refused the rest, and nothing of
    it may reach the commit at the end of the request."""
    errors: FieldErrors = {}
    try:
        yield errors
    except ValidationError as exc:
        session.rollback()
        errors.update(validation_errors(exc, translate))
    except DomainError as exc:
        session.rollback()
        errors.update(domain_errors(exc, translate))
