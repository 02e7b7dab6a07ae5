"""What the flows domain announces to the domains above it (core/events.py)."""

from __future__ import annotations

from core.events import Event

# A flow was edited or withdrawn, inside the transaction that changed it and with the flow row
# locked: its live listing must follow before the transaction commits.
FLOW_CHANGED = Event("flows.flow_changed", "flow: Flow (locked)")

# A flow was declared (one at a time: an import's flows are announced by the importer itself).
FLOW_CREATED = Event("flows.flow_created", "flow: Flow")

# Every key was re-wrapped and this domain's texts re-sealed under the current key-encryption key,
# inside the rotation's transaction: a domain above with sealed texts of its own re-seals them
# there too, so the old key can be retired once the rotation commits.
KEYS_ROTATED = Event("flows.keys_rotated", "(nothing: re-seal every sealed text)")
