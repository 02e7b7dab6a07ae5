"""Matches: the synergy engine's stored offer ↔ request pairs

Revision ID: 0006_matches
Revises: 0005_sectors
Create Date: 2026-11-30 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.models import UTCDateTime

revision = "0006_matches"
down_revision = "0005_sectors"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "matches",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("offer_flow_id", sa.Uuid(), sa.ForeignKey("flows.id"), nullable=False),
        sa.Column("request_flow_id", sa.Uuid(), sa.ForeignKey("flows.id"), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("distance_km", sa.Float(), nullable=False),
        sa.Column("archetype_id", sa.String(length=80), nullable=True),
        sa.Column("breakdown", sa.JSON(), nullable=False),
        sa.Column("estimate", sa.JSON(), nullable=True),
        sa.Column("suggested_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("computed_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("offer_flow_id", "request_flow_id"),
    )
    op.create_table(
        "matched_flows",
        sa.Column("flow_id", sa.Uuid(), sa.ForeignKey("flows.id"), primary_key=True),
        sa.Column("matched_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_matches_offer_flow_id", "matches", ["offer_flow_id"])
    op.create_index("ix_matches_request_flow_id", "matches", ["request_flow_id"])


def downgrade() -> None:
    op.drop_table("matches")
    op.drop_table("matched_flows")
