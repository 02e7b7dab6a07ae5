"""Saved searches and alerts: a new or changed listing that fits notifies in app and by mail."""
