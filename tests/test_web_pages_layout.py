"""Pages call services only, and never one another: a query written in a page escapes the rules its
domain's service enforces (who may read what, what is audited), and a page importing a page ties
two screens together. Shared page helpers live in web/pages.py."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "web").glob("pages_*.py"))
SESSION_QUERIES = {"exec", "execute", "get", "scalar", "scalars", "query"}


def _imported_pages(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("web.pages_")]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("web.pages_"):
                found.append(node.module)
            elif node.module == "web":
                found += [f"web.{a.name}" for a in node.names if a.name.startswith("pages_")]
    return found


def _queries(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "select":
            found.append(f"line {node.lineno}: select(")
        elif isinstance(func, ast.Attribute):
            if func.attr == "select":
                found.append(f"line {node.lineno}: .select(")
            elif (
                func.attr in SESSION_QUERIES
                and isinstance(func.value, ast.Name)
                and func.value.id == "session"
            ):
                found.append(f"line {node.lineno}: session.{func.attr}(")
    return found


def test_there_are_pages_to_check() -> None:
    assert len(PAGES) >= 5


def test_pages_never_import_another_page() -> None:
    offenders = {
        path.name: imported
        for path in PAGES
        if (imported := _imported_pages(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert offenders == {}


def test_pages_query_no_table_themselves() -> None:
    offenders = {
        path.name: queries
        for path in PAGES
        if (queries := _queries(ast.parse(path.read_text(encoding="utf-8"))))
    }
    assert offenders == {}
