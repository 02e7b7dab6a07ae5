"""Append to and verify the hash-chained audit log (ids and actions only, never identities)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from sqlalchemy import func
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


def append(
    session: Session, action: str, *, actor_id: uuid.UUID | None, subject_id: uuid.UUID | None
) -> AuditEntry:
    """Append one entry. Two concurrent appends collide on `seq` (primary key): one retries."""
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
