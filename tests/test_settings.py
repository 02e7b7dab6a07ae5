"""Every setting goes through core/settings.py, so `.env` reaches it and the README lists it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
# The application's packages. Not tests/ (they set the environment of the app and of the
# subprocesses they start) nor bench/ (scripts that prepare a server's environment).
PACKAGES = ("core", "privacy", "contracts", "marketplace", "api", "web")


def _environment_reads(tree: ast.AST) -> list[int]:
    """Lines touching os.environ or os.getenv: outside the settings, each would be a setting
    that `.env` does not reach."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "getenvb"):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            names = {alias.name for alias in node.names}
            if names & {"environ", "getenv", "getenvb"}:
                lines.append(node.lineno)
    return lines


def test_no_module_but_the_settings_reads_the_environment() -> None:
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "core" / "settings.py":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            offenders += [f"{path.relative_to(ROOT)}:{line}" for line in _environment_reads(tree)]
    assert offenders == []


def test_the_readme_lists_every_setting() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = [line for line in readme.splitlines() if line.startswith("| `SYMBIOSE_")]
    listed = {
        name.lower()
        for line in table
        for name in re.findall(r"`SYMBIOSE_([A-Z0-9_]+)`", line.split("|")[1])
    }
    assert set(Settings.model_fields) - listed == set()
    assert listed - set(Settings.model_fields) == set()


@pytest.mark.parametrize(
    ("variable", "field", "value", "expected"),
    [
        (
            "SYMBIOSE_RATE_LIMIT_URL",
            "rate_limit_url",
            "redis://cache:6379/2",
            "redis://cache:6379/2",
        ),
        ("SYMBIOSE_CATALOGUE_CACHE", "catalogue_cache", "off", False),
        ("SYMBIOSE_TASKS_SYNC", "tasks_sync", "1", True),
    ],
)
def test_a_dotenv_file_reaches_the_settings(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    field: str,
    value: str,
    expected: object,
) -> None:
    monkeypatch.delenv(variable, raising=False)
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"{variable}={value}\n", encoding="utf-8")
    settings = Settings(_env_file=dotenv)
    assert getattr(settings, field) == expected
