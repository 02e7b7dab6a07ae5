"""What the engine compares: one side of a possible exchange, as facts.

The same scoring serves two readers, who may know different things:
- the facilitator (and the territory plan, the command line) sees every flow as it is: its exact
  LoW code, quantity, temperature, its company's sector, its site's resolution-7 cell;
- a member sees a counterpart only through its public card (PRODUCT.md, "What each party may
  see"), so the facts of a counterpart are built from the card: the LoW code at the level the
  card shows, the quantity class's representative, the temperature band's middle, the card's
  point, no sector, no precision. A member's score is then a function of what it may see, and
  reading it back however often teaches nothing the card does not (no trilateration through
  distances, no quantity through coverage).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import h3

from marketplace.catalogue.models import Listing
from marketplace.flows.models import Flow
from privacy.generalisation import class_representative

# The middle of each public temperature band (privacy.generalisation.TEMPERATURE_BOUNDS: 40, 90,
# 150 °C): what a member's score takes for a counterpart's heat.
TEMPERATURE_MIDDLES: tuple[float, ...] = (30.0, 65.0, 120.0, 200.0)


@dataclass(frozen=True)
class Facts:
    """One side of a possible exchange. ``low_code`` is compact and may be a 6-digit entry, a
    4-digit subchapter or a 2-digit chapter (what a card shows); ``words`` is the free text the
    side is described with (label, description, the virgin material it replaces)."""

    ref: uuid.UUID  # the flow's id (exact facts) or the listing's (a card)
    company_id: uuid.UUID | None
    kind: str
    direction: str
    low_code: str | None
    hazardous: bool
    label: str
    description: str
    virgin_material: str | None
    nace: str | None
    quantity_per_year: float | None
    months_mask: int
    regularity: str
    temperature_c: float | None
    physical_state: str | None
    precision: str | None
    latitude: float
    longitude: float
    current_cost_cents: int | None = None
    current_operation: str | None = None
    virgin_price_cents: int | None = None
    base_unit: str = ""
    # A card (what a member sees of a counterpart) rather than a flow as it is; for a card, the
    # listing's flow (None for a pooled offer), so a member's own listings can be left out.
    is_card: bool = False
    flow_id: uuid.UUID | None = None


def cell_point(cell: str) -> tuple[float, float]:
    """The centre of a site's resolution-7 cell: the finest position kept in clear, a few hundred
    metres from the site, which is enough to rank exchanges measured in kilometres."""
    latitude, longitude = h3.cell_to_latlng(cell)
    return latitude, longitude


def flow_facts(flow: Flow, cell: str, nace: str | None) -> Facts:
    """A flow as it is (its owner's and the facilitator's view)."""
    latitude, longitude = cell_point(cell)
    return Facts(
        ref=flow.id,
        company_id=flow.company_id,
        kind=str(flow.kind),
        direction=str(flow.direction),
        low_code=flow.low_code,
        hazardous=flow.hazardous,
        label=flow.label,
        description=flow.description or "",
        virgin_material=flow.replaces_material,
        nace=nace,
        quantity_per_year=flow.quantity_per_year,
        months_mask=flow.months_mask,
        regularity=str(flow.regularity),
        temperature_c=flow.temperature_c,
        physical_state=str(flow.physical_state) if flow.physical_state else None,
        precision=str(flow.precision) if flow.precision else None,
        latitude=latitude,
        longitude=longitude,
        current_cost_cents=flow.current_cost_cents,
        current_operation=flow.current_operation,
        virgin_price_cents=flow.virgin_price_cents,
        base_unit=flow.base_unit,
    )


def own_flow_facts(flow: Flow, latitude: float, longitude: float, nace: str | None) -> Facts:
    """A member's own flow, at its site's exact position (its own data)."""
    facts = flow_facts(flow, h3.latlng_to_cell(latitude, longitude, 7), nace)
    return Facts(**{**facts.__dict__, "latitude": latitude, "longitude": longitude})


def card_facts(listing: Listing) -> Facts:
    """A counterpart as its public card shows it, and nothing more."""
    code = listing.public_low_code or listing.low_subchapter or listing.low_chapter
    quantity = (
        class_representative(listing.quantity_band) if listing.quantity_band is not None else None
    )
    temperature = (
        TEMPERATURE_MIDDLES[listing.temperature_band]
        if listing.temperature_band is not None
        else None
    )
    return Facts(
        ref=listing.id,
        company_id=None,
        kind=listing.kind,
        direction=listing.direction,
        low_code=code,
        hazardous=listing.hazardous,
        label=listing.title,
        description=listing.description,
        virgin_material=None,
        nace=None,
        quantity_per_year=quantity,
        months_mask=listing.months_mask,
        regularity=listing.regularity,
        temperature_c=temperature,
        physical_state=None,
        precision=None,
        latitude=listing.latitude,
        longitude=listing.longitude,
        is_card=True,
        flow_id=listing.flow_id,
        # The unit shows on the card with its class only: a dominated pool's « présent » says
        # neither, and the quantity criterion must not say "different units" for it.
        base_unit=(listing.base_unit or "") if quantity is not None else "",
    )
