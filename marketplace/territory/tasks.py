"""Territory statistics in the background: the yearly release of the exchange figures (beat)."""

from __future__ import annotations

from core.db import unit_of_work
from core.worker import celery_app
from marketplace.territory import service


@celery_app.task(name="territory.release_figures", acks_late=True)
def release_figures() -> str:
    """Beat: release the latest year that is due. Idempotent: a released year is left as it is,
    and a concurrent run's row wins the period's unique key."""
    with unit_of_work() as session:
        release, made = service.release_due(session)
    return f"{release.period} {'released' if made else 'already released'}"
