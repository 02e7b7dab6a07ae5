"""Import reports against someone holding a copy of the database: the report is stored in clear
(import_jobs.report), so it names line, column and reason, never a cell's value.

A facilitator uploads over the API a territory file whose every row is bad in its own way, each
bad cell a distinctive value; neither the report the API returns nor the stored report may quote
one, nor any company name, SIRET, site name or position of the file. Today's main quoted 14 of
these cells ("not a number: 'beaucoupXQ'", "unknown unit 'furlongX' ...")."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session

from marketplace.accounts.models import Role
from tests.factories import bearer, create_user_row
from tests.test_import import make_siret

COLUMNS = [
    "company",
    "siret",
    "nace",
    "site",
    "latitude",
    "longitude",
    "direction",
    "kind",
    "low_code",
    "label",
    "quantity",
    "unit",
    "period",
    "regularity",
    "months",
    "temperature_c",
    "hazardous",
    "current_operation",
]
LEGAL_NAME = "Tannerie Kervella Confidentielle"
SITE_NAME = "Atelier Quai Tromelin"
SIRET = make_siret(55_512_345)
OTHER_SIRET = make_siret(66_698_765)
GOOD = {
    "company": LEGAL_NAME,
    "siret": SIRET,
    "nace": "15.11Z",
    "site": SITE_NAME,
    "latitude": "48.3904",
    "longitude": "-4.4861",
    "direction": "offer",
    "kind": "material",
    "low_code": "04 01 04",
    "label": "Liqueur de tannage",
    "quantity": "120",
    "unit": "t",
    "period": "year",
    "regularity": "continuous",
    "months": "",
    "temperature_c": "",
    "hazardous": "",
    "current_operation": "",
}
# Each bad row changes a few cells of the good one; the values that must never be quoted.
BAD_CELLS: list[dict[str, str]] = [
    {"quantity": "beaucoupXQ"},
    {"latitude": "nordKervella"},
    {"latitude": "51.5074", "longitude": "-0.1278"},
    {"low_code": "99 97 93"},
    {"low_code": "10 01 04", "hazardous": "non"},
    {"unit": "furlongX"},
    {"direction": "vendreXY"},
    {"kind": "plasmaXY"},
    {"period": "quinzaineX"},
    {"regularity": "sporadiqueX"},
    {"regularity": "seasonal", "months": "10;11;1247"},
    {"regularity": "seasonal", "months": "octobreX"},
    {"hazardous": "peutetreX"},
    {"current_operation": "R 99"},
    {"kind": "heat", "low_code": "", "unit": "MWh", "temperature_c": "chaudXX"},
    {"siret": "12345678901234"},
    {"nace": "CIMENTXX", "siret": OTHER_SIRET},
    {"nace": "24.51Z"},  # another NACE code for the same SIRET
    {"company": LEGAL_NAME + " Bis"},  # another name for the same SIRET
    {"company": "Raison " * 60, "siret": make_siret(77_712_121)},  # too long for the form
]
SECRETS = [
    value
    for cells in BAD_CELLS
    for value in cells.values()
    if len(value) >= 4 and value not in {"seasonal", "heat", "MWh", "non"}
] + [LEGAL_NAME, SITE_NAME, SIRET, SIRET[:9], OTHER_SIRET, "48.3904", "-4.4861", "15.11Z"]


def _territory() -> bytes:
    rows = [dict(GOOD)] + [GOOD | cells for cells in BAD_CELLS]
    lines = [",".join(COLUMNS)]
    lines += [",".join(f'"{row[c]}"' for c in COLUMNS) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def _quoted(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def test_an_import_report_quotes_no_cell_of_the_file(client: TestClient, session: Session) -> None:
    headers = bearer(session, create_user_row(session, Role.FACILITATOR))
    answer = client.post(
        "/api/v1/flows/import",
        headers=headers,
        data={"skip_bad_rows": "false"},
        files={"file": ("territoire.csv", _territory(), "text/csv")},
    )
    assert answer.status_code == 422, answer.text
    assert _quoted(answer.text) == []
    job: dict[str, Any] = client.get(
        f"/api/v1/imports/{answer.json()['job_id']}", headers=headers
    ).json()
    errors = job["report"]["errors"]
    # Every bad row is reported, by line and column.
    assert [e["line"] for e in errors] == list(range(3, 3 + len(BAD_CELLS)))
    assert all(e["field"] and e["reason"] for e in errors)
    assert _quoted(json.dumps(job["report"], ensure_ascii=False)) == []
    # What a copy of the database holds.
    session.rollback()
    stored = session.execute(sa.text("SELECT report FROM import_jobs")).scalar_one()
    text = stored if isinstance(stored, str) else json.dumps(stored, ensure_ascii=False)
    assert _quoted(text) == []
    assert _quoted(json.dumps(json.loads(text), ensure_ascii=False)) == []
