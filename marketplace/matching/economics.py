"""€ and CO₂e of a match, with the assumptions they rest on.

Per unit exchanged (a tonne, MWh or m³ a year, the flows' base unit), from the knowledge base's
factor files (data/economics.csv, data/emission_factors.csv, each value with its source):
- materials travel by road: handling plus €/t·km over the distance times a detour factor;
  the giver stops paying its current route (its own cost if it declared one, else the default
  gate fee of that route); the taker stops buying the virgin material the residue replaces
  (its own price if declared, else the default price), in the archetype's ratio;
- heat, water and gas travel by pipe: an investment of €/m over the distance, paid back by the
  taker's avoided purchase (gas boiler heat, network water, natural gas or liquid CO₂);
- CO₂e avoided is the virgin production and the disposal avoided, minus transport.
The quantity is what both sides can exchange: the smaller of the offer and the need. Who pays
transport is a negotiation; the estimate books it on the taker's side and says so.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

from core.text import fold
from marketplace.matching.facts import Facts
from marketplace.matching.knowledge import (
    Archetype,
    archetypes,
    disposal_route,
    factor,
    factors,
    substitution_ratio,
    virgin_slug,
)
from marketplace.matching.scoring import Scored

# Roads are not straight lines: the usual ratio of road to great-circle distance in France.
ROAD_DETOUR = 1.3
# What a pipe between two sites costs a year, as the payback's denominator: none but the
# investment is counted (operation is small against the heat or water delivered).
UTILITY_VIRGIN = {"heat": "natural_gas_heat", "water": "fresh_water", "gas": "natural_gas"}


@lru_cache(maxsize=1)
def _archetypes() -> dict[str, Archetype]:
    return {a.id: a for a in archetypes()}


class _Book:
    """The factors an estimate used, for its list of assumptions (``record=False``: the numbers
    alone, as a match is stored)."""

    def __init__(self, record: bool = True) -> None:
        self.used: dict[str, dict[str, Any]] = {}
        self.record = record

    def get(self, key: str) -> float | None:
        found = factors().get(key)
        if found is None:
            return None
        if self.record:
            self.used[key] = {
                "key": key,
                "value": found.value,
                "unit": found.unit,
                "source": found.source,
            }
        return found.value

    def need(self, key: str) -> float:
        value = self.get(key)
        return factor(key) if value is None else value


class PerUnit(NamedTuple):
    """An estimate's numbers: € a year for each side and kg CO₂e per unit exchanged, and the
    pipe's investment. What a stored match keeps (the plan reads them); the rest of the estimate
    (quantity, yearly figures, notes, assumptions) is built from them and the flows when read."""

    eur_giver: float
    eur_taker: float
    co2e_kg: float
    investment_eur: float


def per_unit(pair: Scored) -> PerUnit | None:
    """The pair's numbers, None when a quantity is missing (estimate() is then None too)."""
    if not pair.offer.quantity_per_year or not pair.request.quantity_per_year:
        return None
    return PerUnit(*_values(pair, _Book(record=False), []))


def _values(pair: Scored, book: _Book, notes: list[str]) -> tuple[float, float, float, float]:
    archetype = _archetypes().get(pair.archetype_id or "")
    if pair.offer.kind == "material":
        return _material(pair, archetype, book, notes)
    return _utility(pair, archetype, book, notes)


def estimate(pair: Scored, stored: PerUnit | None = None) -> dict[str, Any] | None:
    """The pair's yearly € and CO₂e for each side, per unit and for the quantity both can
    exchange; None when a quantity is missing. ``stored``: a stored match's numbers, which the
    estimate then shows (its notes and assumptions are the pair's)."""
    offer, request = pair.offer, pair.request
    if not offer.quantity_per_year or not request.quantity_per_year:
        return None
    quantity = min(offer.quantity_per_year, request.quantity_per_year)
    book = _Book()
    notes: list[str] = []
    values = _values(pair, book, notes)
    if stored is not None:
        values = (stored.eur_giver, stored.eur_taker, stored.co2e_kg, stored.investment_eur)
    # The figures as shown (and as a stored match keeps them): a stored match's estimate and
    # the one computed afresh then agree to the cent.
    giver, taker, co2e = (in_e4(v) / E4 for v in values[:3])
    investment = float(round(values[3]))
    yearly_eur = (giver + taker) * quantity
    return {
        "quantity_per_year": round(quantity, 3),
        "eur_giver_per_unit": round(giver, 4),
        "eur_taker_per_unit": round(taker, 4),
        "eur_per_unit": eur_per_unit(giver, taker),
        "co2e_kg_per_unit": round(co2e, 4),
        "eur_giver_per_year": round(giver * quantity, 2),
        "eur_taker_per_year": round(taker * quantity, 2),
        "co2e_t_per_year": round(co2e * quantity / 1000, 3),
        "investment_eur": investment or None,
        "payback_years": round(investment / yearly_eur, 2)
        if investment and yearly_eur > 0
        else None,
        "notes": notes,
        "assumptions": sorted(book.used.values(), key=lambda a: a["key"]),
    }


