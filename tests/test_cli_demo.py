"""The `symbiose` command end to end on its own SQLite file: demo (idempotent, nothing readable in
the file), users create, import with a progress bar and a per-row report."""

from __future__ import annotations

import csv
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from marketplace.demo.loader import TERRITORY, USERS
from tests.factories import make_siret

ROOT = Path(__file__).resolve().parent.parent


def symbiose(database: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = os.environ | {
        "SYMBIOSE_DATABASE_URL": f"sqlite:///{database}",
        "SYMBIOSE_BROKER_URL": "",
        "SYMBIOSE_TASKS_SYNC": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("demo") / "demo.db"
    first = symbiose(database, "demo")
    assert first.returncode == 0, first.stderr
    assert "animateur@symbiose.demo" in first.stdout
    return database


def _count(database: Path, table: str) -> int:
    with sqlite3.connect(database) as connection:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def _states(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT state FROM introductions ORDER BY state").fetchall()
    return [str(row[0]) for row in rows]


def test_the_demo_territory_is_loaded_once(demo_database: Path) -> None:
    companies, flows = _count(demo_database, "companies"), _count(demo_database, "flows")
    states = _states(demo_database)
    assert companies >= 25 and flows >= 60
    assert _count(demo_database, "listings") > 0
    again = symbiose(demo_database, "demo")
    assert again.returncode == 0, again.stderr
    assert "already loaded" in again.stdout
    assert (_count(demo_database, "companies"), _count(demo_database, "flows")) == (
        companies,
        flows,
    )
    # Its introductions too: played once, the second run adds none and moves none.
    assert _states(demo_database) == states
    assert "demo introductions" not in again.stdout


def test_the_demo_shows_introductions_at_every_step(demo_database: Path) -> None:
    """A new user sees the whole path: one introduction in each state, one of them revealed,
    each made through the service (its audit entries and notices are there)."""
    assert _states(demo_database) == [
        "declined",
        "interest_expressed",
        "proposed",
        "revealed",
        "screening",
    ]
    with sqlite3.connect(demo_database) as connection:
        actions = {
            str(row[0])
            for row in connection.execute(
                "SELECT action FROM audit_entries WHERE action LIKE 'introduction.%'"
            )
        }
        revealed = connection.execute(
            "SELECT count(*) FROM introductions"
            " WHERE state = 'revealed' AND revealed_at IS NOT NULL"
        ).fetchone()[0]
    assert {
        "introduction.express",
        "introduction.screen",
        "introduction.propose",
        "introduction.accept",
        "introduction.reveal",
        "introduction.decline",
        "introduction.message",
    } <= actions
    assert revealed == 1
    # The proposals and the reveal each left a notice for the side that did not act.
    assert _count(demo_database, "outbox_messages") >= 4
    assert _count(demo_database, "introduction_messages") >= 2


def test_no_demo_identity_is_readable_in_the_database_file(demo_database: Path) -> None:
    with sqlite3.connect(demo_database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = b"".join(p.read_bytes() for p in demo_database.parent.glob("demo.db*"))
    with TERRITORY.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    for row in rows:
        assert row["company"].encode() not in raw, row["company"]
        assert row["siret"].encode() not in raw, row["siret"]
        assert row["siret"][:9].encode() not in raw


def test_demo_logins_work_through_the_api(demo_database: Path) -> None:
    with USERS.open(encoding="utf-8") as handle:
        users = list(csv.DictReader(handle))
    assert any(u["role"] == "facilitator" for u in users)
    assert sum(u["role"] == "company_admin" for u in users) >= 25


def test_users_create_and_import_with_progress_and_report(tmp_path: Path) -> None:
    database = tmp_path / "cli.db"
    assert symbiose(database, "db", "upgrade").returncode == 0
    created = symbiose(
        database,
        "users",
        "create",
        "anim@example.fr",
        "--role",
        "facilitator",
        "--password",
        "long-enough-password",
    )
    assert created.returncode == 0, created.stderr
    good = tmp_path / "good.csv"
    header = (
        "company,siret,nace,site,latitude,longitude,direction,kind,low_code,label,quantity,unit"
    )
    good.write_text(
        f"{header}\nCli Test SAS,{make_siret(777)},23.51Z,Usine,51.01,2.3,offer,material,10 01 02,"
        "Cendres,12,t\n",
        encoding="utf-8",
    )
    result = symbiose(database, "import", str(good))
    assert result.returncode == 0, result.stderr
    assert "status: done" in result.stdout and "'flows': 1" in result.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text(
        f"{header}\nCli Test SAS,{make_siret(777)},23.51Z,Usine,51.01,2.3,offer,material,99 99 99,"
        "Cendres,12,t\n",
        encoding="utf-8",
    )
    refused = symbiose(database, "import", str(bad))
    assert refused.returncode == 1
    assert "line 2: low_code" in refused.stdout
    assert _count(database, "flows") == 1
