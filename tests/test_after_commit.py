"""Work sent after commit waits for the real commit: a savepoint released or rolled back inside
the transaction (an audit append takes one) neither sends it early nor drops it."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session

from core.db import after_commit


def test_a_savepoint_neither_sends_nor_drops_work_due_after_commit(
    migrated_database: sa.Engine,
) -> None:
    sent: list[str] = []
    with Session(migrated_database) as session:
        session.execute(sa.text("SELECT 1"))
        after_commit(session, lambda: sent.append("first"))
        with session.begin_nested():
            session.execute(sa.text("SELECT 2"))
        assert sent == []  # released, not committed
        try:
            with session.begin_nested():
                raise ValueError
        except ValueError:
            pass
        after_commit(session, lambda: sent.append("second"))
        session.commit()
    assert sent == ["first", "second"]


def test_a_rolled_back_transaction_sends_nothing(migrated_database: sa.Engine) -> None:
    sent: list[str] = []
    with Session(migrated_database) as session:
        session.execute(sa.text("SELECT 1"))
        after_commit(session, lambda: sent.append("x"))
        session.rollback()
        session.commit()
    assert sent == []
