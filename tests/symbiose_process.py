"""The `symbiose` command as a user runs it: the venv's console script in a fresh process, on a
database of its own (a temporary SQLite file, or a PostgreSQL database next to the test one) that
`symbiose demo` migrated and filled."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
# The console script pip installed next to the interpreter running the tests.
SYMBIOSE = Path(sys.executable).parent / "symbiose"
FACILITATOR = ("animateur@symbiose.demo", "demo-animateur")


def process_env(database_url: str, **extra: str) -> dict[str, str]:
    return os.environ | {
        "SYMBIOSE_DATABASE_URL": database_url,
        "SYMBIOSE_BROKER_URL": "",
        "SYMBIOSE_TASKS_SYNC": "1",
        # The code under test, wherever the venv was installed from.
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def symbiose(
    database_url: str, *args: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SYMBIOSE), *args],
        cwd=ROOT,
        env=process_env(database_url, **env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@contextmanager
def postgresql_database(test_url: str, suffix: str) -> Iterator[str]:
    """A database beside the test one (the suite's own database stays untouched), empty: its
    schema is dropped and made again, as the suite does to its own. Kept from run to run rather
    than dropped, since DROP DATABASE makes the server checkpoint (seconds, on a busy server)."""
    url = make_url(test_url)
    name = f"{url.database}_{suffix}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        known = sa.text("SELECT 1 FROM pg_database WHERE datname = :name")
        if connection.execute(known, {"name": name}).first() is None:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    scratch = sa.create_engine(url.set(database=name), isolation_level="AUTOCOMMIT")
    with scratch.connect() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    scratch.dispose()
    yield url.set(database=name).render_as_string(hide_password=False)


def load_demo(database_url: str) -> None:
    loaded = symbiose(database_url, "demo")
    assert loaded.returncode == 0, loaded.stderr
    assert FACILITATOR[0] in loaded.stdout


def read_identities_over_http(database_url: str, **env: str) -> int:
    """The facilitator lists every company over the API, in a process of its own: one identity
    read per company, each audited. Returns the number of companies read."""
    script = textwrap.dedent(
        f"""
        from fastapi.testclient import TestClient
        from api.app import app

        with TestClient(app) as client:
            answer = client.post(
                "/api/v1/auth/token", json={{"email": {FACILITATOR[0]!r},
                                            "password": {FACILITATOR[1]!r}}}
            )
            assert answer.status_code == 200, answer.text
            headers = {{"Authorization": "Bearer " + answer.json()["access_token"]}}
            companies = client.get("/api/v1/companies", headers=headers)
            assert companies.status_code == 200, companies.text
            for company in companies.json()[:5]:
                again = client.get("/api/v1/companies/" + company["id"], headers=headers)
                assert again.status_code == 200, again.text
            print(len(companies.json()))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=process_env(database_url, **env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served_app(
    env: Mapping[str, str], output: IO[bytes] | int = subprocess.DEVNULL
) -> Iterator[str]:
    """`symbiose serve` as an operator runs it (uvicorn, its access log and proxy settings), on
    the database `env` names, migrated first; its output to `output`. Yields its base URL."""
    subprocess.run([str(SYMBIOSE), "db", "upgrade"], env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [str(SYMBIOSE), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)
