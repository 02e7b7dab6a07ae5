"""XLSX decompression bounds (issue 8): a small workbook that unpacks to one huge cell, one row of
millions of cells, or a sheet lying about its extent or its sizes is refused (413/422 naming the
limit) before openpyxl builds it, and nothing is imported."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from bench.hostile_workbooks import (
    huge_cell_workbook,
    lie_about_size,
    rows_workbook,
    wide_row_workbook,
)
from core.settings import get_settings
from tests.test_import import GOOD_ROWS, HEADER, counts, import_file, staff_headers, upload

COLUMNS = HEADER.split(",")
ROW = GOOD_ROWS[2].split(",")


def refused(client: TestClient, session: Session, content: bytes) -> dict[str, Any]:
    """Upload as a facilitator: a 4xx on `file`, and no job, company, site or flow written."""
    response = upload(client, staff_headers(session), content, filename="territoire.xlsx")
    assert response.status_code in (413, 422), response.text
    body: dict[str, Any] = response.json()
    assert body["field"] == "file"
    assert counts(session) == {"companies": 0, "sites": 0, "flows": 0, "jobs": 0}
    return body


@pytest.mark.parametrize("shared", [False, True], ids=["inline string", "shared string"])
def test_one_cell_unpacking_to_megabytes_is_refused_naming_the_cell_limit(
    client: TestClient, session: Session, shared: bool
) -> None:
    content = huge_cell_workbook(COLUMNS, ROW, 16, shared=shared)
    assert len(content) < 100_000  # small on disk

    body = refused(client, session, content)
    assert body["error"] == "Invalid"
    assert "32767 characters" in body["detail"]
    if not shared:  # a shared text is not yet a cell: it has no line
        assert "line 2, column 10 (J)" in body["detail"]


def test_one_row_of_millions_of_cells_is_refused_naming_the_column_limit(
    client: TestClient, session: Session
) -> None:
    content = wide_row_workbook(COLUMNS, 2_000_000)
    assert len(content) < 200_000

    body = refused(client, session, content)
    assert "line 2" in body["detail"] and "column 256 (IV)" in body["detail"]


def test_a_workbook_unpacking_past_the_size_limit_is_a_413(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "import_max_xlsx_bytes", 4 * 1024 * 1024)
    content = wide_row_workbook(COLUMNS, 400_000)  # 6 MB unpacked

    body = refused(client, session, content)
    assert body["error"] == "TooLarge"
    assert "more than 4 MB" in body["detail"]


def test_a_part_lying_about_its_size_is_refused_whichever_way_it_lies(
    client: TestClient, session: Session
) -> None:
    wide = wide_row_workbook(COLUMNS, 400_000)
    smaller = lie_about_size(wide, "xl/worksheets/sheet1.xml", 1_000)
    body = refused(client, session, smaller)
    assert "XLSX" in body["detail"]

    good = rows_workbook([COLUMNS, ROW])
    larger = lie_about_size(good, "xl/worksheets/sheet1.xml", 2**32 - 1)
    assert refused(client, session, larger)["error"] == "TooLarge"


def test_a_sheet_claiming_the_largest_extent_imports_its_real_rows(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """openpyxl pads every row to the sheet's <dimension>: 16,384 columns by 1,048,576 rows for
    two real rows, read as a million blank rows past the limit. The scanned extent is used."""
    monkeypatch.setattr(get_settings(), "import_max_rows", 10)
    content = rows_workbook([COLUMNS, ROW], dimension="A1:XFD1048576")

    job = import_file(client, staff_headers(session), content)
    assert job["status"] == "done", job["report"]
    assert job["report"]["created"]["flows"] == 1


def test_rows_past_the_limit_are_refused_while_scanning(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "import_max_rows", 2)
    far = [COLUMNS, ROW] + [[""]] * 2_000 + [ROW]
    body = refused(client, session, rows_workbook(far))
    assert body["error"] == "TooLarge" and "more than 2 data rows" in body["detail"]
