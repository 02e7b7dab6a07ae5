"""Audit chain: signed checkpoints of its head

Revision ID: 0004_audit
Revises: 0004_accounts
Create Date: 2026-11-30 07:10:00

A checkpoint signs (Ed25519, key outside the database) the chain's last entry's seq and hash, so
a truncated, rewritten or reordered chain no longer matches what was signed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.models

revision = "0004_audit"
down_revision = "0004_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_checkpoints",
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("head_seq", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("prev_digest", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("number"),
    )


def downgrade() -> None:
    op.drop_table("audit_checkpoints")
