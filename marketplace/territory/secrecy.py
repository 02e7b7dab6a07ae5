"""Business-statistics secrecy for cells made of exchanges between two companies (pure).

A cell (the tonnes of one family delivered in a year, the contracts signed in a year) sums
exchanges, each between a giver and a taker, and each side knows its own exchanges. The usual
rules, at least 3 companies and none above 85 % of the cell, are written for cells where each
company contributes alone; here each exchange has two contributors, so they do not suffice:
with three companies trading in pairs, any one of them subtracts its own exchanges from the
total and reads the other two's exact figure. And a member holding accounts in two companies
knows the exchanges of both, and may make some between them to complete a cell.

So a cell is published only if, for every coalition of at most two legal units (none, one, or
two), what the coalition does not already know (the exchanges touching neither of them) is
either nothing or not dominated: no legal unit holds more than 85 % of it. The empty coalition
is the plain dominance rule; with at least 3 legal units overall, this is the rule of PRODUCT.md
made to hold against whoever is inside the cell. It often suppresses small cells: that is the
price of a figure that points to no one.

Published values are rounded to two significant figures, and a cell suppressed beside a
published total is protected by secondary suppression (`suppress_beside_total`), since the
total minus the published parts would give it back.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

MIN_UNITS = 3
DOMINANCE = 0.85
# A member may hold accounts in this many companies and pool what they know.
COALITION = 2
SIGNIFICANT_FIGURES = 2


@dataclass(frozen=True)
class Exchange:
    """One exchange's share of a cell: its two legal units and its weight (a quantity, or 1
    for a contract counted)."""

    giver: Hashable
    taker: Hashable
    weight: float


def _shares(exchanges: Iterable[Exchange]) -> tuple[float, dict[Hashable, float]]:
    total = 0.0
    per_unit: dict[Hashable, float] = defaultdict(float)
    for e in exchanges:
        total += e.weight
        per_unit[e.giver] += e.weight
        if e.taker != e.giver:
            per_unit[e.taker] += e.weight
    return total, per_unit


def publishable(exchanges: Sequence[Exchange]) -> bool:
    """Whether a cell made of these exchanges may be published (see the module's rule)."""
    exchanges = [e for e in exchanges if e.weight > 0]
    if not exchanges:
        return False
    # Pairs of legal units with their summed weight: what the coalitions are checked against.
    pairs: dict[tuple[Hashable, Hashable], float] = defaultdict(float)
    for e in exchanges:
        pairs[(e.giver, e.taker)] += e.weight
    units = sorted({u for pair in pairs for u in pair}, key=repr)
    if len(units) < MIN_UNITS:
        return False
    coalitions: list[frozenset[Hashable]] = [frozenset()]
    for size in range(1, COALITION + 1):
        coalitions += [frozenset(c) for c in combinations(units, size)]
    for coalition in coalitions:
        unknown = [
            Exchange(g, t, w)
            for (g, t), w in pairs.items()
            if g not in coalition and t not in coalition
        ]
        total, per_unit = _shares(unknown)
        if total > 0 and max(per_unit.values()) > DOMINANCE * total:
            return False
    return True


def rounded(value: float) -> float:
    """Two significant figures: 12 345 -> 12 000, 0.4567 -> 0.46."""
    if value == 0:
        return 0.0
    digits = SIGNIFICANT_FIGURES - 1 - math.floor(math.log10(abs(value)))
    return float(round(value, digits))


def suppress_beside_total(parts: Mapping[str, Sequence[Exchange]], total_shown: bool) -> set[str]:
    """The parts that may be published beside their total.

    A part is published if it passes the rule itself. When the total is published too, what it
    leaves over the published parts (the union of the suppressed ones) can be computed by
    anyone, so it must pass the rule as well: while it does not, the smallest published part
    joins the suppressed ones."""
    shown = {name for name, exchanges in parts.items() if publishable(exchanges)}
    if not total_shown:
        return shown

    def rest() -> list[Exchange]:
        return [e for name, ex in parts.items() if name not in shown for e in ex]

    def size(name: str) -> float:
        return sum(e.weight for e in parts[name])

    while shown and rest() and not publishable(rest()):
        shown.remove(min(shown, key=lambda name: (size(name), name)))
    return shown
