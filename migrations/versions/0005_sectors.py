"""The NAF rév. 2 / NACE Rev. 2 nomenclature as a reference table

Revision ID: 0005_sectors
Revises: 0004_fixes_cell
Create Date: 2026-11-30 14:30:00

Sector codes are now checked against the nomenclature (core/reference/sectors.py) and shown with
their label. Companies' stored codes are left as they are: a code stored before this check and
absent from the nomenclature simply shows no label until its company is edited.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.reference.loader import load_sectors

revision = "0005_sectors"
down_revision = "0004_fixes_cell"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sectors",
        sa.Column("code", sa.String(length=8), primary_key=True),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("parent", sa.String(length=8), nullable=True),
        sa.Column("label_fr", sa.String(), nullable=False),
        sa.Column("label_en", sa.String(), nullable=True),
    )
    load_sectors(op.get_bind())


def downgrade() -> None:
    op.drop_table("sectors")
