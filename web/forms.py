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
from web.i18n import N_, Translate

# Errors that belong to no field shown on the form go at the top of it, under this key.
GENERAL = "__all__"
FieldErrors = dict[str, str]

# The services speak English to every client; a page says the same in its own language.
_DOMAIN_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), message)
    for pattern, message in (
        (r"^not a valid SIRET", N_("Not a valid SIRET: 14 digits with a valid checksum.")),
        (r"^not a NAF/NACE code", N_("Not a NAF code such as 23.51Z.")),
        (r"^size class must be", N_("Choose a size from the list.")),
        (r"^a company with this SIRET", N_("A company with this SIRET is already registered.")),
        (
            r"already has a site with this name",
            N_("Your company already has a site with this name."),
        ),
        (
            r"moved \d+ times in the last 24 hours",
            N_(
                "This site, or your company's sites, moved too often in the last 24 hours: "
                "the position can change again later."
            ),
        ),
        (
            r"^position outside France",
            N_("This position is outside France (metropolitan and overseas départements)."),
        ),
        (r"^position is not within", N_("This position is not within a French département.")),
        (r"^no such site", N_("Choose one of your sites.")),
        (
            r"^unknown List of Waste code",
            N_("Unknown List of Waste code: a six-digit entry is expected, e.g. 10 01 02."),
        ),
        (r"^heat carries no List of Waste code", N_("Heat carries no List of Waste code.")),
        (
            r"^this code is hazardous",
            N_("This code is hazardous: the flow cannot be declared non-hazardous."),
        ),
        (
            r"^this code is non-hazardous",
            N_("This code is non-hazardous: a hazardous waste takes its mirror entry."),
        ),
        (r"^a material needs its List", N_("A material needs its List of Waste code.")),
        (r"^a hazardous flow needs its List", N_("A hazardous flow needs its List of Waste code.")),
        (r"^months are numbers from 1 to 12", N_("Months go from 1 to 12.")),
        (r"^a seasonal flow needs", N_("A seasonal flow needs the months it runs.")),
        (r"^heat needs its temperature", N_("Heat needs its temperature.")),
        (r"belong to an offer", N_("The current route and its cost belong to an offer.")),
        (r"belongs to a request", N_("The virgin material replaced belongs to a request.")),
        (
            r"^unknown recovery/disposal operation",
            N_("Unknown recovery or disposal operation (R 1 to R 13, D 1 to D 15)."),
        ),
        (
            r"^contains a character that is not allowed",
            N_(
                "This text contains a character that is not allowed "
                "(a control or text-direction character)."
            ),
        ),
        (r"^quantity must be greater than zero", N_("The quantity must be greater than zero.")),
        (
            r"^the quantity is too large",
            N_("The quantity is too large once converted to a quantity per year."),
        ),
        (
            r"^unknown unit for \w+ \(use one of: (?P<units>[^)]*)\)",
            N_("Unknown unit for this kind of flow (use one of: %(units)s)."),
        ),
        (r"^a withdrawn flow cannot be edited", N_("A withdrawn flow cannot be edited.")),
        (r"^wrong e-mail or password", N_("Wrong e-mail or password.")),
        (
            r"^too many failed logins, retry in (?P<seconds>\d+) s",
            N_("Too many failed logins. Try again in %(seconds)s seconds."),
        ),
        # The import's file checks (marketplace.imports.parser).
        (r"^the file is empty", N_("The file is empty.")),
        (r"^the file has a header but no data", N_("The file has a header but no data rows.")),
        (
            r"^old Excel \.xls files",
            N_("Old Excel .xls files are not read: save it as .xlsx or CSV."),
        ),
        (r"^not a CSV or XLSX file", N_("This is not a CSV or XLSX file.")),
        (r"^not a readable XLSX workbook", N_("This XLSX workbook cannot be read.")),
        (
            r"^the text encoding of the file could not be determined",
            N_("The file's text encoding could not be determined: save it as CSV UTF-8."),
        ),
        (
            r"^line (?P<line>\d+), column \d+ \((?P<column>[A-Z]+)\): the cell is longer than "
            r"(?P<count>\d+) characters",
            N_("Line %(line)s, column %(column)s: the cell is longer than %(count)s characters."),
        ),
        (
            r"^line (?P<line>\d+) has a (?:value|cell) beyond column (?P<count>\d+)",
            N_("Line %(line)s has a value beyond column %(count)s, the most a file may have."),
        ),
        (
            r"^a text of the workbook is longer than (?P<count>\d+) characters",
            N_("A text of the workbook is longer than %(count)s characters."),
        ),
        (
            r"^the workbook(?:'s shared texts)? unpacks? to more than (?P<count>\d+) MB",
            N_("The workbook unpacks to more than %(count)s MB, the most an import reads."),
        ),
        (
            r"^missing required columns: (?P<columns>.+?) \(",
            N_("Required columns are missing: %(columns)s."),
        ),
        (r"^the file exceeds the upload limit", N_("The file is larger than the upload limit.")),
        (
            r"^the file has more than (?P<count>\d+) data rows",
            N_("The file has more than %(count)s rows."),
        ),
        (r"^a value is required", N_("This field is required.")),
        # The catalogue, listings, pooled offers and saved searches.
        (
            r"^too many searches",
            N_("Too many searches in a short time. Please wait a minute, then search again."),
        ),
        (
            r"^this cursor is not valid",
            N_("This page of results is no longer valid: start the search again."),
        ),
        (r"^this flow already has a listing", N_("This flow already has a listing.")),
        (r"^a withdrawn flow cannot be listed", N_("A withdrawn flow cannot be published.")),
        (
            r"^an? \w+ listing cannot",
            N_("This action is not possible in the listing's current status."),
        ),
        (r"^a withdrawn flow cannot be pooled", N_("A withdrawn flow cannot be pooled.")),
        (
            r"^pooled flows share one direction and kind",
            N_("Pooled flows must all be offers of the same kind."),
        ),
        (
            r"^pooled flows share one material",
            N_("Pooled flows must share one material (the same List of Waste code)."),
        ),
        (r"^a pool covers a d", N_("A pooled offer covers a département or a région.")),
        (
            r"^pooled flows lie in one departement",
            N_("Pooled flows must lie in the same département."),
        ),
        (r"^pooled flows lie in one region", N_("Pooled flows must lie in the same région.")),
        (
            r"^a pool gathers flows of at least two",
            N_("A pooled offer gathers flows of at least two companies."),
        ),
        (r"^no such flow", N_("Choose flows from the list.")),
        (r"^a name of 1 to (?P<count>\d+)", N_("Give a name of at most %(count)s characters.")),
        (
            r"^at most (?P<count>\d+) saved searches",
            N_("You already have %(count)s saved searches: delete one first."),
        ),
    )
)


