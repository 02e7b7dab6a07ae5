"""Placement: k counts legal units; listings pinned at their step, ghosts, waiting listings

Revision ID: 0004_placement
Revises: 0003
Create Date: 2026-11-30 07:00:00

- companies.legal_unit_index: the blind index of the SIREN (the SIRET's first nine digits), which
  k-anonymity and dominance count instead of establishments. The SIRET is sealed, so existing
  rows are filled by opening each identity with the vault's keys from the settings (the same
  SYMBIOSE_VAULT_KEKS and SYMBIOSE_BLIND_INDEX_KEY the application runs with).
- listings.waiting, public_step, public_cell: where a listing stands between publication runs.
  Listings public today are pinned at the step their stored levels say, so the first run never
  shows them finer than they were.
- listing_ghosts: legal units that left a shown cell lately, still counted there for k.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

import core.models
from privacy.blind_index import blind_index
from privacy.vault import Sealed, open_json

revision = "0004_placement"
down_revision = "0003"
branch_labels = None
depends_on = None

# Written out rather than imported: a migration keeps the shape it had when it was written.
LEGAL_UNIT_PURPOSE = "legal-unit"  # companies.service.LEGAL_UNIT_PURPOSE
MATERIAL_LADDER = [
    ("code", "cell"),
    ("code", "departement"),
    ("code", "region"),
    ("subchapter", "region"),
    ("chapter", "region"),
]
KIND_LADDER = [("family", "cell"), ("family", "departement"), ("family", "region")]

companies = sa.table(
    "companies",
    sa.column("id", sa.Uuid()),
    sa.column("kek_id", sa.String()),
    sa.column("wrapped_key", sa.LargeBinary()),
    sa.column("identity_ciphertext", sa.LargeBinary()),
    sa.column("legal_unit_index", sa.String()),
)
listings = sa.table(
    "listings",
    sa.column("id", sa.Uuid()),
    sa.column("status", sa.String()),
    sa.column("aggregated", sa.Boolean()),
    sa.column("brokered_only", sa.Boolean()),
    sa.column("kind", sa.String()),
    sa.column("direction", sa.String()),
    sa.column("material_level", sa.String()),
    sa.column("material_key", sa.String()),
    sa.column("location_level", sa.String()),
    sa.column("location_key", sa.String()),
    sa.column("public_step", sa.Integer()),
    sa.column("public_cell", sa.String()),
)


def upgrade() -> None:
    op.add_column(
        "companies",
        sa.Column("legal_unit_index", sa.String(length=64), nullable=False, server_default=""),
    )
    op.create_index("ix_companies_legal_unit_index", "companies", ["legal_unit_index"])
    # add_column, not batch_alter_table: on SQLite a batch would rebuild listings and drop the
    # word-search triggers of migration 0002.
    op.add_column(
        "listings", sa.Column("waiting", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("listings", sa.Column("public_step", sa.Integer(), nullable=True))
    op.add_column("listings", sa.Column("public_cell", sa.String(length=128), nullable=True))
    op.create_table(
        "listing_ghosts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("listing_id", sa.Uuid(), nullable=False),
        sa.Column("legal_unit", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("region_code", sa.String(length=3), nullable=False),
        sa.Column("group_key", sa.String(length=16), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("cell", sa.String(length=128), nullable=False),
        sa.Column("left_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["listing_id"], ["listings.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_listing_ghosts_group",
        "listing_ghosts",
        ["kind", "direction", "region_code", "group_key"],
    )
    op.create_index("ix_listing_ghosts_listing_id", "listing_ghosts", ["listing_id"])
    _fill_legal_units()
    _pin_public_listings()


def _fill_legal_units() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            companies.c.id,
            companies.c.kek_id,
            companies.c.wrapped_key,
            companies.c.identity_ciphertext,
        )
    ).all()
    for company_id, kek_id, wrapped_key, ciphertext in rows:
        identity = open_json(
            Sealed(kek_id, wrapped_key, ciphertext), aad=uuid.UUID(str(company_id)).bytes
        )
        siren = str(identity["siret"])[:9]
        connection.execute(
            companies.update()
            .where(companies.c.id == company_id)
            .values(legal_unit_index=blind_index(LEGAL_UNIT_PURPOSE, siren))
        )


def _pin_public_listings() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            listings.c.id,
            listings.c.kind,
            listings.c.direction,
            listings.c.material_level,
            listings.c.material_key,
            listings.c.location_level,
            listings.c.location_key,
        ).where(
            listings.c.status == "published",
            listings.c.brokered_only == sa.false(),
            listings.c.aggregated == sa.false(),
        )
    ).all()
    for listing_id, kind, direction, material, material_key, location, location_key in rows:
        ladder = KIND_LADDER if material == "family" else MATERIAL_LADDER
        step = ladder.index((material, location))
        cell = "|".join((kind, direction, material, material_key, location, location_key))
        connection.execute(
            listings.update()
            .where(listings.c.id == listing_id)
            .values(public_step=step, public_cell=cell)
        )


def downgrade() -> None:
    op.drop_index("ix_listing_ghosts_listing_id", table_name="listing_ghosts")
    op.drop_index("ix_listing_ghosts_group", table_name="listing_ghosts")
    op.drop_table("listing_ghosts")
    op.drop_column("listings", "public_cell")
    op.drop_column("listings", "public_step")
    op.drop_column("listings", "waiting")
    op.drop_index("ix_companies_legal_unit_index", table_name="companies")
    op.drop_column("companies", "legal_unit_index")
