"""Run the Alembic migrations programmatically (CLI `db upgrade`, tests, demo)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from core.settings import ROOT


def alembic_config() -> Config:
    return Config(str(ROOT / "alembic.ini"))


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("ANALYZE")
            # Not the shadow tables of FTS5 indexes: a just-created one holds two rows, and
            # statistics saying so make SQLite scan its whole data table on every later write
            # (writes then slow down as the index grows). Without statistics it seeks by key.
            connection.exec_driver_sql(
                "DELETE FROM sqlite_stat1 WHERE tbl IN (SELECT shadow.name FROM sqlite_schema "
                "AS shadow JOIN sqlite_schema AS fts ON shadow.name LIKE fts.name || '\\_%' "
                "ESCAPE '\\' WHERE fts.sql LIKE 'CREATE VIRTUAL TABLE%USING fts5%')"
            )
            connection.exec_driver_sql("ANALYZE sqlite_schema")
