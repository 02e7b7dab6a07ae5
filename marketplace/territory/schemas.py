"""The published figures of a release, as stored in its row and read by the landing page."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FamilyQuantity(_Frozen):
    family: str  # privacy.generalisation.FAMILIES key
    quantity: float  # rounded to two significant figures


class UnitQuantities(_Frozen):
    unit: str  # the contracts' units: "t", "MWh", "m3"
    total: float | None  # None: the total did not pass the secrecy rules
    families: list[FamilyQuantity]  # the families that passed; the others are not named


class ExchangeFigures(_Frozen):
    # Contracts signed (countersigned) in the period. Never the contracts active in it: a
    # contract runs across years, so two years' active counts would difference into the
    # contracts that ended, a cell no release checks; each contract is signed in one year only.
    contracts_signed: int | None
    delivered: list[UnitQuantities]

    @property
    def any(self) -> bool:
        return self.contracts_signed is not None or any(
            u.total is not None or u.families for u in self.delivered
        )

    @property
    def cells(self) -> int:
        quantities = sum((u.total is not None) + len(u.families) for u in self.delivered)
        return (self.contracts_signed is not None) + quantities


class FiguresRead(_Frozen):
    """The latest release as the public API shows it: the published cells, their period."""

    period: str
    period_start: date
    period_end: date
    released_at: datetime
    contracts_signed: int | None
    delivered: list[UnitQuantities]
