"""A match stores numbers only: its criteria's scores and its estimate's per-unit figures

Revision ID: 0011_match_numbers
Revises: 0009_introductions
Create Date: 2026-11-30 19:30:00

A whole-territory recompute stores hundreds of thousands of matches and a facilitator reads a few
dozen: building and encoding each match's reasons and estimate as JSON was most of the storing
(bench/results/matching_db.md). A match now keeps each criterion's score and the estimate's €
and CO₂e per unit (what the plan reads); its reasons and its full estimate are built when read,
from these numbers and the two flows (matching/service.py, explain).

The rows stored before are kept, their numbers read from their JSON: the criteria's scores as
the breakdown stored them (rounded to 3 decimals, as they were shown), the per-unit figures as
the estimate did (4 decimals). No recompute is needed; the next recompute of a flow stores its
matches' numbers unrounded. Downgrading brings the JSON columns back empty and forgets when
every flow was matched, so that the next `symbiose match` recomputes them all.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0011_match_numbers"
down_revision = "0010_intro_pools"
branch_labels = None
depends_on = None

# Written out rather than imported: a migration keeps the shape it had when it was written.
CRITERIA = ("material", "distance", "quantity", "timing", "quality", "precision")
# Whole numbers: € and kg CO₂e per unit × 10⁴, the pipe in euros.
PER_UNIT = (
    "eur_giver_per_unit_e4",
    "eur_taker_per_unit_e4",
    "co2e_kg_per_unit_e4",
    "investment_eur",
)
NUMBERS = tuple(f"{name}_score" for name in CRITERIA) + tuple(PER_UNIT)
BATCH = 1_000


def _matches(*columns: sa.ColumnClause[Any]) -> sa.TableClause:
    return sa.table("matches", sa.column("id", sa.Uuid()), *columns)


def _json(value: Any) -> Any:
    """A JSON column's value as Python: drivers give it parsed or as text."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def _numbers(breakdown: Any, estimate: Any) -> dict[str, float | int | None]:
    scores = {entry.get("criterion"): entry.get("score") for entry in _json(breakdown) or []}
    numbers: dict[str, float | int | None] = {f"{c}_score": None for c in CRITERIA}
    if all(scores.get(c) is not None for c in CRITERIA):
        numbers.update({f"{c}_score": float(scores[c]) for c in CRITERIA})
    estimate = _json(estimate)
    numbers.update(dict.fromkeys(PER_UNIT))
    if estimate:
        numbers.update(
            eur_giver_per_unit_e4=round(float(estimate["eur_giver_per_unit"]) * 10_000),
            eur_taker_per_unit_e4=round(float(estimate["eur_taker_per_unit"]) * 10_000),
            co2e_kg_per_unit_e4=round(float(estimate["co2e_kg_per_unit"]) * 10_000),
            # Stored as None when there was none (a material): the figure is then 0.
            investment_eur=round(float(estimate.get("investment_eur") or 0.0)),
        )
    return numbers


def upgrade() -> None:
    for name in NUMBERS:
        kind = sa.BigInteger() if name in PER_UNIT else sa.Float()
        op.add_column("matches", sa.Column(name, kind, nullable=True))
    connection = op.get_bind()
    old = _matches(sa.column("breakdown", sa.Text()), sa.column("estimate", sa.Text()))
    new = _matches(*(sa.column(name) for name in NUMBERS))
    rows = connection.execute(sa.select(old.c.id, old.c.breakdown, old.c.estimate)).all()
    for start in range(0, len(rows), BATCH):
        for match_id, breakdown, estimate in rows[start : start + BATCH]:
            connection.execute(
                new.update().where(new.c.id == match_id).values(**_numbers(breakdown, estimate))
            )
    with op.batch_alter_table("matches") as batch:
        batch.drop_column("breakdown")
        batch.drop_column("estimate")


def downgrade() -> None:
    with op.batch_alter_table("matches") as batch:
        batch.add_column(sa.Column("breakdown", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("estimate", sa.JSON(), nullable=True))
    with op.batch_alter_table("matches") as batch:
        batch.alter_column("breakdown", server_default=None)
        for name in NUMBERS:
            batch.drop_column(name)
    # The reasons were not stored: every flow is matched again by the next `symbiose match`.
    op.execute(sa.text("DELETE FROM matched_flows"))
