"""The hazardous flag in published cells

Revision ID: 0004_fixes_cell
Revises: 0004_audit
Create Date: 2026-11-30 08:30:00

The hazardous flag is now part of a published cell's key at every material level
(privacy.generalisation.cell_key): "material|offer|subchapter|1502|hazardous|region|32". The
stored keys of listings shown today (listings.public_cell) and of ghosts (listing_ghosts.cell) get
the flag inserted after the material key, so the first run after the upgrade keeps the listings'
pins and the ghosts' hysteresis instead of re-placing everything from scratch. A ghost takes the
flag its listing has now (an edit that changed the flag since is rare, and the ghost expires with
the hysteresis). No schema change.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_fixes_cell"
down_revision = "0004_audit"
branch_labels = None
depends_on = None

# Written out rather than imported: a migration keeps the shape it had when it was written.
FLAG_POSITION = 4  # kind, direction, material level, material key, then the flag
HAZARDOUS, NON_HAZARDOUS = "hazardous", "non-hazardous"

listings = sa.table(
    "listings",
    sa.column("id", sa.Uuid()),
    sa.column("hazardous", sa.Boolean()),
    sa.column("public_cell", sa.String()),
)
ghosts = sa.table(
    "listing_ghosts",
    sa.column("id", sa.Uuid()),
    sa.column("listing_id", sa.Uuid()),
    sa.column("cell", sa.String()),
)


def _with_flag(cell: str, hazardous: bool) -> str:
    parts = cell.split("|")
    parts.insert(FLAG_POSITION, HAZARDOUS if hazardous else NON_HAZARDOUS)
    return "|".join(parts)


def _without_flag(cell: str) -> str:
    parts = cell.split("|")
    if len(parts) > FLAG_POSITION and parts[FLAG_POSITION] in (HAZARDOUS, NON_HAZARDOUS):
        del parts[FLAG_POSITION]
    return "|".join(parts)


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(listings.c.id, listings.c.hazardous, listings.c.public_cell).where(
            listings.c.public_cell.is_not(None)
        )
    ).all()
    for listing_id, hazardous, cell in rows:
        connection.execute(
            listings.update()
            .where(listings.c.id == listing_id)
            .values(public_cell=_with_flag(cell, bool(hazardous)))
        )
    rows = connection.execute(
        sa.select(ghosts.c.id, ghosts.c.cell, listings.c.hazardous).join(
            listings, listings.c.id == ghosts.c.listing_id
        )
    ).all()
    for ghost_id, cell, hazardous in rows:
        connection.execute(
            ghosts.update()
            .where(ghosts.c.id == ghost_id)
            .values(cell=_with_flag(cell, bool(hazardous)))
        )


def downgrade() -> None:
    connection = op.get_bind()
    for table, column in ((listings, listings.c.public_cell), (ghosts, ghosts.c.cell)):
        rows = connection.execute(sa.select(table.c.id, column).where(column.is_not(None))).all()
        for row_id, cell in rows:
            connection.execute(
                table.update()
                .where(table.c.id == row_id)
                .values({column.name: _without_flag(cell)})
            )
