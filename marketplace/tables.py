"""Imports every table module so SQLModel's metadata is complete (for Alembic and tests)."""

from __future__ import annotations

import importlib

TABLE_MODULES = (
    "core.reference.models",
    "privacy.models",
    "marketplace.accounts.models",
    "marketplace.companies.models",
    "marketplace.flows.models",
    "marketplace.imports.models",
    "marketplace.catalogue.models",
    "marketplace.alerts.models",
    "marketplace.matching.models",
    "marketplace.introductions.models",
    "marketplace.exchanges.models",
    "marketplace.territory.models",
)


def import_all_tables() -> None:
    for name in TABLE_MODULES:
        importlib.import_module(name)
