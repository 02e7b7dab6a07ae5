"""The migrations are the only way the schema is made: they must match the models exactly."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel


def _not_a_dialect_specific_index(name: str | None, type_: str, _parent: object) -> bool:
    # PostgreSQL's trigram index and SQLite's FTS5 word indexes (listings_fts, listings_fts_titles
    # and their shadow tables) exist in the migration only: SQLModel cannot declare them.
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith("listings_fts")
    return not (type_ == "index" and name.endswith("_trgm"))


def test_migrated_schema_matches_the_models(migrated_database: sa.Engine) -> None:
    with migrated_database.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_name": _not_a_dialect_specific_index}
        )
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_reference_data_is_loaded(migrated_database: sa.Engine) -> None:
    with migrated_database.connect() as connection:
        count = connection.execute(sa.text("SELECT count(*) FROM low_codes")).scalar_one()
        departements = connection.execute(sa.text("SELECT count(*) FROM departements")).scalar()
    assert count == 973 and departements == 101
