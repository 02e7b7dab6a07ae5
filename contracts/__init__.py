"""Contracts: agreements, regulatory status, rendering and signatures. Pure: no database, no
marketplace; it refers to marketplace rows by id only (the lifecycle is marketplace/exchanges)."""
