"""User e-mails at rest (part of property 6): someone holding a copy of the database (the SQLite
file with its WAL, or a pg_dump) finds no user's e-mail address, yet logins and alert e-mails
still work through the blind index and the sealed address."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from core.db import make_engine
from core.migrate import upgrade
from core.models import utcnow
from marketplace.accounts.models import Role
from tests.conftest import TEST_DATABASE_URL, backend_name
from tests.factories import PASSWORD, create_tenant, create_user_row

EMAILS = ["admin@insectes-littoral.fr", "Yann.LeGall@Serres-Kervella.bzh"]


def _database_copy(engine: sa.Engine) -> bytes:
    """What a thief of the database gets: the file and its WAL, or the dump."""
    if backend_name() == "postgresql":
        url = sa.make_url(TEST_DATABASE_URL).set(drivername="postgresql")
        dump = subprocess.run(
            ["pg_dump", "--data-only", url.render_as_string(hide_password=False)],
            check=True,
            capture_output=True,
        )
        return dump.stdout
    path = Path(str(engine.url.database))
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def _leaks(copy: bytes, email: str) -> list[str]:
    # The address and its domain (the company's name); a local part such as "admin" is a word
    # the schema itself holds, so it is looked for only as part of the address.
    forms = {email.lower(), email.split("@")[1].lower()}
    text = copy.lower()
    found = [f for f in forms if f.encode() in text]
    found += [f for f in forms if f.encode("utf-16-le") in copy]
    return found


def test_a_copy_of_the_database_holds_no_user_email(
    client: TestClient, session: Session, migrated_database: sa.Engine
) -> None:
    tenant = create_tenant(session, "Insectes du Littoral SAS")
    for email in EMAILS:
        create_user_row(session, Role.MEMBER, tenant.company, email=email)
    staff = create_user_row(session, Role.FACILITATOR, email="animatrice.dupont@eit-littoral.org")
    copy = _database_copy(migrated_database)
    for email in [*EMAILS, staff.email]:
        assert _leaks(copy, email) == [], email
    # Logins still find them (blind index), whatever the case typed.
    for email in EMAILS:
        answer = client.post(
            "/api/v1/auth/token", json={"email": email.upper(), "password": PASSWORD}
        )
        assert answer.status_code == 200
        me = client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {answer.json()['access_token']}"}
        )
        assert me.json()["email"] == email.lower()  # unsealed for its owner


@pytest.mark.skipif(backend_name() != "sqlite", reason="a private SQLite file of its own")
def test_the_migration_seals_existing_emails(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    upgrade(engine, "0003")
    user_id = uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO users (id, email, password_hash, role, locale, is_active, created_at)"
                " VALUES (:id, :email, 'x', 'facilitator', 'fr', 1, :now)"
            ),
            {"id": user_id.hex, "email": "ancien.compte@exemple.fr", "now": utcnow()},
        )
    upgrade(engine)
    with engine.connect() as connection:
        row = connection.execute(sa.text("SELECT * FROM users")).mappings().one()
    engine.dispose()
    assert "email" not in row
    assert b"ancien.compte" not in (tmp_path / "old.db").read_bytes()
    from marketplace.accounts.service import email_index
    from privacy.vault import open_text

    assert row["email_index"] == email_index("Ancien.Compte@exemple.fr")
    assert open_text(bytes(row["email_sealed"])) == "ancien.compte@exemple.fr"
    assert os.path.exists(tmp_path / "old.db")
