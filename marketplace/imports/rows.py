"""Check the rows of a territory file: one flow per row, with its company and site, no writes.

Every row goes through the same rules as the forms (FlowFields and `check_flow`, SIRET, NACE,
`place`), and rows are checked against each other: a SIRET names one company, and a company's
site name one position. The first problem of each bad row is kept as {"line", "field", "reason"}.
Reasons name the line, the column and why, never a cell's value: the report is stored
unencrypted, so it must not carry the names, numbers and positions that the file held.

Whatever a check raises for one row, a domain error or an unexpected one (an OverflowError deep in
a conversion), is that row's error: one odd cell never sinks the file. A row is also checked to
fit the database columns it is written to, because phase 2 writes every row in one transaction
and a row the database refuses there would fail the whole job without a line number.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

import sqlalchemy as sa
from pydantic import ValidationError
from sqlmodel import SQLModel

from core.errors import DomainError
from core.inputs import schema_refusal
from core.text import fold
from marketplace.companies.schemas import Identity, SiteCreate
from marketplace.companies.service import normalise_nace, normalise_siret, place
from marketplace.flows.errors import MonthRangeIncomplete, UnknownMonth
from marketplace.flows.models import Direction, Kind, Period, Regularity
from marketplace.flows.months import months_of, parse_months
from marketplace.flows.schemas import FlowFields
from marketplace.flows.service import FlowRules, check_flow
from marketplace.imports.errors import (
    AmountTooLarge,
    ContainsNul,
    MonthsPartNotRead,
    NaceRequired,
    NotABoolean,
    NotAFiniteNumber,
    NotANumber,
    NotOneOf,
    NumberNotFinite,
    NumberNotStorable,
    OtherAddress,
    OtherCompanyName,
    OtherNace,
    OtherSitePosition,
    OtherSizeClass,
    RowNotChecked,
    RowTooWide,
    RowValueRefused,
    ValueNotValid,
    ValueRequired,
)
from marketplace.imports.parser import OVERFLOW, REQUIRED_COLUMNS, SheetRow

log = logging.getLogger(__name__)

# Folded spellings accepted for the enumerated columns: the English values and their French names.
_DIRECTIONS = {
    "offer": Direction.OFFER,
    "offre": Direction.OFFER,
    "request": Direction.REQUEST,
    "demande": Direction.REQUEST,
}
_KINDS = {
    "material": Kind.MATERIAL,
    "matiere": Kind.MATERIAL,
    "heat": Kind.HEAT,
    "chaleur": Kind.HEAT,
    "water": Kind.WATER,
    "eau": Kind.WATER,
    "gas": Kind.GAS,
    "gaz": Kind.GAS,
}
_PERIODS = {
    "year": Period.YEAR,
    "an": Period.YEAR,
    "annee": Period.YEAR,
    "month": Period.MONTH,
    "mois": Period.MONTH,
    "week": Period.WEEK,
    "semaine": Period.WEEK,
    "day": Period.DAY,
    "jour": Period.DAY,
}
_REGULARITIES = {
    "continuous": Regularity.CONTINUOUS,
    "continu": Regularity.CONTINUOUS,
    "batch": Regularity.BATCH,
    "lot": Regularity.BATCH,
    "seasonal": Regularity.SEASONAL,
    "saisonnier": Regularity.SEASONAL,
    "one off": Regularity.ONE_OFF,
    "ponctuel": Regularity.ONE_OFF,
}
# A company's size class (companies.service.SIZE_CLASSES) as a file may write it, in English or
# French; PME and ETI are left out, as each spans two classes.
_SIZES = {
    "micro": "micro",
    "micro entreprise": "micro",
    "microentreprise": "micro",
    "tpe": "micro",
    "small": "small",
    "petite": "small",
    "petite entreprise": "small",
    "medium": "medium",
    "moyenne": "medium",
    "moyenne entreprise": "medium",
    "entreprise de taille moyenne": "medium",
    "large": "large",
    "grande": "large",
    "grande entreprise": "large",
}
_TRUE = frozenset({"true", "vrai", "oui", "yes", "y", "o", "1"})
_FALSE = frozenset({"false", "faux", "non", "no", "n", "0"})
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_SPACES = re.compile(r"[\s\u00a0\u202f]+")
M = TypeVar("M", Identity, SiteCreate, FlowFields)
# Positions closer than this (about 10 cm) are the same position written twice.
_POSITION_DECIMALS = 6


class CheckedRow(NamedTuple):
    """A good row: where it came from, whose it is, and its Flow column values."""

    line: int
    siret: str
    site_key: str
    flow_values: tuple[Any, ...]


@dataclass
class CompanyInFile:
    line: int
    name: str
    name_key: str
    nace: str | None
    nace_line: int
    # The size class the file gives (None: not given, so a new company gets the default).
    size_class: str | None = None
    size_line: int = 0
    # Its postal address, sealed with the identity ("" when the file gives none).
    address: str = ""
    address_line: int = 0


@dataclass
class SiteInFile:
    line: int
    name: str
    latitude: float
    longitude: float
    commune: str
    departement_code: str
    region_code: str
    h3_cell: str


@dataclass
class RowChecks:
    """The outcome of checking a whole file; filled row by row by `check`."""

    rules: FlowRules
    rows: list[CheckedRow] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    companies: dict[str, CompanyInFile] = field(default_factory=dict)
    sites: dict[tuple[str, str], SiteInFile] = field(default_factory=dict)
    flow_columns: tuple[str, ...] = ()
    # A territory has thousands of rows per company and site: check each of those once.
    _sirets: dict[str, str] = field(default_factory=dict)
    _naces: dict[str, str] = field(default_factory=dict)
    _places: dict[tuple[float, float], tuple[str, str, str]] = field(default_factory=dict)
    _names: dict[str, tuple[str, str]] = field(default_factory=dict)

    def check(self, row: SheetRow) -> None:
        try:
            self.rows.append(self._check(row))
        except DomainError as exc:
            self._refuse(row.line, exc)
        except Exception as exc:
            # A bug or a library's surprise on one odd cell: that row is refused, the others go
            # on. The message may quote the cell, so only its type is reported and logged.
            log.warning("import line %s: unexpected %s", row.line, type(exc).__name__)
            self._refuse(row.line, RowNotChecked(field="row", why=type(exc).__name__))

    def _refuse(self, line: int, error: DomainError) -> None:
        refusal: dict[str, Any] = {
            "line": line,
            "field": error.field or "row",
            "reason": error.detail,
        }
        if error.message:
            # A case of its own (UnknownLowCode...): its name and parameters let the import's
            # page say it in its own language, as the forms do.
            refusal.update(code=type(error).__name__, params=error.params)
        self.errors.append(refusal)

    def require_nace_of_new_companies(self, registered: set[str]) -> None:
        """A company not registered yet is created, and that needs its NACE code."""
        missing = {
            siret
            for siret, company in self.companies.items()
            if company.nace is None and siret not in registered
        }
        if not missing:
            return
        kept = []
        for row in self.rows:
            if row.siret in missing:
                self._refuse(row.line, NaceRequired(field="nace"))
            else:
                kept.append(row)
        self.rows = kept
        self.errors.sort(key=lambda e: e["line"])

    # --- one row -------------------------------------------------------------------------------

    def _check(self, row: SheetRow) -> CheckedRow:
        values = row.values
        if OVERFLOW in values:
            raise RowTooWide(field="row")
        for name in REQUIRED_COLUMNS:
            if not values[name]:
                raise ValueRequired(field=name)
        siret = self._siret(values["siret"])
        self._company(row.line, siret, values)
        site_key = self._site(row.line, siret, values)
        direction = _choice(values["direction"], _DIRECTIONS, "direction")
        kind = _choice(values["kind"], _KINDS, "kind")
        checked = check_flow(self.rules, direction, kind, self._flow_fields(values))
        _storable(checked)
        if not self.flow_columns:
            self.flow_columns = tuple(checked)
        return CheckedRow(row.line, siret, site_key, tuple(checked[c] for c in self.flow_columns))

    def _siret(self, raw: str) -> str:
        siret = self._sirets.get(raw)
        if siret is None:
            siret = self._sirets[raw] = normalise_siret(raw)
        return siret

    def _company(self, line: int, siret: str, values: dict[str, str]) -> None:
        name, name_key = self._name(values["company"])
        nace = self._nace(values["nace"]) if values.get("nace") else None
        # "Micro-entreprise", "grande  entreprise": hyphens and runs of spaces read as one space.
        raw_size = " ".join(values.get("size", "").replace("-", " ").split())
        size = _choice(raw_size, _SIZES, "size") if raw_size else None
        address = " ".join(values.get("address", "").split())
        seen = self.companies.get(siret)
        if seen is None:
            _validated(
                Identity,
                {"legal_name": name, "siret": siret, "address": address},
                {"legal_name": "company"},
            )
            self.companies[siret] = CompanyInFile(
                line, name, name_key, nace, line, size, line, address, line
            )
            return
        if address:
            if not seen.address:
                _validated(Identity, {"legal_name": name, "siret": siret, "address": address}, {})
                seen.address, seen.address_line = address, line
            elif address != seen.address:
                raise OtherAddress(field="address", line=seen.address_line)
        if size is not None:
            if seen.size_class is None:
                seen.size_class, seen.size_line = size, line
            elif size != seen.size_class:
                raise OtherSizeClass(field="size", line=seen.size_line)
        if name_key != seen.name_key:
            raise OtherCompanyName(field="company", line=seen.line)
        if nace is not None:
            if seen.nace is None:
                seen.nace, seen.nace_line = nace, line
            elif nace != seen.nace:
                raise OtherNace(field="nace", line=seen.nace_line)

    def _name(self, raw: str) -> tuple[str, str]:
        """The name with its spaces collapsed, and its folded form for comparisons.

        Two names the blind index cannot tell apart ("Usine-Nord", "usine nord") are one: the
        database allows a company one site per index.
        """
        known = self._names.get(raw)
        if known is None:
            name = " ".join(raw.split())
            known = self._names[raw] = (name, fold(name).replace(" ", ""))
        return known

    def _nace(self, raw: str) -> str:
        nace = self._naces.get(raw)
        if nace is None:
            nace = self._naces[raw] = normalise_nace(raw)
        return nace

    def _site(self, line: int, siret: str, values: dict[str, str]) -> str:
        name, key = self._name(values["site"])
        latitude = _number(values["latitude"], "latitude")
        longitude = _number(values["longitude"], "longitude")
        seen = self.sites.get((siret, key))
        if seen is None:
            site = _validated(
                SiteCreate,
                {
                    "name": name,
                    "latitude": latitude,
                    "longitude": longitude,
                    "commune": values.get("commune", ""),
                },
                {"name": "site"},
            )
            position = (round(latitude, _POSITION_DECIMALS), round(longitude, _POSITION_DECIMALS))
            placed = self._places.get(position)
            if placed is None:
                placed = self._places[position] = place(latitude, longitude)
            self.sites[(siret, key)] = SiteInFile(
                line, name, latitude, longitude, site.commune.strip(), *placed
            )
        elif (round(latitude, _POSITION_DECIMALS), round(longitude, _POSITION_DECIMALS)) != (
            round(seen.latitude, _POSITION_DECIMALS),
            round(seen.longitude, _POSITION_DECIMALS),
        ):
            raise OtherSitePosition(field="site", line=seen.line)
        return key

    def _flow_fields(self, values: dict[str, str]) -> FlowFields:
        data: dict[str, Any] = {
            "label": values["label"],
            "quantity": _number(values["quantity"], "quantity"),
            "unit": values["unit"],
        }
        for name, convert in _OPTIONAL_FLOW_FIELDS.items():
            raw = values.get(name)
            if raw:
                data[name] = _converted(convert, raw, name)
        return _validated(FlowFields, data, {})


# --- cells -------------------------------------------------------------------------------------


def _number(raw: str, name: str) -> float:
    """ "12,5", "1 200,5" and "1e3" are numbers; "abc", "1.200,5", "nan" are not."""
    text = _SPACES.sub("", raw)
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    if not _NUMBER.fullmatch(text):
        raise NotANumber(field=name)
    value = float(text)
    if not math.isfinite(value):
        raise NotAFiniteNumber(field=name)
    return value


def _money(raw: str, name: str) -> float:
    """Euros, stored as integer cents: an amount whose cents are not even finite is refused here,
    as converting it would raise deep in the flow's checks, without naming the column."""
    value = _number(raw, name)
    if not math.isfinite(value * 100):
        raise AmountTooLarge(field=name)
    return value


