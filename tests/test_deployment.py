"""The production deployment file declares the services a multi-machine deployment needs."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_compose_file_has_the_production_services() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "api", "worker", "beat"} <= set(services)
    for name in ("api", "worker", "beat"):
        env = services[name]["environment"]
        assert env["SYMBIOSE_ENVIRONMENT"] == "production"
        assert env["SYMBIOSE_DATABASE_URL"].startswith("postgresql")
        assert env["SYMBIOSE_BROKER_URL"].startswith("redis://")
    assert (ROOT / "Dockerfile").exists()
