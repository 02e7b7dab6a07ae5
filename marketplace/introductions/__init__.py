"""Brokered double-blind introductions: a requester's interest, the owner's answer, the reveal."""
