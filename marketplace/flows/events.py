"""What the flows domain announces to the domains above it (core/events.py)."""

from __future__ import annotations

from core.events import Event

# A flow was edited or withdrawn, inside the transaction that changed it and with the flow row
# locked: its live listing must follow before the transaction commits.
FLOW_CHANGED = Event("flows.flow_changed", "flow: Flow (locked)")

# A flow was declared (one at a time: an import's flows are announced by the importer itself).
FLOW_CREATED = Event("flows.flow_created", "flow: Flow")
