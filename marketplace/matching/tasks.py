"""Matching in the background: after commit when flows change, and the whole territory in
chunks that several workers take in parallel."""

from __future__ import annotations

import uuid

from core.db import unit_of_work
from core.worker import celery_app, dispatch
from marketplace.matching import service


@celery_app.task(name="matching.match_flows", acks_late=True)
def match_flows_task(flow_ids: list[str]) -> int:
    """Idempotent: recomputing a flow's matches replaces them."""
    with unit_of_work() as session:
        return service.match_flows(session, [uuid.UUID(i) for i in flow_ids])


@celery_app.task(name="matching.recompute_territory", acks_late=True)
def recompute_territory() -> int:
    """Split every active offer into chunks, one task each: workers process them in parallel."""
    with unit_of_work() as session:
        chunks = service.offer_chunks(session)
    for chunk in chunks:
        dispatch(match_flows_task, [str(i) for i in chunk])
    return len(chunks)
