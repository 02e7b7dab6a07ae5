"""Background work on a real Celery worker and Redis broker (SYMBIOSE_TEST_BROKER_URL)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from core.settings import get_settings
from core.worker import celery_app
from marketplace.accounts.models import Role
from marketplace.imports.models import ImportJob
from tests.conftest import TEST_BROKER_URL, TEST_DATABASE_URL
from tests.factories import bearer, create_user_row, make_siret
from tests.test_alerts import dies_with_parent

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(
    not TEST_BROKER_URL, reason="SYMBIOSE_TEST_BROKER_URL is not set: no broker to run a worker on"
)


@pytest.fixture
def worker(monkeypatch: pytest.MonkeyPatch) -> Iterator[subprocess.Popen[bytes]]:
    env = os.environ | {
        "SYMBIOSE_DATABASE_URL": TEST_DATABASE_URL,
        "SYMBIOSE_BROKER_URL": TEST_BROKER_URL,
        "SYMBIOSE_TASKS_SYNC": "0",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "core.worker:celery_app",
            "worker",
            "--concurrency=1",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        preexec_fn=dies_with_parent,
    )
    monkeypatch.setattr(get_settings(), "broker_url", TEST_BROKER_URL)
    # Every file goes to the background, however small.
    monkeypatch.setattr(get_settings(), "import_background_rows", 0)
    monkeypatch.setattr(get_settings(), "tasks_sync", False)
    previous = celery_app.conf.broker_url
    celery_app.conf.broker_url = TEST_BROKER_URL
    celery_app.conf.broker_connection_retry_on_startup = True
    try:
        yield process
    finally:
        celery_app.conf.broker_url = previous
        process.terminate()
        process.wait(timeout=20)


def test_an_import_runs_on_a_real_worker(
    worker: subprocess.Popen[bytes], client: TestClient, session: Session
) -> None:
    staff = bearer(session, create_user_row(session, Role.FACILITATOR))
    header = (
        "company,siret,nace,site,latitude,longitude,direction,kind,low_code,label,quantity,unit"
    )
    rows = [
        f"Worker Test {i} SAS,{make_siret(9000 + i)},23.51Z,Usine,51.0{i},2.3,offer,material,"
        f"10 01 02,Cendres,{100 + i},t"
        for i in range(5)
    ]
    content = ("\n".join([header, *rows]) + "\n").encode()
    response = client.post(
        "/api/v1/flows/import",
        headers=staff,
        files={"file": ("territoire.csv", content, "text/csv")},
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    deadline = time.monotonic() + 60
    status = None
    while time.monotonic() < deadline:
        session.expire_all()
        job = session.get(ImportJob, uuid.UUID(job_id))
        assert job is not None
        status = job.status
        if status in ("done", "failed"):
            break
        assert worker.poll() is None, "the worker died"
        time.sleep(0.3)
    assert status == "done", status
    assert job is not None and job.report["created"]["flows"] == 5
