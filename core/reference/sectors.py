"""Sector codes as people type them: a NACE Rev. 2 class as European data writes it (``35.11``,
``3511``) or a French NAF rév. 2 subclass (``35.11Z``, ``3511z``), checked against the
nomenclature shipped in data/naf_rev2.csv (the `sectors` table holds the same rows).

The most precise level given is kept. A NACE class is the NAF class; when the class has exactly
one NAF subclass the two name the same activity, and the subclass is stored (``35.11`` and
``35.11Z`` are one sector, and every code of a company then compares alike). A class with several
subclasses (``10.51`` → ``10.51A``…``10.51D``) stays a class: we do not guess which."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from core.reference.loader import parent_of, read_csv

_SHAPE = re.compile(r"^(?P<division>\d{2})\.?(?P<rest>\d{2})(?P<letter>[A-Z])?$")


@dataclass(frozen=True)
class Sector:
    code: str
    level: str
    label_fr: str
    label_en: str | None = None

    @property
    def parent(self) -> str | None:
        return parent_of(self.code)

    def label(self, locale: str = "fr") -> str:
        return (self.label_en if locale == "en" else None) or self.label_fr

    @property
    def division(self) -> str:
        return self.code[:2]


@lru_cache(maxsize=1)
def sectors() -> Mapping[str, Sector]:
    return {
        row["code"]: Sector(code=row["code"], level=row["level"], label_fr=row["label_fr"])
        for row in read_csv("naf_rev2.csv")
    }


@lru_cache(maxsize=1)
def _subclasses() -> Mapping[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    for code, sector in sectors().items():
        if sector.level == "subclass":
            found.setdefault(code[:5], []).append(code)
    return {cls: tuple(sorted(codes)) for cls, codes in found.items()}


class SectorRefused(ValueError):
    """Why a typed sector code is refused: ``shape`` (not a class or subclass code at all) or
    ``unknown`` (shaped like one, absent from the nomenclature)."""

    def __init__(self, reason: str, code: str) -> None:
        super().__init__(f"{reason}: {code}")
        self.reason, self.code = reason, code


def parse_sector(raw: str) -> Sector:
    """The sector a typed code names, at the most precise level given (see the module's doc)."""
    value = re.sub(r"[\s\u00a0]", "", raw or "").upper()
    match = _SHAPE.match(value)
    if match is None:
        raise SectorRefused("shape", value)
    code = f"{match['division']}.{match['rest']}{match['letter'] or ''}"
    if match["letter"] is None:
        only = _subclasses().get(code, ())
        if len(only) == 1:
            code = only[0]
    sector = sectors().get(code)
    if sector is None:
        raise SectorRefused("unknown", code)
    return sector


def sector_label(code: str | None, locale: str = "fr") -> str | None:
    """The label of a stored code (None for none, or for a code older than this check)."""
    sector = sectors().get(code) if code else None
    return sector.label(locale) if sector else None
