"""Every command of `symbiose --help`, run as a user runs it: the installed console script in a
fresh process, on a database that `symbiose demo` migrated and filled (SQLite, and PostgreSQL
when SYMBIOSE_TEST_DATABASE_URL is set). An import missing from one command's path (keys rotate
once failed on `flows.low_code` → `low_codes`) fails here, whatever the suite imported."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from core.settings import DEV_VAULT_KEK
from tests.factories import make_siret
from tests.symbiose_process import (
    FACILITATOR,
    ROOT,
    SYMBIOSE,
    load_demo,
    postgresql_database,
    process_env,
    read_identities_over_http,
    sqlite_url,
    symbiose,
)

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("SYMBIOSE_TEST_DATABASE_URL") else [])
COMMANDS = ("demo", "serve", "worker", "db", "users", "import", "keys", "audit", "figures")


@pytest.fixture(scope="module", params=BACKENDS)
def demo_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    if request.param == "postgresql":
        with postgresql_database(os.environ["SYMBIOSE_TEST_DATABASE_URL"], "cli") as url:
            load_demo(url)
            yield url
    else:
        url = sqlite_url(tmp_path_factory.mktemp("cli") / "demo.db")
        load_demo(url)
        yield url


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_help_lists_every_command(demo_url: str) -> None:
    shown = _ok(symbiose(demo_url, "--help"))
    for command in COMMANDS:
        assert command in shown
    # Each group's subcommands are run below; `audit` is the group that grew.
    listed = _ok(symbiose(demo_url, "audit", "--help"))
    assert all(name in listed for name in ("verify", "checkpoint", "public-key")), listed


def test_demo_again_and_db_upgrade_change_nothing(demo_url: str) -> None:
    assert "already loaded" in _ok(symbiose(demo_url, "demo"))
    assert "database is up to date" in _ok(symbiose(demo_url, "db", "upgrade"))


def test_users_create_for_a_demo_company_then_refuses_a_bad_siret(demo_url: str) -> None:
    created = symbiose(
        demo_url,
        "users",
        "create",
        "nouveau@centrale-thermique.demo",
        "--role",
        "member",
        "--siret",
        "35493264200011",
        "--password",
        "long-enough-password",
    )
    assert "created" in _ok(created)
    # The password prompt, as a user answers it (twice: it asks for confirmation).
    prompted = symbiose(
        demo_url,
        "users",
        "create",
        "invite@symbiose.demo",
        "--role",
        "facilitator",
        stdin="long-enough-password\nlong-enough-password\n",
    )
    assert "created" in _ok(prompted)
    refused = symbiose(
        demo_url, "users", "create", "x@example.fr", "--siret", "123", "--password", "p" * 12
    )
    assert refused.returncode == 2
    assert "error (siret)" in refused.stderr


def test_import_onto_the_demo_territory(demo_url: str, tmp_path: Path) -> None:
    header = (
        "company,siret,nace,site,latitude,longitude,direction,kind,low_code,label,quantity,unit"
    )
    good = tmp_path / "good.csv"
    good.write_text(
        f"{header}\nCli Import SAS,{make_siret(4242)},23.51Z,Usine,50.95,2.2,offer,material,"
        "10 01 02,Cendres,12,t\n",
        encoding="utf-8",
    )
    imported = _ok(symbiose(demo_url, "import", str(good), "--as", FACILITATOR[0]))
    assert "status: done" in imported and "'flows': 1" in imported
    bad = tmp_path / "bad.csv"
    bad.write_text(good.read_text().replace("10 01 02", "99 99 99"), encoding="utf-8")
    refused = symbiose(demo_url, "import", str(bad))
    assert refused.returncode == 1
    assert "line 2: low_code" in refused.stdout
    # A file in an encoding that cannot be told (Shift-JIS) is refused, not read garbled; it
    # imports once its encoding is given.
    japanese = tmp_path / "japanese.csv"
    text = good.read_text().replace("Cli Import SAS", "株式会社名古屋").replace("Cendres", "スラグ")
    japanese.write_text(text, encoding="shift_jis")
    unsure = symbiose(demo_url, "import", str(japanese))
    assert unsure.returncode == 2
    assert "could not be determined" in unsure.stderr and "UTF-8" in unsure.stderr
    told = _ok(symbiose(demo_url, "import", str(japanese), "--encoding", "shift_jis"))
    assert "status: done" in told and "'flows': 1" in told


def test_keys_rotate_to_a_new_kek_and_back(demo_url: str) -> None:
    new = base64.b64encode(os.urandom(32)).decode()
    rotated = _ok(
        symbiose(demo_url, "keys", "rotate", SYMBIOSE_VAULT_KEKS=f"new:{new},dev1:{DEV_VAULT_KEK}")
    )
    assert "re-wrapped" in rotated and "re-wrapped 0 company" not in rotated
    # Only the new KEK is needed now: the identities open over the API with it alone.
    assert read_identities_over_http(demo_url, SYMBIOSE_VAULT_KEKS=f"new:{new}") >= 25
    back = _ok(
        symbiose(demo_url, "keys", "rotate", SYMBIOSE_VAULT_KEKS=f"dev1:{DEV_VAULT_KEK},new:{new}")
    )
    assert "re-wrapped 0 company" not in back
    assert read_identities_over_http(demo_url) >= 25


def test_audit_commands(demo_url: str) -> None:
    read_identities_over_http(demo_url)
    verified = _ok(symbiose(demo_url, "audit", "verify"))
    assert "audit chain intact" in verified and "last checkpoint" in verified
    # Identity reads sign at once: the head is already signed.
    assert "already signed" in _ok(symbiose(demo_url, "audit", "checkpoint"))
    public = _ok(symbiose(demo_url, "audit", "public-key")).strip()
    assert len(base64.b64decode(public)) == 32
    assert "intact" in _ok(symbiose(demo_url, "audit", "verify", "--public-key", public))


def test_worker_without_a_broker_says_so(demo_url: str) -> None:
    refused = symbiose(demo_url, "worker")
    assert refused.returncode == 2
    assert "SYMBIOSE_BROKER_URL" in refused.stderr


def _started(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(SYMBIOSE), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        raise
    return process.returncode, output


def _wait_for(condition, process: subprocess.Popen[str], what: str) -> None:
    deadline = time.monotonic() + 90
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"{what} exited early: {process.communicate()[0]}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"{what} did not start: {process.communicate()[0]}")
        time.sleep(0.3)


def test_worker_starts_on_a_broker_and_stops_cleanly(demo_url: str, tmp_path: Path) -> None:
    # A real broker when the suite has one; else Celery's in-memory transport, enough to start.
    broker = os.environ.get("SYMBIOSE_TEST_BROKER_URL") or "memory://"
    env = process_env(demo_url, SYMBIOSE_BROKER_URL=broker)
    worker = _started(["worker", "--concurrency", "1"], env)
    lines: list[str] = []

    def ready() -> bool:
        assert worker.stdout is not None
        lines.append(worker.stdout.readline())
        return "ready" in lines[-1]

    _wait_for(ready, worker, "the worker")
    code, _ = _stop(worker)
    assert code == 0, "".join(lines)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_answers_then_stops_cleanly(demo_url: str) -> None:
    port = _free_port()
    server = _started(["serve", "--port", str(port)], process_env(demo_url))

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    try:
        _wait_for(answers, server, "the server")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/catalogue", timeout=10) as r:
            assert r.status == 200
    finally:
        code, output = _stop(server)
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert code in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
