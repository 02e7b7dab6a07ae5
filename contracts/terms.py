"""The terms of an exchange contract: a validated, hashable model, its default clauses and the
readable diff between two versions."""

from __future__ import annotations

import enum
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict


class PartyRole(enum.StrEnum):
    GIVER = "giver"
    TAKER = "taker"
    CARRIER = "carrier"
    # The territory's association: it drafts and countersigns.
    FACILITATOR = "facilitator"


class Unit(enum.StrEnum):
    """The base units a flow's quantity is normalised to (per year)."""

    TONNE = "t"
    MWH = "MWh"
    CUBIC_METRE = "m3"


class Regularity(enum.StrEnum):
    """The same words as a flow's regularity (marketplace/flows/models.py)."""

    CONTINUOUS = "continuous"
    BATCH = "batch"
    SEASONAL = "seasonal"
    ONE_OFF = "one-off"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class PartyTerms(_Strict):
    role: PartyRole
    legal_name: str
    siret: str | None = None
    address: str
    site_name: str | None = None
    site_address: str | None = None
    representative: str | None = None


class Price(_Strict):
    kind: Literal["price", "gate_fee", "free"]
    amount_cents: int = 0
    currency: Literal["EUR"] = "EUR"
    per_unit: Unit
    # Who pays: the taker for a price, usually the giver for a gate fee; None only when free.
    payer: Literal["giver", "taker"] | None = None


class Terms(_Strict):
    parties: list[PartyTerms]
    material_label: str
    low_code: str | None = None
    hazardous: bool
    quantity_per_year: float
    unit: Unit
    regularity: Regularity
    quality_specification: str
    acceptance_tests: str
    price: Price
    delivery_point: str
    transport: str
    start_date: date
    end_date: date
    termination: str
    liability: str
    confidentiality: str
    non_circumvention: str
    dispute_resolution: str

    def canonical_bytes(self) -> bytes:
        """Sorted-key compact JSON of every field, UTF-8: the same terms give the same bytes on
        every machine and version of this code."""
        raise NotImplementedError

    def sha256(self) -> str:
        """Hex SHA-256 of `canonical_bytes()`: the hash frozen when a version is ready to sign."""
        raise NotImplementedError


CLAUSES = ("termination", "liability", "confidentiality", "non_circumvention", "dispute_resolution")


def default_clauses(locale: str) -> dict[str, str]:
    """Default texts of the five clauses (keys of CLAUSES), French unless locale is "en"; the
    facilitator edits them in the draft."""
    raise NotImplementedError


class TermChange(_Strict):
    # A dotted path: "price.amount_cents", "parties[1].site_name".
    field: str
    before: str
    after: str


def diff(old: Terms, new: Terms) -> list[TermChange]:
    """Every changed leaf, in the fields' declaration order (parties by index), values as text
    ("" for an absent one)."""
    raise NotImplementedError
