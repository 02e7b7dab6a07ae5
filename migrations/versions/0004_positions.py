"""Positions: sites' exact positions and communes sealed, resolution-7 cells, published points

Revision ID: 0004_positions
Revises: 0004_placement
Create Date: 2026-11-30 07:00:00

A copy of the database gave every site's exact position and commune, and listings copied the
position. Now:
- each site's latitude, longitude and commune are sealed with its company's data key
  (position_ciphertext); in clear stay the département, the région and the H3 cell at resolution
  7 (was 9), what generalisation, pools and search need;
- each listing's latitude and longitude hold its published location's point (the centre of its
  resolution-6 cell, or the fixed point of its département or région), what distance bands are
  measured to, and its cell is the resolution-7 one;
- site_moves counts moves against the daily move limits.

The rows are converted with the application's vault and reference points (privacy.vault,
privacy.places): sealing needs the settings' key-encryption keys, so run it with the production
SYMBIOSE_VAULT_KEKS. The downgrade opens the positions again; listings keep their published points.
"""

from __future__ import annotations

import uuid

import h3
import sqlalchemy as sa
from alembic import op

from core.models import UTCDateTime
from privacy.places import published_point
from privacy.vault import Sealed, open_json, seal_json

revision = "0004_positions"
down_revision = "0004_placement"
branch_labels = None
depends_on = None

# The cell resolutions before and after, written out: a migration keeps the shape it had.
OLD_RESOLUTION = 9
NEW_RESOLUTION = 7

companies = sa.table(
    "companies",
    sa.column("id", sa.Uuid()),
    sa.column("kek_id", sa.String()),
    sa.column("wrapped_key", sa.LargeBinary()),
)
sites = sa.table(
    "sites",
    sa.column("id", sa.Uuid()),
    sa.column("company_id", sa.Uuid()),
    sa.column("latitude", sa.Float()),
    sa.column("longitude", sa.Float()),
    sa.column("commune", sa.String()),
    sa.column("h3_cell", sa.String()),
    sa.column("position_ciphertext", sa.LargeBinary()),
)
listings = sa.table(
    "listings",
    sa.column("id", sa.Uuid()),
    sa.column("h3_cell", sa.String()),
    sa.column("location_level", sa.String()),
    sa.column("location_key", sa.String()),
    sa.column("region_code", sa.String()),
    sa.column("latitude", sa.Float()),
    sa.column("longitude", sa.Float()),
)


def _seal_sites(connection: sa.Connection) -> None:
    rows = connection.execute(
        sa.select(
            sites.c.id,
            sites.c.company_id,
            sites.c.latitude,
            sites.c.longitude,
            sites.c.commune,
            companies.c.kek_id,
            companies.c.wrapped_key,
        ).join(companies, companies.c.id == sites.c.company_id)
    ).all()
    for row in rows:
        company_id: uuid.UUID = row.company_id
        payload = {
            "latitude": float(row.latitude),
            "longitude": float(row.longitude),
            "commune": row.commune or "",
        }
        sealed = seal_json(
            payload,
            aad=company_id.bytes,
            sealed=Sealed(str(row.kek_id), bytes(row.wrapped_key), b""),
        )
        connection.execute(
            sites.update()
            .where(sites.c.id == row.id)
            .values(
                position_ciphertext=sealed.ciphertext,
                h3_cell=h3.latlng_to_cell(row.latitude, row.longitude, NEW_RESOLUTION),
            )
        )


def _coarser(cell: str) -> str:
    if h3.is_valid_cell(cell) and h3.get_resolution(cell) > NEW_RESOLUTION:
        return str(h3.cell_to_parent(cell, NEW_RESOLUTION))
    return cell


def _point(level: str, key: str, region: str) -> tuple[float, float]:
    try:
        return published_point(level, key or region)
    except (ValueError, KeyError):  # a draft never placed: its région, as the service does
        return published_point("region", region)


