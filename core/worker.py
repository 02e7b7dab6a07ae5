"""The Celery app (created here only) and the dispatcher that enqueues tasks after commit.

With a broker (SYMBIOSE_BROKER_URL) tasks go to Celery workers, possibly on other machines.
Without one, they run in-process on a small thread pool so the demo needs no server; the test
suite can ask for synchronous execution (SYMBIOSE_TASKS_SYNC=1) to keep tests deterministic.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from celery import Celery
from celery.schedules import crontab
from sqlmodel import Session

from core.db import after_commit
from core.settings import get_settings

log = logging.getLogger(__name__)

_settings = get_settings()
celery_app = Celery(
    "symbiose",
    broker=_settings.broker_url or "memory://",
    backend=_settings.result_backend or None,
    include=[
        "marketplace.handlers",  # domain-event handlers (core/events.py)
        "marketplace.accounts.tasks",
        "marketplace.imports.tasks",
        "marketplace.alerts.tasks",
        "marketplace.catalogue.tasks",
        "marketplace.matching.tasks",
        "marketplace.introductions.tasks",
        "marketplace.exchanges.tasks",
        "marketplace.territory.tasks",
        "privacy.tasks",
    ],
)
celery_app.conf.update(
    # Periodic work, referred to by task name (core imports no domain package).
    beat_schedule={
        "expire-listings": {"task": "catalogue.expire_listings", "schedule": 3600.0},
        "resend-alert-emails": {"task": "alerts.resend_unsent", "schedule": 900.0},
        # Signs the audit chain's head, so entries other than identity reads (which sign at
        # once) are covered within this many seconds.
        # Pending introductions past their deadline expire; notices a crash left unsent go out.
        "expire-introductions": {"task": "introductions.expire_due", "schedule": 3600.0},
        "resend-introduction-notices": {"task": "introductions.resend_outbox", "schedule": 300.0},
        # Contracts past their end date expire; reminders (end in 30 days, deliveries overdue);
        # notices a crash left unsent go out.
        "expire-contracts": {"task": "exchanges.expire_due", "schedule": 3600.0},
        "remind-contracts": {"task": "exchanges.remind_due", "schedule": 86400.0},
        "resend-contract-notices": {"task": "exchanges.resend_notices", "schedule": 300.0},
        # The exchange figures of the year that closed, once it is due (daily: idempotent).
        "release-exchange-figures": {
            "task": "territory.release_figures",
            "schedule": crontab(minute=30, hour=2),
        },
        "checkpoint-audit-chain": {"task": "audit.checkpoint", "schedule": 600.0},
        # The catalogue's composition changes only here (catalogue/service.run_publication).
        "publish-catalogue": {
            "task": "catalogue.run_publication",
            "schedule": crontab(minute=0, hour=_settings.publication_hour_utc),
        },
    },
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
)

_pool: ThreadPoolExecutor | None = None


def _in_process_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="symbiose-task")
    return _pool


def dispatch(task: Any, *args: Any) -> None:
    """Send a task now: to the broker if there is one, else run it in-process."""
    if get_settings().broker_url:
        task.delay(*args)
    elif get_settings().tasks_sync:
        task.apply(args=args, throw=True)
    else:
        future = _in_process_pool().submit(task.apply, args=args, throw=True)
        future.add_done_callback(_log_failure)


def _log_failure(future: Any) -> None:
    exc = future.exception()
    if exc is not None:
        log.error("in-process task failed: %s", type(exc).__name__)


def enqueue(session: Session, task: Any, *args: Any) -> None:
    """Enqueue `task(*args)` once `session` commits; tasks take ids, never objects."""
    after_commit(session, lambda: dispatch(task, *args))
