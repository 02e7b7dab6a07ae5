"""Background task of the audit chain: sign its head on a schedule (beat)."""

from __future__ import annotations

from core.db import unit_of_work
from core.worker import celery_app
from privacy import audit


@celery_app.task(name="audit.checkpoint", acks_late=True)
def checkpoint_chain() -> int | None:
    """The new checkpoint's number; None when the head was already signed (idempotent)."""
    with unit_of_work() as session:
        made = audit.checkpoint(session)
        return made.number if made else None
