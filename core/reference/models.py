"""Reference tables: read-only facts loaded from the versioned files in data/."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class LowCode(SQLModel, table=True):
    """One line of the European List of Waste: a chapter, a subchapter or a six-digit entry."""

    __tablename__ = "low_codes"

    code: str = Field(primary_key=True, max_length=8)  # compact form: "100102"
    spaced: str = Field(max_length=10)  # "10 01 02"
    level: str = Field(max_length=12)  # chapter | subchapter | entry
    hazardous: bool = False
    entry_type: str = Field(default="", max_length=32)
    description_fr: str
    description_en: str
    # Folded French and English labels and the code, for accent-insensitive word search.
    search_text: str


class Operation(SQLModel, table=True):
    """A recovery (R) or disposal (D) operation of Directive 2008/98/EC, annexes I and II."""

    __tablename__ = "operations"

    code: str = Field(primary_key=True, max_length=8)  # "R 5", "D 9 F"
    type: str = Field(max_length=16)
    description_fr: str


class EndOfWasteAct(SQLModel, table=True):
    __tablename__ = "end_of_waste_acts"

    reference: str = Field(primary_key=True, max_length=120)
    description_fr: str


class Region(SQLModel, table=True):
    __tablename__ = "regions"

    code: str = Field(primary_key=True, max_length=3)
    name: str


class Departement(SQLModel, table=True):
    __tablename__ = "departements"

    code: str = Field(primary_key=True, max_length=3)
    name: str
    region_code: str = Field(foreign_key="regions.code", max_length=3)


class Sector(SQLModel, table=True):
    """One line of the French activity nomenclature NAF rév. 2, the French refinement of NACE
    Rev. 2: a division (``23``), group (``23.5``), class (``23.51``, the NACE class) or NAF
    subclass (``23.51Z``)."""

    __tablename__ = "sectors"

    code: str = Field(primary_key=True, max_length=8)
    level: str = Field(max_length=10)  # division | group | class | subclass
    parent: str | None = Field(default=None, max_length=8)
    label_fr: str
    # No packaged English source of NAF labels is at hand: pages fall back to the French label.
    label_en: str | None = None
