"""Quantities normalised per kind, with the declared unit kept."""

from __future__ import annotations

import pytest

from core.errors import Invalid
from marketplace.flows.models import Kind, Period
from marketplace.flows.units import normalise


@pytest.mark.parametrize(
    ("kind", "quantity", "unit", "period", "expected"),
    [
        (Kind.MATERIAL, 500, "kg", Period.DAY, 182.5),
        (Kind.MATERIAL, 2, "kt", Period.YEAR, 2000),
        (Kind.MATERIAL, 10, "tonnes", Period.MONTH, 120),
        (Kind.HEAT, 1000, "kWh", Period.DAY, 365),
        (Kind.HEAT, 36, "GJ", Period.YEAR, 10),
        (Kind.HEAT, 500, "kW", Period.YEAR, 4380),
        (Kind.WATER, 1000, "L", Period.DAY, 365),
        (Kind.WATER, 2, "m³", Period.WEEK, 2 * 365 / 7),
        (Kind.GAS, 3, "kNm3", Period.YEAR, 3000),
    ],
)
def test_normalisation(kind: Kind, quantity: float, unit: str, period: Period, expected: float):
    assert normalise(kind, quantity, unit, period) == pytest.approx(expected)


def test_power_over_its_months_only() -> None:
    assert normalise(Kind.HEAT, 1, "MW", Period.YEAR, months=6) == pytest.approx(4380)


@pytest.mark.parametrize(
    ("kind", "unit"),
    [(Kind.MATERIAL, "MWh"), (Kind.HEAT, "t"), (Kind.WATER, "kg"), (Kind.GAS, "mg")],
)
def test_units_of_another_kind_are_refused(kind: Kind, unit: str) -> None:
    with pytest.raises(Invalid) as error:
        normalise(kind, 1, unit, Period.YEAR)
    assert error.value.field == "unit"
