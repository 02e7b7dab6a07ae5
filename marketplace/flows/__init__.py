"""Flows: what a site gives (offers) and needs (requests): materials, heat, water, gases."""
