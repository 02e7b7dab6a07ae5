"""Migration 0004_positions on a database holding data: positions sealed, cells coarsened, listing
points published, and back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import h3
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from core.db import make_engine
from core.migrate import alembic_config, upgrade
from core.models import UTCDateTime
from privacy.places import departement_point
from privacy.vault import Sealed, new_data_key, open_json, seal_json
from tests.conftest import TEST_DATABASE_URL, backend_name
from tests.symbiose_process import postgresql_database

AFTER = "0004_positions"
# The revision it follows (the head when it was merged), and the one of 0003's shape of sites.
BEFORE = str(ScriptDirectory.from_config(alembic_config()).get_revision(AFTER).down_revision)
DUNKERQUE = (51.0343, 2.3768)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    """A scratch database of the suite's backend, migrated by the test itself."""
    if backend_name() != "postgresql":
        engine = make_engine(f"sqlite:///{tmp_path / 'migration.db'}")
        yield engine
        engine.dispose()
        return
    with postgresql_database(TEST_DATABASE_URL, "migration") as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def _downgrade(engine: sa.Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _insert(
    connection: sa.Connection,
    name: str,
    values: dict[str, object],
    **types: sa.types.TypeEngine[Any],
) -> None:
    """One row, with the types that differ by backend (UUIDs, bytes, timestamps) given."""
    table = sa.table(name, *(sa.column(column, types.get(column)) for column in values))
    connection.execute(table.insert().values(values))


def _rows_of_0003(engine: sa.Engine) -> uuid.UUID:
    """A company, its site (position in clear, resolution-9 cell), a flow and a listing that
    copied the exact position, as 0003 shaped them; the company's id."""
    company_id, site_id, flow_id, listing_id = (uuid.uuid4() for _ in range(4))
    kek_id, wrapped, _ = new_data_key(company_id.bytes)
    identity = {"legal_name": "Usine Test", "siret": "35493264200011"}
    sealed = seal_json(identity, aad=company_id.bytes, sealed=Sealed(kek_id, wrapped, b""))
    now = datetime.now(UTC)
    cell9 = h3.latlng_to_cell(*DUNKERQUE, 9)
    ids, blob, at = sa.Uuid(), sa.LargeBinary(), UTCDateTime()
    rows: list[tuple[str, dict[str, sa.types.TypeEngine[Any]], dict[str, object]]] = [
        (
            "companies",
            {"id": ids, "identity_ciphertext": blob, "wrapped_key": blob, "created_at": at},
            {
                "id": company_id,
                "identity_ciphertext": sealed.ciphertext,
                "wrapped_key": wrapped,
                "kek_id": kek_id,
                "siret_index": "index",
                "nace": "23.51Z",
                "size_class": "small",
                "created_at": now,
            },
        ),
        (
            "sites",
            {"id": ids, "company_id": ids, "name_ciphertext": blob, "created_at": at},
            {
                "id": site_id,
                "company_id": company_id,
                "name_ciphertext": b"x",
                "name_index": "n",
                "latitude": DUNKERQUE[0],
                "longitude": DUNKERQUE[1],
                "commune": "Dunkerque",
                "departement_code": "59",
                "region_code": "32",
                "h3_cell": cell9,
                "created_at": now,
            },
        ),
        (
            "flows",
            {
                "id": ids,
                "company_id": ids,
                "site_id": ids,
                "label": blob,
                "quality_spec": blob,
                "description": blob,
                "created_at": at,
                "updated_at": at,
            },
            {
                "id": flow_id,
                "company_id": company_id,
                "site_id": site_id,
                "direction": "offer",
                "kind": "heat",
                "status": "active",
                "label": b"x",
                "hazardous": False,
                "quantity": 1.0,
                "unit": "MWh",
                "period": "year",
                "quantity_per_year": 1.0,
                "base_unit": "MWh",
                "regularity": "continuous",
                "months_mask": 0,
                "quality_spec": b"x",
                "precision": "estimated",
                "description": b"x",
                "created_at": now,
                "updated_at": now,
            },
        ),
        (
            "listings",
            {"id": ids, "flow_id": ids, "company_id": ids, "created_at": at, "updated_at": at},
            {
                "id": listing_id,
                "flow_id": flow_id,
                "company_id": company_id,
                "aggregated": False,
                "latitude": DUNKERQUE[0],
                "longitude": DUNKERQUE[1],
                "h3_cell": cell9,
                "departement_code": "59",
                "quantity_per_year": 1.0,
                "group_key": "heat",
                "status": "published",
                "direction": "offer",
                "kind": "heat",
                "created_at": now,
                "updated_at": now,
                "brokered_only": False,
                "material_level": "family",
                "material_key": "heat",
                "family": "heat",
                "hazardous": False,
                "location_level": "departement",
                "location_key": "59",
                "region_code": "32",
                "regularity": "continuous",
                "months_mask": 0,
                "title": "t",
                "description": "",
                "search_text": "",
            },
        ),
    ]
    with engine.begin() as connection:
        for name, types, values in rows:
            _insert(connection, name, values, **types)
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
        back = connection.execute(
            sa.text("SELECT latitude, longitude, commune, h3_cell FROM sites")
        ).one()
    assert tuple(back) == (*DUNKERQUE, "Dunkerque", h3.latlng_to_cell(*DUNKERQUE, 9))
