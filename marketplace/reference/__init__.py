"""Queries over the reference tables (List of Waste search, operations)."""
