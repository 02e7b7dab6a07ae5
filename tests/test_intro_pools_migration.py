"""Migration 0010_intro_pools on a database holding introductions: SQLite rebuilds the
introductions table to let its owner be null, which it refuses while notices and messages point
to it; they must come through, and back through the downgrade."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from core.migrate import upgrade
from core.models import UTCDateTime
from tests.test_positions_migration import _downgrade, _insert, engine  # noqa: F401

BEFORE = "0009_introductions"
AFTER = "0010_intro_pools"


def _rows_of_0009(connection: sa.Connection) -> dict[str, uuid.UUID]:
    ids = {name: uuid.uuid4() for name in ("requester", "owner", "user", "intro", "notice", "said")}
    now = datetime.now(UTC)
    u, blob, at = sa.Uuid(), sa.LargeBinary(), UTCDateTime()
    for number, name in enumerate(("requester", "owner")):
        _insert(
            connection,
            "companies",
            {
                "id": ids[name],
                "identity_ciphertext": b"x",
                "wrapped_key": b"x",
                "kek_id": "k",
                "siret_index": f"siret-{number}",
                "legal_unit_index": f"unit-{number}",
                "nace": "23.51Z",
                "size_class": "small",
                "created_at": now,
            },
            id=u,
            identity_ciphertext=blob,
            wrapped_key=blob,
            created_at=at,
        )
    _insert(
        connection,
        "users",
        {
            "id": ids["user"],
            "email_sealed": b"x",
            "email_index": "e",
            "password_hash": "p",
            "role": "company_admin",
            "company_id": ids["requester"],
            "locale": "fr",
            "is_active": True,
            "created_at": now,
        },
        id=u,
        email_sealed=blob,
        company_id=u,
        created_at=at,
    )
    _insert(
        connection,
        "introductions",
        {
            "id": ids["intro"],
            "requester_company_id": ids["requester"],
            "owner_company_id": ids["owner"],
            "state": "proposed",
            "version": 2,
            "screening_note": b"x",
            "proposed_at": now,
            "expires_at": now + timedelta(days=15),
            "requester_left": False,
            "created_at": now,
            "updated_at": now,
        },
        id=u,
        requester_company_id=u,
        owner_company_id=u,
        screening_note=blob,
        proposed_at=at,
        expires_at=at,
        created_at=at,
        updated_at=at,
    )
    _insert(
        connection,
        "outbox_messages",
        {
            "id": ids["notice"],
            "kind": "introduction.proposed",
            "introduction_id": ids["intro"],
            "recipient_company_id": ids["owner"],
            "payload": {"introduction_id": str(ids["intro"])},
            "created_at": now,
            "attempts": 0,
        },
        id=u,
        introduction_id=u,
        recipient_company_id=u,
        payload=sa.JSON(),
        created_at=at,
    )
    _insert(
        connection,
        "introduction_messages",
        {
            "id": ids["said"],
            "introduction_id": ids["intro"],
            "author_side": "requester",
            "author_user_id": ids["user"],
            "body": b"x",
            "created_at": now,
        },
        id=u,
        introduction_id=u,
        author_user_id=u,
        body=blob,
        created_at=at,
    )
    return ids


def _kept(connection: sa.Connection, ids: dict[str, Any]) -> tuple[Any, ...]:
    def one(sql: str) -> Any:
        return connection.execute(sa.text(sql)).all()

    return (
        len(one("SELECT id FROM introductions")),
        len(one("SELECT id FROM outbox_messages")),
        len(one("SELECT id FROM introduction_messages")),
        one("SELECT state, version FROM introductions")[0],
    )


def test_introductions_notices_and_messages_come_through_0010_and_back(
    engine: sa.Engine,  # noqa: F811 - the scratch database fixture imported above
) -> None:
    upgrade(engine, BEFORE)
    with engine.begin() as connection:
        ids = _rows_of_0009(connection)
    upgrade(engine, AFTER)
    with engine.begin() as connection:
        assert _kept(connection, ids) == (1, 1, 1, ("proposed", 2))
        # The owner may now be null: an introduction to a pooled offer.
        columns = {c["name"]: c for c in sa.inspect(connection).get_columns("introductions")}
        assert columns["owner_company_id"]["nullable"] is True
        assert "data" in {c["name"] for c in sa.inspect(connection).get_columns("audit_entries")}
    _downgrade(engine, BEFORE)
    with engine.begin() as connection:
        assert _kept(connection, ids) == (1, 1, 1, ("proposed", 2))
        columns = {c["name"]: c for c in sa.inspect(connection).get_columns("introductions")}
        assert columns["owner_company_id"]["nullable"] is False
