"""What the catalogue announces to the domains above it (core/events.py)."""

from __future__ import annotations

from core.events import Event

# Listings became visible or their public card changed, inside the transaction that changed them:
# whoever watches the catalogue (saved-search alerts) schedules its work after commit.
LISTINGS_CHANGED = Event("catalogue.listings_changed", "listing_ids: Iterable[uuid.UUID]")
