"""The territory plan: which exchanges to make, and how much of each, as a linear programme.

Variables: x_p >= 0, the quantity exchanged on candidate pair p (in the pair's unit per year).
Each offer gives at most what it has (sum of its pairs' x <= its quantity), each request takes at
most what it needs; maximise the sum of value_p * x_p, where value_p is the CO₂e avoided (or the
€ saved) per unit on pair p. Quantities split across pairs where that is better: an offer of
100,000 t of fly ash can feed two cement plants. Solved with HiGHS (highspy).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import highspy
import numpy as np


@dataclass(frozen=True)
class PlanPair:
    key: uuid.UUID  # the match
    offer: uuid.UUID
    request: uuid.UUID
    value_per_unit: float  # objective gained per unit exchanged (kg CO₂e or €)


@dataclass(frozen=True)
class Allocation:
    pair: PlanPair
    quantity: float

    @property
    def value(self) -> float:
        return self.pair.value_per_unit * self.quantity


def solve(
    pairs: Sequence[PlanPair], supply: dict[uuid.UUID, float], demand: dict[uuid.UUID, float]
) -> list[Allocation]:
    """The allocation that maximises the total value; pairs of no value are left out."""
    useful = [
        p for p in pairs if p.value_per_unit > 0 and p.offer in supply and p.request in demand
    ]
    if not useful:
        return []
    offers = sorted({p.offer for p in useful}, key=str)
    requests = sorted({p.request for p in useful}, key=str)
    row = {flow: i for i, flow in enumerate(offers)}
    row.update({flow: len(offers) + j for j, flow in enumerate(requests)})

    lp = highspy.HighsLp()
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.num_col_ = len(useful)
    lp.num_row_ = len(row)
    lp.col_cost_ = np.array([p.value_per_unit for p in useful], dtype=np.double)
    lp.col_lower_ = np.zeros(len(useful), dtype=np.double)
    lp.col_upper_ = np.full(len(useful), highspy.kHighsInf, dtype=np.double)
    lp.row_lower_ = np.full(len(row), -highspy.kHighsInf, dtype=np.double)
    lp.row_upper_ = np.array(
        [supply[f] for f in offers] + [demand[f] for f in requests], dtype=np.double
    )
    # Column-wise: each pair's column has a 1 in its offer's row and in its request's row.
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.arange(0, 2 * len(useful) + 1, 2, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(
        [i for p in useful for i in (row[p.offer], row[p.request])], dtype=np.int32
    )
    lp.a_matrix_.value_ = np.ones(2 * len(useful), dtype=np.double)

    solver = highspy.Highs()
    solver.setOptionValue("output_flag", False)
    solver.passModel(lp)
    solver.run()
    if solver.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(
            f"the plan has no optimum: {solver.modelStatusToString(solver.getModelStatus())}"
        )
    values = solver.getSolution().col_value
    # Below a millionth of a unit is the solver's rounding, not an exchange.
    return [
        Allocation(pair, float(quantity))
        for pair, quantity in zip(useful, values, strict=True)
        if quantity > 1e-6
    ]
