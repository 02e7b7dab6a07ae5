"""Migration 0004_positions on a database holding data: positions sealed, cells coarsened, listing
points published, and back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import h3
import pytest
import sqlalchemy as sa
from alembic import command

from core.db import make_engine
from core.migrate import alembic_config, upgrade
from privacy.places import departement_point
from privacy.vault import Sealed, new_data_key, open_json

BEFORE, AFTER = "0003", "0004_positions"
DUNKERQUE = (51.0343, 2.3768)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'migration.db'}")
    yield engine
    engine.dispose()


def _downgrade(engine: sa.Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _rows_of_0003(engine: sa.Engine) -> uuid.UUID:
    """A company, its site (position in clear, resolution-9 cell), a flow and a listing that
    copied the exact position, as 0003 held them; the company's id."""
    company_id, site_id, flow_id, listing_id = (uuid.uuid4() for _ in range(4))
    kek_id, wrapped, _ = new_data_key(company_id.bytes)
    now = datetime.now(UTC).isoformat(sep=" ")
    cell9 = h3.latlng_to_cell(*DUNKERQUE, 9)
    with engine.begin() as connection:
        insert = connection.exec_driver_sql
        insert(
            "INSERT INTO companies VALUES (?, ?, ?, ?, ?, '23.51Z', 'small', ?)",
            (company_id.hex, b"x", wrapped, kek_id, "index", now),
        )
        insert(
            "INSERT INTO sites (id, company_id, name_ciphertext, name_index, latitude, longitude, "
            "commune, departement_code, region_code, h3_cell, created_at) "
            "VALUES (?, ?, ?, 'n', ?, ?, 'Dunkerque', '59', '32', ?, ?)",
            (site_id.hex, company_id.hex, b"x", *DUNKERQUE, cell9, now),
        )
        insert(
            "INSERT INTO flows (id, company_id, site_id, direction, kind, status, label, hazardous,"
            " quantity, unit, period, quantity_per_year, base_unit, regularity, months_mask, "
            "quality_spec, precision, description, created_at, updated_at) VALUES (?, ?, ?, "
            "'offer', 'heat', 'active', ?, 0, 1, 'MWh', 'year', 1, 'MWh', 'continuous', 0, ?, "
            "'estimated', ?, ?, ?)",
            (flow_id.hex, company_id.hex, site_id.hex, b"x", b"x", b"x", now, now),
        )
        insert(
            "INSERT INTO listings (id, flow_id, company_id, aggregated, latitude, longitude, "
            "h3_cell, departement_code, quantity_per_year, group_key, status, direction, kind, "
            "created_at, updated_at, brokered_only, material_level, material_key, family, "
            "hazardous, location_level, location_key, region_code, regularity, months_mask, "
            "title, description, search_text) VALUES (?, ?, ?, 0, ?, ?, ?, '59', 1, 'heat', "
            "'published', 'offer', 'heat', ?, ?, 0, 'family', 'heat', 'heat', 0, 'departement', "
            "'59', '32', 'continuous', 0, 't', '', '')",
            (listing_id.hex, flow_id.hex, company_id.hex, *DUNKERQUE, cell9, now, now),
        )
    return company_id


def test_the_migration_seals_positions_and_publishes_points(engine: sa.Engine) -> None:
    upgrade(engine, BEFORE)
    company_id = _rows_of_0003(engine)
    upgrade(engine, AFTER)
    with engine.connect() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("sites")}
        assert {"latitude", "longitude", "commune"}.isdisjoint(columns)
        site = connection.exec_driver_sql(
            "SELECT s.position_ciphertext, s.h3_cell, c.kek_id, c.wrapped_key FROM sites s "
            "JOIN companies c ON c.id = s.company_id"
        ).one()
        listing = connection.exec_driver_sql(
            "SELECT latitude, longitude, h3_cell FROM listings"
        ).one()
    sealed = Sealed(site.kek_id, bytes(site.wrapped_key), bytes(site.position_ciphertext))
    opened = open_json(sealed, aad=company_id.bytes)
    assert (opened["latitude"], opened["longitude"], opened["commune"]) == (*DUNKERQUE, "Dunkerque")
    assert site.h3_cell == h3.latlng_to_cell(*DUNKERQUE, 7)
    assert (listing.latitude, listing.longitude) == departement_point("59")
    assert listing.h3_cell == site.h3_cell

    _downgrade(engine, BEFORE)
    with engine.connect() as connection:
        back = connection.exec_driver_sql(
            "SELECT latitude, longitude, commune, h3_cell FROM sites"
        ).one()
    assert tuple(back) == (*DUNKERQUE, "Dunkerque", h3.latlng_to_cell(*DUNKERQUE, 9))
