"""The real application plus a bare endpoint, served by uvicorn for the catalogue throughput bench.

The bare endpoint returns a constant through the same stack (middleware, error handlers, a sync
handler in the thread pool, JSON encoding), so the ratio catalogue/bare isolates the search itself.
The cache-stats endpoint lets the bench count the response cache's hits and misses.
"""

from __future__ import annotations

from dataclasses import asdict

from api.app import create_app
from marketplace.catalogue import cache

app = create_app()


@app.get("/bench/constant")
def constant() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/bench/cache-stats")
def cache_stats() -> dict[str, int]:
    return asdict(cache.responses.stats())
