"""Introductions to pooled offers, sites' permit flags, audit entries' data

Revision ID: 0010_intro_pools
Revises: 0009_introductions
Create Date: 2026-11-30 19:40:00

- `introduction_shares`: one row per contributor of a pooled offer an introduction is for, its
  own decision (locked and versioned). `introductions.owner_company_id` becomes nullable: a
  pooled offer has contributors, no owner.
- `sites`: the permits a receiving plant declares (ICPE regime, what it may receive), shown as
  flags on its anonymized card. Categories, not identities: in clear.
- `audit_entries.data`: further ids an entry names (the introduction's), hashed with the entry
  when present, so the entries already written keep their hashes.

SQLite cannot drop a NOT NULL: the introductions table is rebuilt (batch mode). Its rebuild drops
the old table, which SQLite refuses while rows of outbox_messages and introduction_messages point
to it (foreign keys are on, and cannot be turned off inside the migration's transaction): those
rows are set aside in temporary tables for the rebuild and put back after it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.models import UTCDateTime

revision = "0010_intro_pools"
down_revision = "0009_introductions"
branch_labels = None
depends_on = None

# The tables whose rows point to introductions, in the order they are put back (the statements
# below name only these constants: no input reaches them, hence their `noqa: S608`).
_CHILDREN = ("outbox_messages", "introduction_messages")


def _rebuild_introductions(nullable: bool) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for child in _CHILDREN:
            op.execute(f"CREATE TEMP TABLE _kept_{child} AS SELECT * FROM {child}")  # noqa: S608
            op.execute(f"DELETE FROM {child}")  # noqa: S608
    with op.batch_alter_table("introductions", schema=None) as batch_op:
        batch_op.alter_column("owner_company_id", existing_type=sa.Uuid(), nullable=nullable)
    if sqlite:
        for child in _CHILDREN:
            op.execute(f"INSERT INTO {child} SELECT * FROM _kept_{child}")  # noqa: S608
            op.execute(f"DROP TABLE _kept_{child}")


def upgrade() -> None:
    _rebuild_introductions(nullable=True)
    op.create_table(
        "introduction_shares",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("introduction_id", sa.Uuid(), sa.ForeignKey("introductions.id"), nullable=False),
        sa.Column("company_id", sa.Uuid(), sa.ForeignKey("companies.id"), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("answered_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("introduction_id", "company_id"),
    )
    for column in ("introduction_id", "company_id"):
        op.create_index(f"ix_introduction_shares_{column}", "introduction_shares", [column])
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("icpe_regime", sa.String(length=16), nullable=True))
        for flag in (
            "receives_non_hazardous_waste",
            "receives_hazardous_waste",
            "animal_by_products_approved",
        ):
            batch_op.add_column(
                sa.Column(flag, sa.Boolean(), nullable=False, server_default=sa.false())
            )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("data", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_column("data")
    with op.batch_alter_table("sites", schema=None) as batch_op:
        for column in (
            "animal_by_products_approved",
            "receives_hazardous_waste",
            "receives_non_hazardous_waste",
            "icpe_regime",
        ):
            batch_op.drop_column(column)
    op.drop_table("introduction_shares")
    # Introductions to pooled offers have no owner to keep: they go, with what points to them.
    pooled = "SELECT id FROM introductions WHERE owner_company_id IS NULL"
    for child in _CHILDREN:
        op.execute(f"DELETE FROM {child} WHERE introduction_id IN ({pooled})")  # noqa: S608
    op.execute("DELETE FROM introductions WHERE owner_company_id IS NULL")
    _rebuild_introductions(nullable=False)
