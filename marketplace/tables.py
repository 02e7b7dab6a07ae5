"""Imports every table module so SQLModel's metadata is complete (for Alembic and tests)."""

from __future__ import annotations


def import_all_tables() -> None:
    import core.reference.models  # noqa: F401
    import marketplace.accounts.models
    import marketplace.companies.models
    import marketplace.flows.models
    import marketplace.imports.models  # noqa: F401
    import privacy.models  # noqa: F401
