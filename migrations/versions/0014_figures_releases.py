"""Releases of the territory's exchange figures

Revision ID: 0014_figures_releases
Revises: 0013_password_resets
Create Date: 2026-12-01 00:00:00

A new table only: one frozen row per released year holding the published cells, unique per
period so that two concurrent releases of a year store one row.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.models import UTCDateTime

revision = "0014_figures_releases"
down_revision = "0013_password_resets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "figures_releases",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("figures_sha256", sa.String(length=64), nullable=False),
        sa.Column("released_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("period"),
    )
    op.create_index("ix_figures_releases_period_end", "figures_releases", ["period_end"])


def downgrade() -> None:
    op.drop_index("ix_figures_releases_period_end", table_name="figures_releases")
    op.drop_table("figures_releases")