E4 = 10_000  # per-unit figures are shown to four decimals, and stored as whole ten-thousandths


def in_e4(value: float) -> int:
    return round(value * E4)


def eur_per_unit(giver: float, taker: float) -> float:
    """€ saved per unit exchanged, both sides together, as an estimate shows it."""
    return round(giver + taker, 4)


def _distance_said(pair: Scored) -> str:
    """What the distance an estimate uses is: a member's is the middle of the card's band,
    never a measured distance, and its notes say so."""
    if pair.offer.is_card or pair.request.is_card:
        return "the middle of the distance band"
    return "the straight distance"


def _material(
    pair: Scored, archetype: Archetype | None, book: _Book, notes: list[str]
) -> tuple[float, float, float, float]:
    offer, request = pair.offer, pair.request
    road_km = pair.distance_km * ROAD_DETOUR
    transport_eur = (
        book.need("cost.transport.handling") + book.need("cost.transport.road") * road_km
    )
    transport_co2e = book.need("co2e.transport.road") * road_km
    notes.append(
        f"road transport over {round(road_km)} km ({ROAD_DETOUR} × {_distance_said(pair)}), "
        "booked on the taker's side"
    )
    route = disposal_route(offer.current_operation, offer.hazardous, offer.low_code)
    if offer.current_cost_cents is not None:
        giver = offer.current_cost_cents / 100
        notes.append("the giver's avoided cost is its own declared cost")
    else:
        giver = book.get(f"cost.disposal.{route}") or 0.0
        notes.append(f"the giver's avoided cost is the default gate fee of its route ({route})")
    disposal_co2e = book.get(f"co2e.disposal.{route}") or 0.0
    ratio = substitution_ratio(archetype) if archetype else 1.0
    if request.virgin_price_cents is not None:
        purchase = request.virgin_price_cents / 100
        notes.append("the taker's avoided purchase is its own declared price")
    elif archetype is not None:
        purchase = (book.get(f"price.virgin.{virgin_slug(archetype)}") or 0.0) * ratio
        notes.append(
            f"the taker's avoided purchase is {archetype.virgin_material_en} "
            f"at its default price, {ratio:g} t per t of residue"
        )
    else:
        purchase = 0.0
        notes.append("no virgin material known for this pair: no avoided purchase counted")
    virgin_co2e = (
        (book.get(f"co2e.virgin.{virgin_slug(archetype)}") or 0.0) * ratio if archetype else 0.0
    )
    return giver, purchase - transport_eur, virgin_co2e + disposal_co2e - transport_co2e, 0.0


# What an offered gas is, from its words: its energy per m³ differs tenfold (blast-furnace gas
# about 0.9 kWh/m³, natural gas about 10); a gas not recognised counts as natural gas.
GASES = (
    ("blast_furnace_gas", ("haut fourneau", "blast furnace", "gaz de gueulard")),
    ("coke_oven_gas", ("cokerie", "coke oven")),
    ("biogas", ("biogaz", "biogas", "methanisation", "digester")),
)


def _gas_of(offer: Facts) -> str:
    text = fold(f"{offer.label} {offer.description}")
    for gas, words in GASES:
        if any(fold(word) in text for word in words):
            return gas
    return "natural_gas"


def _utility(
    pair: Scored, archetype: Archetype | None, book: _Book, notes: list[str]
) -> tuple[float, float, float, float]:
    kind = pair.offer.kind
    slug = virgin_slug(archetype) if archetype else UTILITY_VIRGIN[kind]
    investment = book.need(f"cost.pipe.{kind}") * pair.distance_km * 1000 * ROAD_DETOUR
    notes.append(
        f"a {kind} pipe of {round(pair.distance_km * ROAD_DETOUR, 1)} km "
        f"({ROAD_DETOUR} × {_distance_said(pair)})"
    )
    price = book.get(f"price.virgin.{slug}") or 0.0
    co2e = book.get(f"co2e.virgin.{slug}") or 0.0
    per_unit = 1.0
    if kind == "gas" and pair.offer.base_unit.startswith("m3"):
        # A volume of gas: as energy (natural gas by default) or as CO₂'s mass.
        if slug == "liquid_co2":
            per_unit = book.need("convert.co2_kg_per_m3") / 1000
            notes.append("CO₂ counted by mass (kg per m³), replacing liquid CO₂")
        else:
            gas = _gas_of(pair.offer)
            per_unit = book.need(f"convert.{gas}_kwh_per_m3") / 1000
            notes.append(f"gas counted as {gas.replace('_', ' ')} energy (kWh per m³)")
    giver = 0.0
    if kind == "water":
        giver = book.get("cost.disposal.wastewater") or 0.0
        co2e += book.get("co2e.disposal.wastewater") or 0.0
        notes.append("the giver stops paying the discharge of this water")
    notes.append(f"the taker stops buying {slug.replace('_', ' ')}")
    return giver, price * per_unit, co2e * per_unit, investment