def _choice(raw: str, allowed: dict[str, Any], name: str) -> Any:
    value = allowed.get(raw) or allowed.get(fold(raw))
    if value is None:
        choices = ", ".join(sorted({str(v) for v in allowed.values()}))
        raise NotOneOf(field=name, choices=choices)
    return value


def _converted(convert: Callable[[str, str], Any], raw: str, name: str) -> Any:
    """A cell's conversion; an unexpected failure of it is that column's error."""
    try:
        return convert(raw, name)
    except DomainError:
        raise
    except (ValueError, OverflowError, ArithmeticError) as exc:
        raise ValueNotValid(field=name, why=type(exc).__name__) from None


def _months(raw: str, name: str) -> list[int]:
    """Months as the forms read them ("10-3", "1-5,10-12", "janv.-mars"); a part that is not a
    month is named by its position, never quoted (the report is stored unencrypted)."""
    try:
        return months_of(parse_months(raw))
    except (UnknownMonth, MonthRangeIncomplete) as exc:
        raise MonthsPartNotRead(field=name, position=exc.params["position"]) from None


def _flag(raw: str, name: str) -> bool:
    key = fold(raw)
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise NotABoolean(field=name)


def _text(raw: str, name: str) -> str:
    return raw


def _lower(raw: str, name: str) -> str:
    return raw.lower()


