"""Database engine and the unit of work: one session per request or task, committed at the edge."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import Select
from sqlmodel import Session, create_engine

from core.settings import get_settings

AFTER_COMMIT_KEY = "symbiose_after_commit"
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
            # Reads through a memory map when configured (settings.sqlite_mmap_bytes): a page
            # already in the OS cache then costs no system call.
            cursor.execute(f"PRAGMA mmap_size={int(get_settings().sqlite_mmap_bytes)}")
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
    # SQLAlchemy fires this event for a savepoint's release too (an audit append is one): the
    # transaction is not committed then, and a task sent now would not find its rows.
    if session.in_nested_transaction():
        return
    callbacks = session.info.pop(AFTER_COMMIT_KEY, [])
    for callback in callbacks:
        callback()


@event.listens_for(Session, "after_rollback")
def _drop_after_commit(session: Session) -> None:
    # A savepoint rolled back (an audit append retried) leaves the transaction's work standing.
    if session.in_nested_transaction():
        return
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


# --- serialised state changes --------------------------------------------------------------------
#
# A state change is decided from a row as it stands: two requests that both read "draft" would
# both publish. So a change first locks the row and re-reads it, and decides on what it reads
# then; a concurrent change of the same row waits until this transaction ends, then reads the new
# state, and refuses (a 409 naming that state) if its transition is no longer legal. Rows that
# change together are locked in one fixed order so that two transactions never wait on each
# other: a flow, then its listing (catalogue/service.py explains the catalogue's whole order).

Row = TypeVar("Row")


def _take_sqlite_write_lock(connection: Connection) -> None:
    """SQLite locks the whole database, and the driver begins a transaction only at the first
    write: the reads a decision was made on came before it, from whatever was committed then.
    BEGIN IMMEDIATE takes the write lock before those reads (waiting for the writer that holds
    it, up to the busy timeout). A transaction already open has written, so it holds the lock."""
    if not connection.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def lock_for_update(session: Session, row: Row) -> Row:
    """Lock ``row`` until the transaction ends and re-read it: what the caller then reads is the
    last committed state, and no one else changes it meanwhile (SELECT ... FOR UPDATE on
    PostgreSQL, the database's write lock on SQLite). Call it before changing the row: changes
    not yet flushed are replaced by what is read."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        _take_sqlite_write_lock(connection)
    session.refresh(row, with_for_update=True)
    return row


def select_for_update(session: Session, query: Select[Any]) -> list[Any]:
    """The rows of ``query`` locked until the transaction ends and read afresh (rows another
    transaction changed meanwhile are read as it committed them, and left out if they no longer
    match). Give the query an ORDER BY: rows are locked in that order."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        _take_sqlite_write_lock(connection)
    locked = query.with_for_update().execution_options(populate_existing=True)
    return list(session.scalars(locked).all())


def request_session() -> Iterator[Session]:
    """The unit of work of one HTTP request: committed after the handler, before the response."""
    with unit_of_work() as session:
        yield session


def refresh_statistics(session: Session) -> None:
    """Let SQLite's planner see the tables' current shape (PostgreSQL's autovacuum does this):
    without statistics it picks the wrong partial index for catalogue searches."""
    if session.get_bind().dialect.name == "sqlite":
        session.exec(text("PRAGMA optimize"))  # type: ignore[call-overload]
