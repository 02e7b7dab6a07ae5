"""Append to and verify the hash-chained audit log (ids and actions only, never identities)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.models import utcnow
from privacy.models import AuditEntry

GENESIS = "0" * 64


def _digest(entry: AuditEntry) -> str:
    parts = [
        str(entry.seq),
        entry.at.isoformat(),
        str(entry.actor_id or ""),
        entry.action,
        str(entry.subject_id or ""),
        entry.prev_hash,
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


# SQLite: how often an append whose `seq` was taken meanwhile reads the chain's end again.
APPEND_ATTEMPTS = 5


def append(
    session: Session, action: str, *, actor_id: uuid.UUID | None, subject_id: uuid.UUID | None
) -> AuditEntry:
    """Append one entry; concurrent appends take turns, so none fails a request.

    PostgreSQL: a transaction-scoped advisory lock is held from reading the chain's end until
    commit, so two transactions never link to the same entry. SQLite: the append takes the write
    lock before it reads; should a `seq` still be taken first (the primary key refuses it), the
    append reads the end again, inside a savepoint of its own."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('symbiose.audit'))"))
    for attempt in range(1, APPEND_ATTEMPTS + 1):
        try:
            with session.begin_nested():
                return _append_after_last(session, action, actor_id, subject_id)
        except IntegrityError:
            if attempt == APPEND_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _append_after_last(
    session: Session, action: str, actor_id: uuid.UUID | None, subject_id: uuid.UUID | None
) -> AuditEntry:
    if session.get_bind().dialect.name == "sqlite":
        # A write first takes SQLite's write lock (waiting for another append's commit), so the
        # read below is not of a snapshot that another append could outdate before we write.
        session.execute(sa.text("UPDATE audit_entries SET seq = seq WHERE 0"))
    last = session.exec(select(AuditEntry).order_by(col(AuditEntry.seq).desc()).limit(1)).first()
    entry = AuditEntry(
        seq=(last.seq + 1) if last else 1,
        at=utcnow(),
        actor_id=actor_id,
        action=action,
        subject_id=subject_id,
        prev_hash=last.hash if last else GENESIS,
        hash="",
    )
    entry.hash = _digest(entry)
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainReport:
    entries: int
    first_broken: int | None  # seq of the first entry whose link or content does not check


def verify(session: Session) -> ChainReport:
    prev_hash, expected_seq, count = GENESIS, 1, 0
    for entry in session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))):
        count += 1
        if (
            entry.seq != expected_seq
            or entry.prev_hash != prev_hash
            or _digest(entry) != entry.hash
        ):
            return ChainReport(entries=count, first_broken=entry.seq)
        prev_hash, expected_seq = entry.hash, entry.seq + 1
    return ChainReport(entries=count, first_broken=None)


def count(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(AuditEntry)).one())
