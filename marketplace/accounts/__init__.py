"""Accounts: users, roles, web sessions and API tokens."""
