"""Shared kernel: settings, database, background tasks, base errors, reference data."""
