"""Background task of the territory import: run one job by id (idempotent, safe to redeliver)."""

from __future__ import annotations

import uuid

from core.worker import celery_app
from marketplace.imports import service


@celery_app.task(name="imports.run", acks_late=True)
def run_import(job_id: str) -> str:
    """Run the job and return its final status; a finished job is returned as it is."""
    job = service.run_job(uuid.UUID(job_id))
    return str(job.status)