# What a listing's text must lose before it is public (marketplace.catalogue.public_text): its
# messages are "remove WHAT from the WHERE", joined by "; ".
_REWRITE = re.compile(r"^remove (?P<what>.+) from the (?P<where>title|description)$")
_REWRITE_WORDS = {
    "the company number (SIREN, SIRET or VAT)": N_("the company number (SIREN, SIRET or VAT)"),
    "the bank account number (IBAN)": N_("the bank account number (IBAN)"),
    "the phone number": N_("the phone number"),
    "the e-mail address": N_("the e-mail address"),
    "the web address": N_("the web address"),
    "the GPS coordinates": N_("the GPS coordinates"),
    "the postcode": N_("the postcode"),
    "the name of your company, a brand, a site, its town or a contact (in any spelling)": N_(
        "the name of your company, a brand, a site, its town or a contact (in any spelling)"
    ),
    "the person's name": N_("the person's name"),
    "title": N_("from the title"),
    "description": N_("from the description"),
}


def _explain_rewrite(detail: str, translate: Translate) -> str | None:
    sentences = []
    for part in detail.split("; "):
        match = _REWRITE.match(part)
        if match is None or match["what"] not in _REWRITE_WORDS:
            return None
        what, where = _REWRITE_WORDS[match["what"]], _REWRITE_WORDS[match["where"]]
        sentences.append(
            translate(
                N_("Remove %(what)s %(where)s."), what=translate(what), where=translate(where)
            )
        )
    return " ".join(sentences)


def explain_known(detail: str, translate: Translate) -> str | None:
    """A service's error message in the page's language, or None when it is not a known one."""
    rewrite = _explain_rewrite(detail, translate)
    if rewrite is not None:
        return rewrite
    for pattern, message in _DOMAIN_MESSAGES:
        match = pattern.search(detail)
        if match:
            return translate(message, **match.groupdict())
    return None


def explain(detail: str, translate: Translate) -> str:
    """A service's error message in the page's language (in its own words when not known)."""
    known = explain_known(detail, translate)
    return known or translate(N_("This value was refused (%(detail)s)."), detail=detail)


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
    # The shared input checks (core.inputs) word some refusals as the services do.
    return explain_known(str(error.get("msg", "")), translate) or translate(N_("Invalid value."))


def validation_errors(exc: ValidationError, translate: Translate) -> FieldErrors:
    errors: FieldErrors = {}
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or GENERAL
        errors.setdefault(key, _validation_message(error, translate))
    return errors


def domain_errors(exc: DomainError, translate: Translate) -> FieldErrors:
    return {exc.field or GENERAL: explain(exc.detail, translate)}


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
