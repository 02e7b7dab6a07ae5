"""A listing's quantity unit: a gas is metered in volume or in energy

Revision ID: 0005_listing_units
Revises: 0006_matches
Create Date: 2026-11-30 16:00:00

A gas flow's quantity is now normalised to m³/yr (declared in m³, Nm³...) or to MWh/yr on the
lower heating value (declared in kWh, MWh, GWh, PCI or PCS): flows.base_unit already says which.
listings.base_unit copies it, so the card's quantity class says "MWh/an" or "m³/an" and a pooled
offer never sums both. Every listing stored before is filled with its kind's unit, the only one
gas had until now.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_listing_units"
down_revision = "0006_matches"
branch_labels = None
depends_on = None

# Written out rather than imported: a migration keeps the shape it had when it was written.
KIND_BASE_UNITS = {"material": "t/yr", "heat": "MWh/yr", "water": "m3/yr", "gas": "m3/yr"}

listings = sa.table("listings", sa.column("kind", sa.String()), sa.column("base_unit", sa.String()))


def upgrade() -> None:
    op.add_column("listings", sa.Column("base_unit", sa.String(length=8), nullable=True))
    for kind, unit in KIND_BASE_UNITS.items():
        op.execute(listings.update().where(listings.c.kind == kind).values(base_unit=unit))


def downgrade() -> None:
    op.drop_column("listings", "base_unit")
