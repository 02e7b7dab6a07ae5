"""Input validation at the edge: the annotated types every request schema uses for text, numbers
and paging, so each domain refuses the same bad input with the same reason.

Text is normalised (NFC, trimmed, CR LF read as LF) before its length is checked; control
characters, NUL, lone surrogates and bidirectional overrides or isolates (U+202A-U+202E,
U+2066-U+2069, which make a label read differently from what it holds) are refused rather than
silently dropped, so what is stored is what the client sent. Numbers are finite, within documented
bounds, and never booleans (JSON `true` is not 1).

The errors raised here are pydantic errors with their own `type`, so the API names the field and
the web forms translate them (web/forms.py).
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from core.errors import RefusedCharacter, ValueRefused

# Bounds, documented in the OpenAPI through the fields' constraints.
# Euros per unit: far above any real price, and its cents (1e9) still fit the 32-bit INTEGER
# columns PostgreSQL keeps them in (2,147,483,647).
MAX_MONEY_EUR = 10_000_000.0
MAX_QUANTITY = 1_000_000_000.0  # a declared quantity, in its own unit and period
# A yearly quantity in its kind's base unit (t/yr, MWh/yr, m3/yr): ten times the whole of
# France's yearly waste, so only a mistake or an attack goes beyond.
MAX_QUANTITY_PER_YEAR = 10_000_000_000.0
MAX_OFFSET = 100_000  # rows skipped by a list: deeper pages are a scrape, not a reading
MAX_LIMIT = 500  # rows in one page of a list
MAX_LABEL_LENGTH = 200
MAX_FREE_TEXT_LENGTH = 4000

# Text-direction overrides and isolates: they reorder how a string displays.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Line and paragraph separators break a one-line label as a newline would.
_LINE_BREAKS = frozenset("\n\r\u0085\u2028\u2029")


def _refused_character(value: str, *, multiline: bool) -> str | None:
    for char in value:
        if multiline and char in "\n\t":
            continue
        if char in _BIDI_CONTROLS:
            return f"U+{ord(char):04X} (a text-direction control)"
        if char in _LINE_BREAKS:
            return f"U+{ord(char):04X} (a line break, in one-line text)"
        if unicodedata.category(char) in ("Cc", "Cs"):
            return f"U+{ord(char):04X} (a control character)"
    return None


def clean_text(value: Any, *, multiline: bool = False) -> Any:
    """NFC, trimmed, refused when it holds a forbidden character. Non-strings are left to the
    type's own check, so a number where text is expected is named as such."""
    if value is None:
        raise PydanticCustomError("missing", "a value is required (null is not accepted)")
    if not isinstance(value, str):
        return value
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = unicodedata.normalize("NFC", value).strip()
    refused = _refused_character(value, multiline=multiline)
    if refused is not None:
        raise PydanticCustomError(
            "text_character",
            "contains a character that is not allowed: {character}",
            {"character": refused},
        )
    return value


def refuse_null_if_kept(model: type[BaseModel], value: Any, info: ValidationInfo) -> Any:
    """For the fields of a partial update declared with kept(), which always hold a value:
    leaving one out keeps it; null is refused rather than read as "keep" or "clear". Call it
    from the model's field_validator("*", mode="before")."""
    field = model.model_fields.get(info.field_name or "")
    if value is None and field is not None and field.json_schema_extra is _drop_null:
        raise PydanticCustomError(
            "missing", "a value is required: null is not accepted (leave the field out to keep it)"
        )
    return value


def _drop_null(schema: dict[str, Any]) -> None:
    options = [o for o in schema.pop("anyOf", []) if o.get("type") != "null"]
    if len(options) == 1:
        schema.update(options[0])
    elif options:
        schema["anyOf"] = options


def kept(**constraints: Any) -> Any:
    """The Field of a partial update's field that always holds a value, typed `X | None`: left
    out (None) it keeps its value; an explicit null is refused (refuse_null_if_kept), and the
    OpenAPI does not offer null."""
    return Field(default=None, json_schema_extra=_drop_null, **constraints)


def checked_line(value: str, field: str) -> str:
    """One line of text that reaches a service without a request schema (a web form's field):
    cleaned and refused as the schemas do, as the domain's 422 naming the field."""
    try:
        return str(clean_text(value))
    except PydanticCustomError as exc:
        raise RefusedCharacter(exc.message(), field=field, **(exc.context or {})) from None


def _one_line(value: Any) -> Any:
    return clean_text(value)


def _multi_line(value: Any) -> Any:
    return clean_text(value, multiline=True)


