"""Contracts: agreements, regulatory status, rendering and signatures (built by a later issue)."""
