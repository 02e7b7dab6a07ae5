"""Loads every module that registers a domain-event handler (core/events.py).

A lower domain emits an event without importing the domain that handles it, so something must
import the handlers before the first event: every entry point imports this module (the app
factory, the command line, the Celery worker through its `include` list, the test suite).
Forgetting it is loud: `core.events.emit` raises `UnhandledEvent`. A new domain that handles an
event adds its module here.
"""

from __future__ import annotations

import marketplace.alerts.service
import marketplace.catalogue.service
import marketplace.exchanges.service  # handles flows.KEYS_ROTATED
import marketplace.flows.service  # handles companies.SECTOR_CHANGED
import marketplace.introductions.service  # handles flows.KEYS_ROTATED
import marketplace.matching.service  # noqa: F401 - handles flows.FLOW_CREATED, FLOW_CHANGED and companies.SITE_MOVED