def _place_listings(connection: sa.Connection) -> None:
    rows = connection.execute(
        sa.select(
            listings.c.id,
            listings.c.h3_cell,
            listings.c.location_level,
            listings.c.location_key,
            listings.c.region_code,
        )
    ).all()
    for row in rows:
        latitude, longitude = _point(row.location_level, row.location_key, row.region_code)
        connection.execute(
            listings.update()
            .where(listings.c.id == row.id)
            .values(h3_cell=_coarser(row.h3_cell), latitude=latitude, longitude=longitude)
        )


# Flows reference sites, and SQLite cannot turn its foreign keys off inside the migration's
# transaction: a batch operation, which copies the table and drops the old one, fails there as
# soon as a flow exists. SQLite (3.35 and later) adds and drops these columns in place instead; a
# NOT NULL column added in place needs a default, which the filled rows never use.
_SQLITE_DEFAULTS = {
    "position_ciphertext": "x''",
    "latitude": "0",
    "longitude": "0",
    "commune": "''",
}


def _add_columns(columns: list[sa.Column[object]]) -> None:
    if op.get_bind().dialect.name == "sqlite":
        for column in columns:
            kind = column.type.compile(dialect=op.get_bind().dialect)
            default = _SQLITE_DEFAULTS[column.name]
            op.execute(
                f"ALTER TABLE sites ADD COLUMN {column.name} {kind} NOT NULL DEFAULT {default}"
            )
        return
    for column in columns:
        op.add_column("sites", sa.Column(column.name, column.type, nullable=True))


def _require(names: list[str]) -> None:
    """NOT NULL, once the rows are filled (SQLite's columns were added so)."""
    if op.get_bind().dialect.name != "sqlite":
        for name in names:
            op.alter_column("sites", name, nullable=False)


def _drop_columns(names: list[str]) -> None:
    for name in names:
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE sites DROP COLUMN {name}")
        else:
            op.drop_column("sites", name)


def upgrade() -> None:
    connection = op.get_bind()
    op.create_table(
        "site_moves",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("moved_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"]),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("site_moves", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_site_moves_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_site_moves_moved_at"), ["moved_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_site_moves_site_id"), ["site_id"], unique=False)

    _add_columns([sa.Column("position_ciphertext", sa.LargeBinary(), nullable=False)])
    _seal_sites(connection)
    _place_listings(connection)
    _require(["position_ciphertext"])
    _drop_columns(["latitude", "longitude", "commune"])


def _open_sites(connection: sa.Connection) -> None:
    rows = connection.execute(
        sa.select(
            sites.c.id,
            sites.c.company_id,
            sites.c.position_ciphertext,
            companies.c.kek_id,
            companies.c.wrapped_key,
        ).join(companies, companies.c.id == sites.c.company_id)
    ).all()
    for row in rows:
        sealed = Sealed(str(row.kek_id), bytes(row.wrapped_key), bytes(row.position_ciphertext))
        values = open_json(sealed, aad=row.company_id.bytes)
        latitude, longitude = float(values["latitude"]), float(values["longitude"])
        connection.execute(
            sites.update()
            .where(sites.c.id == row.id)
            .values(
                latitude=latitude,
                longitude=longitude,
                commune=values["commune"],
                h3_cell=h3.latlng_to_cell(latitude, longitude, OLD_RESOLUTION),
            )
        )


def downgrade() -> None:
    connection = op.get_bind()
    _add_columns(
        [
            sa.Column("latitude", sa.Float(), nullable=False),
            sa.Column("longitude", sa.Float(), nullable=False),
            sa.Column("commune", sa.String(length=120), nullable=False),
        ]
    )
    _open_sites(connection)
    _require(["latitude", "longitude", "commune"])
    _drop_columns(["position_ciphertext"])
    with op.batch_alter_table("site_moves", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_moves_site_id"))
        batch_op.drop_index(batch_op.f("ix_site_moves_moved_at"))
        batch_op.drop_index(batch_op.f("ix_site_moves_company_id"))
    op.drop_table("site_moves")
