"""Database engine and the unit of work: one session per request or task, committed at the edge."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from core.settings import get_settings

AFTER_COMMIT_KEY = "symbiose_after_commit"
# Address space, not memory: pages are shared with the OS cache (and between connections).
SQLITE_MMAP_BYTES = 1 << 30
# Each connection's own page cache (SQLite's default is 2 MiB).
SQLITE_CACHE_KIB = 32 * 1024


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            # WAL lets readers (progress polling, pages) go on while an import writes.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # Reads through a memory map: a page already in the OS cache costs no system call,
            # and system calls are what a search reading thousands of rows spends most on.
            cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
            cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().database_url)


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's transaction has committed (never if it rolls back).

    Background tasks are enqueued this way, so a worker never sees ids that were not committed.
    """
    session.info.setdefault(AFTER_COMMIT_KEY, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    callbacks = session.info.pop(AFTER_COMMIT_KEY, [])
    for callback in callbacks:
        callback()


@event.listens_for(Session, "after_rollback")
def _drop_after_commit(session: Session) -> None:
    session.info.pop(AFTER_COMMIT_KEY, None)


@contextmanager
def unit_of_work(engine: Engine | None = None) -> Iterator[Session]:
    """A session committed when the block ends normally and rolled back otherwise."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def request_session() -> Iterator[Session]:
    """The unit of work of one HTTP request: committed after the handler, before the response."""
    with unit_of_work() as session:
        yield session


def refresh_statistics(session: Session) -> None:
    """Let SQLite's planner see the tables' current shape (PostgreSQL's autovacuum does this):
    without statistics it picks the wrong partial index for catalogue searches."""
    if session.get_bind().dialect.name == "sqlite":
        session.exec(text("PRAGMA optimize"))  # type: ignore[call-overload]