_OPTIONAL_FLOW_FIELDS: dict[str, Callable[[str, str], Any]] = {
    "low_code": _text,
    "hazardous": _flag,
    "period": lambda raw, name: _choice(raw, _PERIODS, name),
    "regularity": lambda raw, name: _choice(raw, _REGULARITIES, name),
    "months": _months,
    "temperature_c": _number,
    "description": _text,
    "physical_state": _lower,
    "medium": _text,
    "power_kw": _number,
    "water_quality": _text,
    "quality_spec": _text,
    "precision": _lower,
    "current_operation": _text,
    "current_cost_eur_per_unit": _money,
    "replaces_material": _text,
    "virgin_price_eur_per_unit": _money,
}


# Integer columns as the databases store them: PostgreSQL's INTEGER is 32 bits, SQLite's 64.
_INTEGER_RANGES = {sa.SmallInteger: 2**15, sa.BigInteger: 2**63, sa.Integer: 2**31}
# Flow columns computed from a file's column of another name.
_FILE_COLUMN_OF = {
    "current_cost_cents": "current_cost_eur_per_unit",
    "virgin_price_cents": "virgin_price_eur_per_unit",
    "quantity_per_year": "quantity",
    "months_mask": "months",
}


def _storable(checked: dict[str, Any]) -> None:
    """Refuse a value the database would refuse, or would store as a non-number: phase 2 writes
    every row in one transaction, so one such row would otherwise fail the whole job."""
    columns = SQLModel.metadata.tables["flows"].columns
    for name, value in checked.items():
        column_name = _FILE_COLUMN_OF.get(name, name)
        if isinstance(value, float) and not math.isfinite(value):
            raise NumberNotFinite(field=column_name)
        if isinstance(value, int) and not isinstance(value, bool) and name in columns:
            kind = columns[name].type
            bound = next((b for t, b in _INTEGER_RANGES.items() if isinstance(kind, t)), 2**63)
            if not -bound <= value < bound:
                raise NumberNotStorable(field=column_name)
        if isinstance(value, str) and "\x00" in value:
            # PostgreSQL refuses NUL in text whatever the schema says.
            raise ContainsNul(field=column_name)


def _validated(model: type[M], data: dict[str, Any], columns: dict[str, str]) -> M:
    """Validate with the forms' own model; its first error names the file's column.

    Pydantic's messages may echo the input (a validator's own message, an e-mail checker's):
    such a message is replaced by its error type, the report being stored unencrypted."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        location = [str(part) for part in error["loc"]]
        name = location[0] if location else "row"
        value = error.get("input")
        reason = error["msg"]
        if isinstance(value, str | int | float) and str(value) and str(value) in reason:
            reason = f"not valid ({error['type']})"
        raise RowValueRefused(
            field=columns.get(name, name), reason=reason, **schema_refusal(error)
        ) from None
