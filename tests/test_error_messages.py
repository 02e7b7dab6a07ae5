"""Errors by class, translated by class: each case of domain error a user can meet has its words
in the pages' catalogues (French and English), found by its class, so a reworded English
`detail` never loses its translation; the API still names the kind (Invalid, Conflict...)."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from pydantic import BaseModel, ValidationError

import core.errors
import marketplace
from core.errors import DomainError
from core.inputs import Label, invalid_from
from marketplace.catalogue.public_text import WHAT, WHERE
from marketplace.flows.errors import UnknownLowCode, UnknownUnit
from marketplace.imports.errors import NotOneOf, RowValueRefused
from web.forms import explain, explain_reason, validation_errors
from web.i18n import LOCALES, catalogue_path, translator
from web.messages import BY_NAME, CASES, COMPOSED, FROM_PARAMS, REWRITE_WORDS

ROOT = Path(__file__).resolve().parent.parent
# The kinds: each refusal a user can meet is raised as a case (a subclass), never as one of these.
KINDS = {
    name
    for name, value in vars(core.errors).items()
    if isinstance(value, type) and issubclass(value, DomainError) and "status_code" in vars(value)
} | {"DomainError"}


def _subclasses(cls: type[DomainError]) -> set[type[DomainError]]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


def _cases() -> list[type[DomainError]]:
    """Every domain error class of marketplace/ and every case of core (one with a message)."""
    for module in pkgutil.walk_packages(marketplace.__path__, "marketplace."):
        importlib.import_module(module.name)
    return sorted(
        (
            cls
            for cls in _subclasses(DomainError)
            if cls.__module__.startswith("marketplace.")
            or (cls.__module__.startswith("core.") and "message" in vars(cls))
        ),
        key=lambda cls: f"{cls.__module__}.{cls.__qualname__}",
    )


def _catalogue(locale: str) -> dict[str, str]:
    with Path(catalogue_path(locale)).open("rb") as handle:
        return {str(m.id): str(m.string) for m in read_po(handle, locale=locale) if m.id}


def test_every_case_has_its_words_in_each_language() -> None:
    cases = _cases()
    assert UnknownLowCode in cases and len(cases) > 40
    missing = [
        c.__name__ for c in cases if c not in CASES and c not in COMPOSED and c not in FROM_PARAMS
    ]
    assert missing == []
    msgids = set(CASES.values()) | set(REWRITE_WORDS.values()) | {"Remove %(what)s %(where)s."}
    assert {*WHAT.values(), *WHERE.values()} <= set(REWRITE_WORDS)
    for locale in LOCALES:
        catalogue = _catalogue(locale)
        assert sorted(m for m in msgids if m not in catalogue) == [], locale
    french = _catalogue("fr")
    assert sorted(m for m in msgids if not french[m]) == []
    # Names are how an import's report finds the case again: one class per name.
    assert len(BY_NAME) == len(CASES) + len(FROM_PARAMS)


def _bare_kinds_called(source: str, where: str) -> list[str]:
    """Where `source` constructs a kind itself (`Invalid(...)`, `errors.NotFound(...)`)."""
    found = []
    for node in ast.walk(ast.parse(source, where)):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in KINDS:
                found.append(f"{where}:{node.lineno} {name}")
    return found


def test_no_refusal_is_a_bare_kind_with_free_text() -> None:
    """A refusal a user can meet is a case of its domain (errors.py), so its words are found by
    class: constructing Invalid("...") or NotFound("...") in the code would bypass them."""
    assert {"Invalid", "Conflict", "NotFound", "Forbidden", "TooLarge", "Unauthorized"} <= KINDS
    found = [
        call
        for package in ("core", "privacy", "marketplace", "api", "web")
        for path in sorted((ROOT / package).rglob("*.py"))
        for call in _bare_kinds_called(path.read_text(), str(path.relative_to(ROOT)))
    ]
    assert found == []


def test_the_check_sees_a_bare_kind() -> None:
    source = "from core import errors\nraise errors.Invalid('no', field='x')\nraise Conflict()\n"
    assert _bare_kinds_called(source, "x.py") == ["x.py:2 Invalid", "x.py:3 Conflict"]


def test_a_reworded_message_keeps_its_translation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(UnknownLowCode, "message", "no such entry in the List of Waste")
    error = UnknownLowCode(field="low_code")
    assert error.detail == "no such entry in the List of Waste"
    assert explain(error, translator("fr")).startswith("Code déchet inconnu")
    assert explain(error, translator("en")).startswith("Unknown List of Waste code")


def test_a_case_is_formatted_with_its_parameters() -> None:
    error = UnknownUnit(field="unit", kind="heat", units="MWh, kW")
    assert error.detail == "unknown unit for heat (use one of: MWh, kW)"
    assert error.params == {"kind": "heat", "units": "MWh, kW"}
    assert "MWh, kW" in explain(error, translator("fr"))
    # The API keeps naming the kind its clients handle.
    assert (error.name, error.status_code) == ("Invalid", 422)


def test_an_import_report_refusal_is_translated_by_its_case() -> None:
    refusal = {"line": 3, "field": "low_code", "reason": "reworded", "code": "UnknownLowCode"}
    assert explain_reason(refusal, translator("fr")).startswith("Code déchet inconnu")
    error = NotOneOf(field="kind", choices="gas, heat, material, water")
    stored = {"line": 4, "field": "kind", "reason": error.detail, "code": "NotOneOf"}
    # The choices in the page's language too: the import reads « chaleur » as well as "heat".
    for locale, words, choices in (
        ("fr", "Valeur hors de la liste", "chaleur, eau, gaz, matière."),
        ("en", "Not one of", "gas, heat, material, water."),
    ):
        said = explain_reason({**stored, "params": error.params}, translator(locale))
        assert said.startswith(words) and said.endswith(choices), said
    # A report stored before its rows' refusals had a case shows their English reason.
    assert explain_reason({"reason": "not a number"}, translator("fr")) == "not a number"


def test_a_schema_refusal_in_a_service_or_a_row_is_said_by_its_type() -> None:
    class Form(BaseModel):
        name: Label

    with pytest.raises(ValidationError) as refused:
        Form(name="x" * 1000)
    error = invalid_from(refused.value, prefix="filters")
    assert error.detail.startswith("filters.name: String should have at most")
    assert (error.name, error.field, error.params["type"]) == (
        "Invalid",
        "filters.name",
        "string_too_long",
    )
    assert explain(error, translator("fr")).startswith("Au plus ")
    assert explain(error, translator("en")).startswith("At most ")
    # An import's row stores it with its name and parameters: the same words, by its type.
    row = RowValueRefused(field="label", reason="too long", type="string_too_long", max_length=9)
    stored = {"reason": row.detail, "code": "RowValueRefused", "params": row.params}
    assert explain_reason(stored, translator("fr")) == "Au plus 9 caractères."


def test_a_refused_character_is_translated_by_its_pydantic_type(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Form(BaseModel):
        name: Label

    with pytest.raises(ValidationError) as refused:
        Form(name="a\u202eb")
    error = refused.value.errors()[0]
    assert error["type"] == "text_character"
    # Its English words may change: the page's words follow the type.
    reworded = [{**error, "msg": "a forbidden character"}]
    monkeypatch.setattr(refused.value, "errors", lambda **_: reworded)
    message = validation_errors(refused.value, translator("fr"))["name"]
    assert message.startswith("Ce texte contient un caractère")


def test_every_kind_keeps_its_name() -> None:
    for kind in (core.errors.Invalid, core.errors.Conflict, core.errors.NotFound):
        assert kind("x").name == kind.__name__
