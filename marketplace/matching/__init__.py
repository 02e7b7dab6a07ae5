"""Matching: the synergy engine (offer ↔ request pairs, explained), above the catalogue."""
