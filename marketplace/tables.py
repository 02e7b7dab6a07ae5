"""Imports every table module so SQLModel's metadata is complete (for Alembic and tests)."""

from __future__ import annotations


def import_all_tables() -> None:
    import core.reference.models  # noqa: F401
    import marketplace.accounts.models  # noqa: F401
    import marketplace.companies.models  # noqa: F401
    import marketplace.flows.models  # noqa: F401
    import marketplace.imports.models  # noqa: F401
