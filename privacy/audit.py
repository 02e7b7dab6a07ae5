"""Append to, checkpoint and verify the hash-chained audit log (ids and actions only, never
identities).

Each entry hashes the one before, so an entry edited in place breaks the next link. But whoever
can write the tables can also recompute every hash after an edit, or cut the chain's end: the
links alone prove nothing then. Checkpoints close that gap: a checkpoint signs, with an Ed25519
key kept outside the database (privacy/signing.py), the chain's head (its last entry's seq and
hash). One is written on a schedule (beat) and when a transaction that read identities commits,
inside that transaction, so an identity read is never left uncovered (and a page reading fifty
identities signs once, not fifty times). `verify` checks the links, every
checkpoint's signature and order, and that the chain still reaches each signed head with the
signed hash.

What stays undetectable from the database alone: rolling the whole log back to an earlier state
that was itself consistent (the chain cut right after a checkpoint, with every later checkpoint
removed). Comparing with the last checkpoint seen outside (printed by `symbiose audit verify`,
kept off-site) catches that too: a later verify must show at least that checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import event, func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, col, select

from core.models import utcnow
from privacy import signing
from privacy.models import AuditCheckpoint, AuditEntry

GENESIS = "0" * 64
# Actions a checkpoint must follow at once: these are the reads that cutting the log would hide.
CHECKPOINTED_ACTIONS = frozenset({"identity.read", "identity.reveal"})
_CHECKPOINT_LABEL = "symbiose-audit-checkpoint-v1"
# Session.info key: this transaction appended an entry that a checkpoint must cover.
_CHECKPOINT_DUE = "symbiose_audit_checkpoint_due"
_T = TypeVar("_T")


def _digest(entry: AuditEntry) -> str:
    parts = [
        str(entry.seq),
        entry.at.isoformat(),
        str(entry.actor_id or ""),
        entry.action,
        str(entry.subject_id or ""),
        entry.prev_hash,
    ]
    if entry.data:
        # Only when present: the entries written before `data` existed keep their hashes.
        parts.append(json.dumps(entry.data, sort_keys=True, separators=(",", ":")))
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


# SQLite: how often an append whose `seq` was taken meanwhile reads the chain's end again.
APPEND_ATTEMPTS = 5


def append(
    session: Session,
    action: str,
    *,
    actor_id: uuid.UUID | None,
    subject_id: uuid.UUID | None,
    data: dict[str, str] | None = None,
) -> AuditEntry:
    """Append one entry; concurrent appends take turns, so none fails a request.

    PostgreSQL: a transaction-scoped advisory lock is held from reading the chain's end until
    commit, so two transactions never link to the same entry. SQLite: the append takes the write
    lock before it reads; should a `seq` still be taken first (the primary key refuses it), the
    append reads the end again, inside a savepoint of its own."""
    entry = _in_turn(
        session, lambda: _append_after_last(session, action, actor_id, subject_id, data)
    )
    if action in CHECKPOINTED_ACTIONS:
        session.info[_CHECKPOINT_DUE] = True
    return entry


@event.listens_for(Session, "before_commit")
def _checkpoint_before_commit(session: Session) -> None:
    """The checkpoint commits with the reads it covers, or not at all: no window in which the
    reads are stored and unsigned."""
    if session.in_nested_transaction():
        return  # a savepoint released (the event fires for those too): not the commit yet
    if session.info.pop(_CHECKPOINT_DUE, False):
        checkpoint(session)


@event.listens_for(Session, "after_soft_rollback")
def _nothing_due_after_rollback(session: Session, previous: SessionTransaction) -> None:
    # A savepoint rolled back (an append retried) leaves the transaction's earlier reads due.
    if previous.parent is None:
        session.info.pop(_CHECKPOINT_DUE, None)


def _in_turn(session: Session, write: Callable[[], _T]) -> _T:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('symbiose.audit'))"))
    for attempt in range(1, APPEND_ATTEMPTS + 1):
        try:
            with session.begin_nested():
                if session.get_bind().dialect.name == "sqlite":
                    # A write first takes SQLite's write lock (waiting for another append's
                    # commit), so the reads that follow are not of a snapshot that another
                    # append could outdate before we write.
                    session.execute(sa.text("UPDATE audit_entries SET seq = seq WHERE 0"))
                return write()
        except IntegrityError:
            if attempt == APPEND_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _append_after_last(
    session: Session,
    action: str,
    actor_id: uuid.UUID | None,
    subject_id: uuid.UUID | None,
    data: dict[str, str] | None = None,
) -> AuditEntry:
    last = _last_entry(session)
    entry = AuditEntry(
        seq=(last.seq + 1) if last else 1,
        at=utcnow(),
        actor_id=actor_id,
        action=action,
        subject_id=subject_id,
        data=data or None,
        prev_hash=last.hash if last else GENESIS,
        hash="",
    )
    entry.hash = _digest(entry)
    session.add(entry)
    session.flush()
    return entry


def _last_entry(session: Session) -> AuditEntry | None:
    return session.exec(select(AuditEntry).order_by(col(AuditEntry.seq).desc()).limit(1)).first()


# --- checkpoints -------------------------------------------------------------------------------


def checkpoint(session: Session) -> AuditCheckpoint | None:
    """Sign the chain's current head; nothing when it is empty or its head is already signed
    (so the scheduled run is idempotent)."""
    return _in_turn(session, lambda: _checkpoint_head(session))


def _checkpoint_head(session: Session) -> AuditCheckpoint | None:
    head = _last_entry(session)
    last = session.exec(
        select(AuditCheckpoint).order_by(col(AuditCheckpoint.number).desc()).limit(1)
    ).first()
    if head is None or (last is not None and last.head_seq == head.seq):
        return None
    key = signing.signing_key()
    made = AuditCheckpoint(
        number=(last.number + 1) if last else 1,
        at=utcnow(),
        head_seq=head.seq,
        head_hash=head.hash,
        prev_digest=_checkpoint_digest(last) if last else GENESIS,
        key_id=signing.key_id(key.public_key()),
        signature="",
    )
    made.signature = key.sign(_signed_message(made)).hex()
    session.add(made)
    session.flush()
    return made


def _signed_message(made: AuditCheckpoint) -> bytes:
    parts = [
        _CHECKPOINT_LABEL,
        str(made.number),
        made.at.isoformat(),
        str(made.head_seq),
        made.head_hash,
        made.prev_digest,
        made.key_id,
    ]
    return "\x1f".join(parts).encode()


def _checkpoint_digest(made: AuditCheckpoint) -> str:
    return hashlib.sha256(_signed_message(made) + made.signature.encode()).hexdigest()


# --- verification ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    entries: int
    checkpoints: int
    first_broken: int | None = None  # seq of the first entry that does not check
    broken_checkpoint: int | None = None  # number of the first checkpoint that does not check
    reason: str = ""
    last_checkpoint: AuditCheckpoint | None = None

    @property
    def intact(self) -> bool:
        return self.first_broken is None and self.broken_checkpoint is None


def verify(session: Session, keys: dict[str, Ed25519PublicKey] | None = None) -> ChainReport:
    """Check links, checkpoints and their heads; the report names the first problem found.

    `keys` are the trusted public keys by key id (default: the settings' keys)."""
    keys = signing.trusted_keys() if keys is None else keys
    checkpoints = session.exec(select(AuditCheckpoint).order_by(col(AuditCheckpoint.number))).all()
    total = len(checkpoints)
    last_checkpoint = checkpoints[-1] if checkpoints else None
    problem = _first_bad_checkpoint(checkpoints, keys)
    if problem is not None:
        number, reason = problem
        return ChainReport(
            count(session),
            total,
            broken_checkpoint=number,
            reason=reason,
            last_checkpoint=last_checkpoint,
        )
    heads = {c.head_seq: c for c in checkpoints}
    covered_up_to = last_checkpoint.head_seq if last_checkpoint else 0
    signed_before = 0  # the head of the last checkpoint passed: entries up to it are as signed
    prev_hash, expected_seq, entries = GENESIS, 1, 0

    def broken(seq: int, reason: str, number: int | None = None) -> ChainReport:
        return ChainReport(entries, total, seq, number, reason, last_checkpoint)

    for entry in session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))):
        entries += 1
        if entry.seq != expected_seq:
            return broken(expected_seq, f"entry {expected_seq} is missing")
        if entry.prev_hash != prev_hash or _digest(entry) != entry.hash:
            return broken(entry.seq, f"entry {entry.seq} does not match its hash or link")
        signed = heads.get(entry.seq)
        if signed is not None:
            if signed.head_hash != entry.hash:
                return broken(
                    signed_before + 1,
                    f"entries {signed_before + 1} to {entry.seq} differ from what checkpoint "
                    f"{signed.number} signed",
                    signed.number,
                )
            signed_before = entry.seq
        if entry.action in CHECKPOINTED_ACTIONS and entry.seq > covered_up_to:
            return broken(
                entry.seq, f"entry {entry.seq} ({entry.action}) is covered by no checkpoint"
            )
        prev_hash, expected_seq = entry.hash, entry.seq + 1
    if covered_up_to >= expected_seq:
        assert last_checkpoint is not None
        return broken(
            expected_seq,
            f"entries from {expected_seq} are missing: checkpoint {last_checkpoint.number} "
            f"signed entry {covered_up_to}",
            last_checkpoint.number,
        )
    return ChainReport(entries, total, last_checkpoint=last_checkpoint)


def _first_bad_checkpoint(
    checkpoints: Sequence[AuditCheckpoint], keys: dict[str, Ed25519PublicKey]
) -> tuple[int, str] | None:
    prev_digest, prev_head = GENESIS, 0
    for number, made in enumerate(checkpoints, start=1):
        if made.number != number:
            return number, f"checkpoint {number} is missing"
        key = keys.get(made.key_id)
        if key is None:
            return number, f"checkpoint {number} is signed by an unknown key ({made.key_id})"
        try:
            signature = bytes.fromhex(made.signature)
        except ValueError:
            signature = b""
        if not signing.verifies(key, signature, _signed_message(made)):
            return number, f"checkpoint {number}: its signature does not verify"
        if made.prev_digest != prev_digest:
            return number, f"checkpoint {number} does not follow checkpoint {number - 1}"
        if made.head_seq < prev_head:
            return number, f"checkpoint {number} signs an older head than checkpoint {number - 1}"
        prev_digest, prev_head = _checkpoint_digest(made), made.head_seq
    return None


def count(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(AuditEntry)).one())
