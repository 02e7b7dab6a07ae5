"""Test set-up: a migrated database (SQLite, or PostgreSQL when SYMBIOSE_TEST_DATABASE_URL is set),
emptied of everything but reference data after each test, and the app served by a TestClient.

Tests commit for real rather than roll back a wrapping transaction: after-commit hooks, background
tasks and the Celery worker must see what a request wrote, exactly as in production.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import make_url


def _commits_without_waiting_for_the_disk(url: str) -> str:
    """PostgreSQL sessions with synchronous_commit off: a commit returns before its WAL is on disk
    (~3.5 ms less each, and tests commit often). What it makes visible, and when, is unchanged;
    only a crash of the server could lose the last commits, and a test database keeps nothing.
    Written into the URL, so subprocesses, workers and the databases made beside it have it too."""
    parsed = make_url(url)
    options = f"{parsed.query.get('options', '')} --synchronous_commit=off".strip()
    return parsed.update_query_dict({"options": options}).render_as_string(hide_password=False)


_TMP = Path(tempfile.mkdtemp(prefix="symbiose-test-"))
if os.environ.get("SYMBIOSE_TEST_DATABASE_URL", "").startswith("postgresql"):
    os.environ["SYMBIOSE_TEST_DATABASE_URL"] = _commits_without_waiting_for_the_disk(
        os.environ["SYMBIOSE_TEST_DATABASE_URL"]
    )
TEST_DATABASE_URL = os.environ.get("SYMBIOSE_TEST_DATABASE_URL") or f"sqlite:///{_TMP / 'test.db'}"
TEST_BROKER_URL = os.environ.get("SYMBIOSE_TEST_BROKER_URL", "")
os.environ["SYMBIOSE_DATABASE_URL"] = TEST_DATABASE_URL
os.environ["SYMBIOSE_ENVIRONMENT"] = "test"
os.environ["SYMBIOSE_BROKER_URL"] = ""  # the Celery tests opt in explicitly (tests/test_worker.py)
os.environ.setdefault("SYMBIOSE_TASKS_SYNC", "1")
# The platform's certificate authority of the test run: its key in the run's own folder.
os.environ.setdefault("SYMBIOSE_CONTRACTS_CA_DIR", str(_TMP / "ca"))

import pytest  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlmodel import Session, SQLModel  # noqa: E402

import marketplace.handlers  # noqa: E402, F401 - domain-event handlers
from core import ratelimit  # noqa: E402
from core.db import get_engine  # noqa: E402
from core.migrate import upgrade  # noqa: E402
from marketplace.accounts.service import forget_token_reads  # noqa: E402
from marketplace.catalogue import cache  # noqa: E402
from marketplace.matching.service import forget_requests_sides  # noqa: E402
from marketplace.tables import import_all_tables  # noqa: E402

REFERENCE_TABLES = {
    "low_codes",
    "operations",
    "end_of_waste_acts",
    "regions",
    "departements",
    "sectors",
    "alembic_version",
}


def backend_name() -> str:
    return "postgresql" if TEST_DATABASE_URL.startswith("postgresql") else "sqlite"


def pytest_report_header(config: pytest.Config) -> list[str]:
    broker = TEST_BROKER_URL or "none (Celery worker tests skipped; tasks run in-process)"
    return [f"symbiose database backend: {backend_name()}", f"symbiose broker: {broker}"]


def _reset_schema(engine: sa.Engine) -> None:
    if backend_name() == "postgresql":
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))


@pytest.fixture(scope="session", autouse=True)
def migrated_database() -> Iterator[sa.Engine]:
    engine = get_engine()
    _reset_schema(engine)
    upgrade(engine)
    import_all_tables()
    yield engine
    engine.dispose()


def _data_tables() -> list[sa.Table]:
    return [t for t in reversed(SQLModel.metadata.sorted_tables) if t.name not in REFERENCE_TABLES]


def empty_database(engine: sa.Engine) -> None:
    """Delete every row but reference data, and what the process remembers of them."""
    # DELETE in dependency order, on PostgreSQL too: a test leaves a few rows, and TRUNCATE costs
    # ~60 ms whatever the rows (new files for every table), DELETE ~2 ms.
    with engine.begin() as connection:
        for table in _data_tables():
            connection.execute(table.delete())
    # The data went behind the process's back: what it remembers of it goes too.
    forget_token_reads()
    cache.responses.clear()
    forget_requests_sides()
    # Login failures and read budgets of one test must not refuse the next test's requests.
    ratelimit.reset()


@pytest.fixture(autouse=True)
def clean_database(migrated_database: sa.Engine) -> Iterator[None]:
    yield
    empty_database(migrated_database)


@pytest.fixture
def session(migrated_database: sa.Engine) -> Iterator[Session]:
    with Session(migrated_database, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def client() -> Iterator[TestClient]:
    from api.app import app

    with TestClient(app) as test_client:
        yield test_client
