"""Catalogue background tasks: expiring listings past their date (hourly) and the publication run
that re-composes the catalogue (daily), both scheduled by beat."""

from __future__ import annotations

from core.db import refresh_statistics, unit_of_work
from core.worker import celery_app
from marketplace.catalogue.service import expire_due, run_publication


@celery_app.task(name="catalogue.expire_listings", acks_late=True)
def expire_listings() -> int:
    """Idempotent: a listing already expired is not touched again."""
    with unit_of_work() as session:
        expired = expire_due(session)
        refresh_statistics(session)
        return expired


@celery_app.task(name="catalogue.run_publication", acks_late=True)
def publish_catalogue() -> int:
    """Idempotent: a second run right after the first finds nothing to change."""
    with unit_of_work() as session:
        changed = run_publication(session)
        refresh_statistics(session)
        return len(changed)
