"""Quantities normalised per kind (t/yr, MWh/yr, m³/yr), the declared unit kept for display.

A gas is metered either in volume (m³, Nm³: the base unit m³/yr) or in energy, as steelworks
gases and biogas are (kWh, MWh, GWh, on the lower or the higher heating value: the base unit
MWh/yr on the lower heating value). Quantities are compared only within one base unit.
"""

from __future__ import annotations

import re

from core.inputs import MAX_QUANTITY_PER_YEAR
from marketplace.flows.errors import QuantityNotPositive, QuantityTooLarge, UnknownUnit
from marketplace.flows.models import Kind, Period

BASE_UNIT = {Kind.MATERIAL: "t/yr", Kind.HEAT: "MWh/yr", Kind.WATER: "m3/yr", Kind.GAS: "m3/yr"}
ENERGY_BASE_UNIT = "MWh/yr"

# Factor from one declared unit to the kind's base quantity (before the period).
_AMOUNT_UNITS: dict[Kind, dict[str, float]] = {
    Kind.MATERIAL: {"kg": 0.001, "t": 1.0, "kt": 1000.0},
    Kind.HEAT: {
        "kwh": 0.001,
        "mwh": 1.0,
        "gwh": 1000.0,
        "gj": 1 / 3.6,
        "mj": 1 / 3600,
        "th": 0.001163,
    },
    Kind.WATER: {"l": 0.001, "m3": 1.0, "ml": 1000.0},
    Kind.GAS: {"nm3": 1.0, "m3": 1.0, "knm3": 1000.0},
}
# Heat may be declared as an average power; it then runs all the hours of the year (or of its
# months when they are given), whatever the period.
_POWER_UNITS = {"kw": 0.001, "mw": 1.0}

# A gas's energy: kWh, MWh or GWh, then optionally its heating value, lower (PCI, LHV) or higher
# (PCS, HHV), glued or after "_", "-", "." or in brackets: "MWh PCS", "MWh_pcs", "kWhPCI".
_HEATING_VALUE = "pci|pcs|lhv|hhv"
_GAS_ENERGY = re.compile(
    rf"(?P<prefix>[kmg])wh(?:[_\-.]?(?P<value>{_HEATING_VALUE})|\((?P<bracketed>{_HEATING_VALUE})\))?"
)
_GAS_ENERGY_FACTORS = {"k": 0.001, "m": 1.0, "g": 1000.0}
# Energy is kept on the lower heating value (PCI): higher-heating-value quantities are multiplied
# by PCI/PCS = 0.9, the usual ratio for natural gas and biomethane (ADEME Base Carbone
# documentation, "PCI = 0,9 × PCS" for natural gas; GRDF and the CRE quote 0.901). A steelworks
# gas, poor in hydrogen, has a ratio nearer 0.98: its quantity is then slightly understated.
PCI_PER_PCS = 0.9
_HIGHER_HEATING_VALUE = frozenset({"pcs", "hhv"})
GAS_ENERGY_UNITS = ("kwh", "mwh", "gwh", "kwh pcs", "mwh pcs", "gwh pcs")

_ALIASES = {"tonne": "t", "tonnes": "t", "m³": "m3", "nm³": "nm3", "litre": "l", "litres": "l"}

PER_YEAR = {Period.YEAR: 1.0, Period.MONTH: 12.0, Period.WEEK: 365 / 7, Period.DAY: 365.0}
HOURS_PER_YEAR = 8760.0


def canonical_unit(unit: str) -> str:
    key = unit.strip().lower().replace(" ", "")
    return _ALIASES.get(key, key)


def units_for(kind: Kind) -> list[str]:
    units = list(_AMOUNT_UNITS[kind])
    if kind == Kind.GAS:
        return units + list(GAS_ENERGY_UNITS)
    return units + list(_POWER_UNITS) if kind == Kind.HEAT else units


def _gas_energy(key: str) -> float | None:
    """MWh (on the lower heating value) per declared unit of a gas metered in energy; None for
    any other unit."""
    matched = _GAS_ENERGY.fullmatch(key)
    if matched is None:
        return None
    factor = _GAS_ENERGY_FACTORS[matched["prefix"]]
    value = matched["value"] or matched["bracketed"]
    return factor * PCI_PER_PCS if value in _HIGHER_HEATING_VALUE else factor


def base_unit_of(kind: Kind, unit: str) -> str:
    """The base unit a flow's quantity is normalised to: its kind's, or MWh/yr for a gas metered
    in energy (call after `normalise` accepted the unit)."""
    kind = Kind(kind)
    if kind == Kind.GAS and _gas_energy(canonical_unit(unit)) is not None:
        return ENERGY_BASE_UNIT
    return BASE_UNIT[kind]


def normalise(kind: Kind, quantity: float, unit: str, period: Period, months: int = 12) -> float:
    """The yearly quantity in the kind's base unit; raises Invalid naming the bad field."""
    kind, period = Kind(kind), Period(period)
    if not quantity > 0:
        raise QuantityNotPositive(field="quantity")
    key = canonical_unit(unit)
    if kind == Kind.HEAT and key in _POWER_UNITS:
        return _bounded(quantity * _POWER_UNITS[key] * HOURS_PER_YEAR * (months or 12) / 12)
    factors = _AMOUNT_UNITS[kind]
    energy = _gas_energy(key) if kind == Kind.GAS else None
    if energy is not None:
        return _bounded(quantity * energy * PER_YEAR[period])
    if key not in factors:
        allowed = ", ".join(units_for(kind))
        raise UnknownUnit(field="unit", kind=kind.value, units=allowed)
    return _bounded(quantity * factors[key] * PER_YEAR[period])


def _bounded(per_year: float) -> float:
    # A declared quantity within its own bound can still overflow once converted (1e9 kt a
    # day): it would be stored as infinity and shown publicly as the top quantity band.
    if not per_year <= MAX_QUANTITY_PER_YEAR:
        raise QuantityTooLarge(field="quantity", limit=MAX_QUANTITY_PER_YEAR)
    return per_year
