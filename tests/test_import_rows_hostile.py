"""An import's odd cells: each bad row is reported with its line, field and reason, none sinks
the file, and with skip-bad-rows the good rows still go in (issue 8)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.test_import import (
    GOOD_ROWS,
    HEADER,
    LEGAL_NAME_A,
    LEGAL_NAME_B,
    counts,
    csv_of,
    flows_by_label,
    import_file,
    staff_headers,
    upload,
)

# The header's columns plus the two money columns, so a row can carry a cost.
MONEY_HEADER = HEADER + ",current_cost_eur_per_unit,virgin_price_eur_per_unit"
GOOD = [row + ",," for row in GOOD_ROWS]


def with_cell(row: str, column: str, value: str) -> str:
    """`row` (of MONEY_HEADER) with one cell replaced, quoted so any character fits."""
    cells = next(csv.reader([row]))
    cells[MONEY_HEADER.split(",").index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue()


# Each case: the column and the cell. The cell goes on line 3, in an offer row, but the price
# of the virgin material replaced, which belongs to a request.
ODD_CELLS = {
    "cost 1e17": ("current_cost_eur_per_unit", "1e17"),
    "price 1e308": ("virgin_price_eur_per_unit", "1e308"),
    "cost inf": ("current_cost_eur_per_unit", "inf"),
    "quantity nan": ("quantity", "nan"),
    "quantity 1e308": ("quantity", "1e308"),
    "months superscript two": ("months", "²"),
    "months arabic-indic digits beyond 12": ("months", "١٣"),
    "label with NUL": ("label", "Cendres\x00volantes"),
    "label with a bidi override": ("label", "Cendres \u202evolantes"),
    "label with a control character": ("label", "Cendres\x1bvolantes"),
    "description past its length": ("description", "x" * 5000),
    "label of blanks only": ("label", "\u00a0\u2003"),
}


def odd_row(column: str, value: str) -> str:
    return with_cell(GOOD[2] if column == "virgin_price_eur_per_unit" else GOOD[1], column, value)


def odd_file(case: str) -> bytes:
    bad = odd_row(*ODD_CELLS[case])
    good = GOOD[1] if bad.startswith(LEGAL_NAME_B) else GOOD[2]
    return csv_of(GOOD[0], bad, good, header=MONEY_HEADER)


@pytest.mark.parametrize("case", list(ODD_CELLS), ids=list(ODD_CELLS))
def test_an_odd_cell_is_a_row_error_with_line_and_field_and_nothing_is_imported(
    client: TestClient, session: Session, case: str
) -> None:
    column, value = ODD_CELLS[case]
    job = import_file(client, staff_headers(session), odd_file(case))

    assert job["status"] == "failed", job["report"]
    assert "unexpected" not in job["report"]["detail"]
    [error] = job["report"]["errors"]
    assert error["line"] == 3
    assert error["field"] == column
    assert error["reason"]
    if value.strip():
        assert value.strip() not in error["reason"]  # the report quotes no cell
    assert counts(session) == {"companies": 0, "sites": 0, "flows": 0, "jobs": 1}


@pytest.mark.parametrize("case", list(ODD_CELLS), ids=list(ODD_CELLS))
def test_skip_bad_rows_imports_the_good_rows_around_an_odd_cell(
    client: TestClient, session: Session, case: str
) -> None:
    column, _ = ODD_CELLS[case]
    job = import_file(client, staff_headers(session), odd_file(case), skip_bad_rows=True)

    assert job["status"] == "done", job["report"]
    assert [(e["line"], e["field"]) for e in job["report"]["errors"]] == [(3, column)]
    assert job["report"]["created"]["flows"] == 2
    assert len(flows_by_label(session)) == 2


def test_every_bad_row_of_a_file_is_listed_not_only_the_first(
    client: TestClient, session: Session
) -> None:
    rows = [GOOD[0]] + [odd_row(column, value) for column, value in ODD_CELLS.values()]
    job = import_file(client, staff_headers(session), csv_of(*rows, header=MONEY_HEADER))

    assert job["status"] == "failed"
    listed = [(e["line"], e["field"]) for e in job["report"]["errors"]]
    assert listed == [(3 + i, column) for i, (column, _) in enumerate(ODD_CELLS.values())]
    assert counts(session)["flows"] == 0


def test_an_unexpected_exception_in_one_row_is_that_rows_error(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever a check raises (a bug, an overflow in a library) names the row, not the job."""
    from marketplace.imports import rows

    real = rows.check_flow

    def fragile(rules: Any, direction: Any, kind: Any, fields: Any) -> dict[str, Any]:
        if fields.label == "Fumées du four":
            raise OverflowError(f"cannot convert {LEGAL_NAME_A}")
        return real(rules, direction, kind, fields)

    monkeypatch.setattr(rows, "check_flow", fragile)
    job = import_file(client, staff_headers(session), csv_of(*GOOD_ROWS), skip_bad_rows=True)

    assert job["status"] == "done", job["report"]
    [error] = job["report"]["errors"]
    assert error["line"] == 3 and error["field"] == "row"
    assert LEGAL_NAME_A not in str(job["report"])
    assert job["report"]["created"]["flows"] == 2


def test_a_first_line_over_the_csv_field_limit_is_a_4xx_naming_line_and_column(
    client: TestClient, session: Session
) -> None:
    content = ("x" * 200_000 + "," + HEADER + "\n" + GOOD_ROWS[0] + "\n").encode()
    response = upload(client, staff_headers(session), content)
    assert response.status_code in (413, 422), response.text
    body = response.json()
    assert body["field"] == "file"
    assert "line 1" in body["detail"] and "column 1" in body["detail"]
    assert counts(session)["jobs"] == 0


def test_a_data_cell_over_the_csv_field_limit_is_a_4xx_naming_line_and_column(
    client: TestClient, session: Session
) -> None:
    long_label = with_cell(GOOD[1], "label", "y" * 200_000)
    content = csv_of(GOOD[0], long_label, header=MONEY_HEADER)
    response = upload(client, staff_headers(session), content)
    assert response.status_code in (413, 422), response.text
    body = response.json()
    assert "line 3" in body["detail"] and "column 10" in body["detail"]
    assert counts(session)["jobs"] == 0
