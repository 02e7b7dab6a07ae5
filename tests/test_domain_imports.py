"""The domain order inside `marketplace`, beyond what import-linter sees.

import-linter's layers contract (pyproject.toml) refuses an import from a lower domain to a higher
one. Two rules it cannot state are checked here on the source: an import placed inside a function
never reaches another domain (that is how cycles were hidden before), and no module imports a name
another module keeps private (a leading underscore), so a module's inside can change freely.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "privacy", "contracts", "marketplace", "api", "web")


def _modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            yield name, path


def _absolute(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _imports(module: str, path: Path) -> Iterator[tuple[ast.ImportFrom | ast.Import, str, bool]]:
    """Each import of ``module`` with its absolute target and whether it sits in a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nested: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            nested.update(id(inner) for inner in ast.walk(node) if inner is not node)
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            yield node, _absolute(module, node, is_package), id(node) in nested
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name, id(node) in nested


def _domain(module: str) -> str | None:
    """The marketplace domain (a sub-package) a module belongs to; None outside them (the
    composition modules `marketplace.tables` and `marketplace.handlers` are no domain)."""
    parts = module.split(".")
    if parts[0] != "marketplace" or len(parts) < 2:
        return None
    return parts[1] if (ROOT / "marketplace" / parts[1]).is_dir() else None


def cross_domain_imports_in_functions() -> list[str]:
    found = []
    for module, path in _modules():
        own = _domain(module)
        if own is None:
            continue
        for node, target, in_function in _imports(module, path):
            other = _domain(target)
            if in_function and other is not None and other != own:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {target}")
    return found


def private_imports() -> list[str]:
    found = []
    for module, path in _modules():
        for node, target, _ in _imports(module, path):
            if not isinstance(node, ast.ImportFrom) or target == module:
                continue
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {target}.{alias.name}")
    return found


def test_no_import_inside_a_function_crosses_domains() -> None:
    assert cross_domain_imports_in_functions() == []


def test_no_module_imports_another_modules_private_name() -> None:
    assert private_imports() == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def f():\n    from marketplace.catalogue.service import sync_flow\n", 1),
        ("def f():\n    import marketplace.alerts.service\n", 1),
        ("def f():\n    from ..catalogue import service\n", 1),
        ("def f():\n    from marketplace.flows.models import Flow\n", 0),  # its own domain
        ("from marketplace.catalogue.service import sync_flow\n", 0),  # import-linter's
    ],
)
def test_the_rule_sees_what_it_must(tmp_path: Path, source: str, expected: int) -> None:
    """The checker itself: it finds a nested cross-domain import however it is written."""
    path = tmp_path / "service.py"
    path.write_text(source, encoding="utf-8")
    nested = [
        target
        for _, target, in_function in _imports("marketplace.flows.service", path)
        if in_function and _domain(target) not in (None, "flows")
    ]
    assert len(nested) == expected
