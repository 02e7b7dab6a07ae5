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

from core.errors import DomainError, RefusedCharacter
from web.i18n import N_, Translate
from web.messages import (
    BY_NAME,
    CASES,
    REWRITE_WORDS,
    case_message,
    error_message,
    remove_sentence,
)

# Errors that belong to no field shown on the form go at the top of it, under this key.
GENERAL = "__all__"
FieldErrors = dict[str, str]

# The refusals that reach a page as text only, not as an error of a known case (web/messages.py
# translates those by class): the reasons an import's report stores without a case, its rows'
# own checks (marketplace.imports.rows) and the schemas' refusals, which name no class.
_TEXT_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), message)
    for pattern, message in (
        (r"^months are numbers from 1 to 12", N_("Months go from 1 to 12.")),
        (
            r"^contains a character that is not allowed",
            N_(
                "This text contains a character that is not allowed "
                "(a control or text-direction character)."
            ),
        ),
        (r"^a value is required", N_("This field is required.")),
    )
)


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
    its class (web/messages.py), a text by what it says."""
    if isinstance(error, DomainError):
        known = error_message(error, translate)
        if known is not None:
            return known
        error = error.detail
    rewrite = _explain_rewrite(error, translate)
    if rewrite is not None:
        return rewrite
    for pattern, message in _TEXT_MESSAGES:
        match = pattern.search(error)
        if match:
            return translate(message, **match.groupdict())
    return None


def explain(error: DomainError | str, translate: Translate) -> str:
    """A service's error in the page's language (in its own words when not known)."""
    known = explain_known(error, translate)
    detail = error.detail if isinstance(error, DomainError) else error
    return known or translate(N_("This value was refused (%(detail)s)."), detail=detail)


def explain_reason(reason: dict[str, Any], translate: Translate) -> str:
    """One refusal of an import's report: by its case's name when it was stored with one."""
    case = BY_NAME.get(str(reason.get("code", "")))
    params = reason.get("params")
    text = str(reason.get("reason", ""))
    if case is not None:
        known = case_message(case, params if isinstance(params, dict) else {}, translate)
        if known is not None:
            return known
    return explain_known(text, translate) or text


# The types of the refusals the shared input checks raise (core.inputs, PydanticCustomError).
_VALIDATION_TYPES = {
    "text_character": CASES[RefusedCharacter],
    "months": N_("Months go from 1 to 12."),
}


def _validation_message(error: Any, translate: Translate) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return translate(N_("This field is required."))
    if kind in ("float_parsing", "float_type", "int_parsing", "int_type", "finite_number"):
        return translate(N_("Enter a number."))
    if kind == "string_too_short":
        return translate(N_("At least %(count)s characters."), count=ctx.get("min_length"))
    if kind == "string_too_long" or (kind == "too_long" and isinstance(error.get("input"), str)):
        return translate(N_("At most %(count)s characters."), count=ctx.get("max_length"))
    if kind == "too_long":
        return translate(N_("Too many entries."))
    if kind in ("greater_than", "greater_than_equal"):
        limit = ctx.get("gt", ctx.get("ge"))
        return translate(N_("Must be at least %(limit)s."), limit=limit)
    if kind in ("less_than", "less_than_equal"):
        limit = ctx.get("lt", ctx.get("le"))
        return translate(N_("Must be at most %(limit)s."), limit=limit)
    if kind in ("enum", "literal_error", "uuid_parsing", "uuid_type"):
        return translate(N_("Choose a value from the list."))
    if kind == "value_error" and "email" in str(error.get("msg", "")):
        return translate(N_("Not a valid e-mail address."))
    # The shared input checks' own types (core.inputs).
    if kind in _VALIDATION_TYPES:
        return translate(_VALIDATION_TYPES[kind])
    return translate(N_("Invalid value."))


def validation_errors(exc: ValidationError, translate: Translate) -> FieldErrors:
    errors: FieldErrors = {}
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or GENERAL
        errors.setdefault(key, _validation_message(error, translate))
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
