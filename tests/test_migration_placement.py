"""Migration 0004 on a database that already holds companies and public listings: each company's
legal unit index comes from its sealed SIRET, and listings public before the upgrade are pinned at
the step they were shown at, so the first publication run never shows them finer."""

from __future__ import annotations

import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from core.db import make_engine
from core.migrate import upgrade
from core.models import utcnow
from marketplace.companies.service import legal_unit_index, siret_index
from privacy.vault import seal_json
from tests.factories import make_siret


def test_0004_fills_legal_units_from_sealed_sirets_and_pins_public_listings(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'before.db'}")
    upgrade(engine, "0003")
    siret = make_siret(4242)
    company_id = uuid.uuid4()
    sealed = seal_json({"legal_name": "Ancienne SA", "siret": siret}, aad=company_id.bytes)
    with engine.begin() as connection:
        companies = sa.Table("companies", sa.MetaData(), autoload_with=connection)
        connection.execute(
            companies.insert().values(
                id=company_id.hex,
                identity_ciphertext=sealed.ciphertext,
                wrapped_key=sealed.wrapped_key,
                kek_id=sealed.kek_id,
                siret_index=siret_index(siret),
                nace="23.51Z",
                size_class="medium",
                created_at=utcnow(),
            )
        )
        listings = sa.Table("listings", sa.MetaData(), autoload_with=connection)
        common = {
            "company_id": company_id.hex,
            "aggregated": False,
            "latitude": 51.0,
            "longitude": 2.3,
            "h3_cell": "891fa6d8a2bffff",
            "departement_code": "59",
            "quantity_per_year": 1200.0,
            "group_key": "10",
            "direction": "offer",
            "kind": "material",
            "created_at": utcnow(),
            "updated_at": utcnow(),
            "family": "mineraux",
            "hazardous": False,
            "region_code": "32",
            "regularity": "continuous",
            "months_mask": 0,
            "title": "Cendres",
            "description": "",
            "search_text": "cendres",
            "low_code": "100102",
        }
        shown = uuid.uuid4()
        brokered = uuid.uuid4()
        connection.execute(
            listings.insert(),
            [
                common
                | {
                    "id": shown.hex,
                    "status": "published",
                    "brokered_only": False,
                    "material_level": "code",
                    "material_key": "100102",
                    "location_level": "departement",
                    "location_key": "59",
                },
                common
                | {
                    "id": brokered.hex,
                    "status": "published",
                    "brokered_only": True,
                    "material_level": "chapter",
                    "material_key": "10",
                    "location_level": "region",
                    "location_key": "32",
                },
            ],
        )
    upgrade(engine)
    with Session(engine) as session:
        unit = session.execute(
            sa.text("SELECT legal_unit_index FROM companies WHERE id = :id"),
            {"id": company_id.hex},
        ).scalar_one()
        assert unit == legal_unit_index(siret) and unit != siret_index(siret)
        pins = dict(session.execute(sa.text("SELECT id, public_step FROM listings")).all())
        cells = session.execute(
            sa.text("SELECT public_cell FROM listings WHERE id = :id"), {"id": shown.hex}
        ).scalar_one()
    assert pins == {shown.hex: 1, brokered.hex: None}
    assert cells == "material|offer|code|100102|departement|59"
    engine.dispose()