def _number(value: Any) -> Any:
    """JSON `true` would be read as 1: a boolean is not a number."""
    if value is None:
        raise PydanticCustomError("missing", "a value is required (null is not accepted)")
    if isinstance(value, bool):
        raise PydanticCustomError("float_type", "a number is expected, not a boolean")
    return value


def _months(values: list[int]) -> list[int]:
    # Checked on the list, so the refusal names `months` as the services' own checks do.
    if any(not 1 <= month <= 12 for month in values):
        raise PydanticCustomError("months", "months are numbers from 1 to 12")
    if len(set(values)) != len(values):
        raise PydanticCustomError("months", "months are numbers from 1 to 12, each at most once")
    return values


# Put after a number's constraints in an Annotated: refuses booleans and null. Constraints come
# first so that the OpenAPI shows them as minimum/maximum, also inside `X | None`.
NOT_BOOLEAN = BeforeValidator(_number)
_ONE_LINE = BeforeValidator(_one_line)

# Text types carry their maximum length, checked after normalisation; a required field adds
# `Field(min_length=1)`, so a blank-only value is refused once trimmed. The constraints come
# before the validator, so pydantic checks them on the cleaned string and reports them as string
# errors, also inside `X | None`.
Code = Annotated[str, StringConstraints(max_length=32), _ONE_LINE]  # a unit, a code, a number
Name = Annotated[str, StringConstraints(max_length=120), _ONE_LINE]  # a site, a brand, a person
Label = Annotated[str, StringConstraints(max_length=MAX_LABEL_LENGTH), _ONE_LINE]
Line = Annotated[str, StringConstraints(max_length=300), _ONE_LINE]  # an address
# For list items and `X | None` fields, where an outer Field(min_length=1) would not be reported
# as a string error.
NonBlankCode = Annotated[str, StringConstraints(min_length=1, max_length=32), _ONE_LINE]
NonBlankName = Annotated[str, StringConstraints(min_length=1, max_length=120), _ONE_LINE]
NonBlankLabel = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_LABEL_LENGTH), _ONE_LINE
]
EmailText = Annotated[str, StringConstraints(max_length=254), _ONE_LINE]
SearchWords = Annotated[str, StringConstraints(max_length=100), _ONE_LINE]  # a search box
# Multi-line free text (descriptions, specifications): newlines and tabs are allowed.
FreeText = Annotated[
    str, StringConstraints(max_length=MAX_FREE_TEXT_LENGTH), BeforeValidator(_multi_line)
]

# Finite numbers, never booleans. A field with its own bounds declares them the same way:
# Annotated[float, Field(ge=..., le=..., allow_inf_nan=False), NOT_BOOLEAN].
Number = Annotated[float, Field(allow_inf_nan=False), NOT_BOOLEAN]
Money = Annotated[float, Field(ge=0, le=MAX_MONEY_EUR, allow_inf_nan=False), NOT_BOOLEAN]
Quantity = Annotated[float, Field(le=MAX_QUANTITY, allow_inf_nan=False), NOT_BOOLEAN]
# Month numbers, each at most once. The field taking them (a flow's months, which takes text too)
# documents them with MONTHS_JSON_SCHEMA.
Months = Annotated[list[Annotated[int, NOT_BOOLEAN]], Field(max_length=12), AfterValidator(_months)]
MONTHS_JSON_SCHEMA = {
    "type": "array",
    "maxItems": 12,
    "items": {"type": "integer", "minimum": 1, "maximum": 12},
    "uniqueItems": True,
}
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET), NOT_BOOLEAN]
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT), NOT_BOOLEAN]


# The limits a refusal's words quote, of pydantic's context (its other values may be objects).
_LIMITS = ("min_length", "max_length", "gt", "ge", "lt", "le")


def schema_refusal(error: ErrorDetails) -> dict[str, Any]:
    """What a page words a pydantic refusal with (web/messages.py): its type, its limits and
    whether it refused a text; plain JSON values, never the refused input (an import's report is
    stored unencrypted)."""
    ctx = error.get("ctx") or {}
    limits = {k: ctx[k] for k in _LIMITS if isinstance(ctx.get(k), int | float)}
    return {"type": error["type"], "text": isinstance(error.get("input"), str), **limits}


def invalid_from(exc: ValidationError, *, prefix: str = "") -> ValueRefused:
    """A pydantic refusal raised inside a service (a model built from stored and changed values)
    as the domain's 422, naming the first field, so it never escapes as a 500."""
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in (*([prefix] if prefix else []), *error["loc"]))
    params = {"where": where, "reason": error["msg"], **schema_refusal(error)}
    # Without a field (a rule across fields), the detail is the reason alone.
    return ValueRefused(None if where else error["msg"], field=where or None, **params)
