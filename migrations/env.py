"""Alembic environment: migrates the database named by SYMBIOSE_DATABASE_URL (or the config's)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from core.db import make_engine
from core.settings import get_settings
from marketplace.tables import import_all_tables

import_all_tables()
target_metadata = SQLModel.metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.config.get_main_option("sqlalchemy.url") or get_settings().database_url
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
