"""What the companies domain announces to the domains above it (core/events.py)."""

from __future__ import annotations

from core.events import Event

# A site moved (its position changed), inside the transaction that moved it: what was computed
# from its position (the facilitator's matches of its flows) follows.
SITE_MOVED = Event("companies.site_moved", "site: Site")

# A company's sector (NACE) changed: how its flows are matched and published changes with it.
SECTOR_CHANGED = Event("companies.sector_changed", "company: Company")
