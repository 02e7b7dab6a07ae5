"""Saved searches and alerts (placeholder hook until the alerts land)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlmodel import Session


def listings_changed(session: Session, listing_ids: Iterable[uuid.UUID]) -> None:
    """Called by the catalogue when listings are published or their public view changes."""
    return None
