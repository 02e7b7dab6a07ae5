"""The real application plus a bare endpoint, served by uvicorn for the catalogue throughput bench.

The bare endpoint returns a constant through the same stack (middleware, error handlers, a sync
handler in the thread pool, JSON encoding), so the ratio catalogue/bare isolates the search itself.
"""

from __future__ import annotations

from api.app import create_app

app = create_app()


@app.get("/bench/constant")
def constant() -> dict[str, str]:
    return {"status": "ok"}
