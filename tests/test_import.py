"""Territory import: CSV and XLSX files through the API, the job's report, and its guarantees
(all-or-nothing, every bad row reported by line, identities never stored in clear)."""

from __future__ import annotations

import csv
import io
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlmodel import Session, SQLModel, func, select
from stdnum import luhn

from core.errors import Forbidden
from core.settings import ROOT, get_settings
from marketplace.accounts.models import Role
from marketplace.accounts.service import actor_of
from marketplace.companies.models import Company, Site
from marketplace.companies.service import site_name
from marketplace.flows.models import Flow
from marketplace.imports import service
from marketplace.imports.models import ImportJob, ImportStatus
from marketplace.imports.parser import column_name, count_rows, open_table
from marketplace.imports.tasks import run_import
from tests.conftest import TEST_DATABASE_URL, backend_name
from tests.factories import (
    bearer,
    create_company_row,
    create_site_row,
    create_tenant,
    create_user_row,
)

HEADER = (
    "company,siret,nace,site,latitude,longitude,direction,kind,low_code,label,quantity,"
    "unit,period,regularity,months,temperature_c,description"
)


def make_siret(number: int) -> str:
    """A SIRET with no leading zero (it survives a spreadsheet's number cell) whose SIREN and
    whole number both carry their Luhn check digit."""
    siren = f"{number:08d}"
    siren += luhn.calc_check_digit(siren)
    siret = siren + "0001"
    return siret + luhn.calc_check_digit(siret)


SIRET_A = make_siret(31_415_926)
SIRET_B = make_siret(27_182_818)
LEGAL_NAME_A = "Fonderie Secrète du Littoral SAS"
LEGAL_NAME_B = "Serres Confidentielles de Loon SCEA"
# Dunkerque (59, Hauts-de-France) and Lyon (69, Auvergne-Rhône-Alpes).
GOOD_ROWS = [
    f"{LEGAL_NAME_A},{SIRET_A},24.51Z,Usine Nord,51.0343,2.3768,offer,material,10 01 02,"
    "Cendres volantes,1200,kg,month,continuous,,,fines",
    f"{LEGAL_NAME_A},{SIRET_A},,Usine Nord,51.0343,2.3768,offer,heat,,Fumées du four,2.5,MW,"
    'year,seasonal,"10;11;12;1;2;3",180,',
    f"{LEGAL_NAME_B},{SIRET_B},0113Z,Serres de Lyon,45.7640,4.8357,request,water,,"
    "Eau de process,100,m3,day,,,,",
]


def csv_of(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def staff_headers(session: Session) -> dict[str, str]:
    return bearer(session, create_user_row(session, Role.FACILITATOR))


def upload(
    client: TestClient,
    headers: dict[str, str],
    content: bytes,
    filename: str = "territoire.csv",
    **form: Any,
) -> Any:
    data = {
        name: value if isinstance(value, str) else "true" if value else "false"
        for name, value in form.items()
    }
    return client.post(
        "/api/v1/flows/import",
        headers=headers,
        data=data,
        files={"file": (filename, content, "text/csv")},
    )


def import_file(
    client: TestClient, headers: dict[str, str], content: bytes, **form: Any
) -> dict[str, Any]:
    """Upload and return the finished job as the API shows it.

    A small file is imported before the answer: 201 when written, 422 naming the bad rows (and
    the job to read) when refused; a large one answers 202 and runs in the background."""
    response = upload(client, headers, content, **form)
    assert response.status_code in (201, 202, 422), response.text
    if response.status_code == 422:
        body = response.json()
        assert body["error"] == "RowsRejected" and body["rows"] and body["field"]
        location = f"/api/v1/imports/{body['job_id']}"
    else:
        location = response.headers["location"]
        assert location == f"/api/v1/imports/{response.json()['id']}"
    job = client.get(location, headers=headers)
    assert job.status_code == 200
    finished: dict[str, Any] = job.json()
    return finished


def counts(session: Session) -> dict[str, int]:
    session.rollback()  # see what the requests committed since
    return {
        name: session.exec(select(func.count()).select_from(model)).one()
        for name, model in (
            ("companies", Company),
            ("sites", Site),
            ("flows", Flow),
            ("jobs", ImportJob),
        )
    }


def flows_by_label(session: Session) -> dict[str, Flow]:
    session.rollback()
    return {flow.label: flow for flow in session.exec(select(Flow))}


# --- good files --------------------------------------------------------------------------------


def test_good_csv_creates_companies_sites_and_flows(client: TestClient, session: Session) -> None:
    headers = staff_headers(session)
    job = import_file(client, headers, csv_of(*GOOD_ROWS))

    assert job["status"] == "done"
    assert job["percent"] == 100
    assert job["total_rows"] == job["processed_rows"] == 3
    assert job["finished_at"] is not None
    assert job["report"]["errors"] == []
    assert job["report"]["created"] == {"companies": 2, "sites": 2, "flows": 3}
    assert job["report"]["reused"] == {"companies": 0, "sites": 0}

    flows = flows_by_label(session)
    ash = flows["Cendres volantes"]
    assert (ash.quantity, ash.unit, ash.base_unit) == (1200, "kg", "t/yr")
    assert ash.quantity_per_year == pytest.approx(14.4)
    assert ash.low_code == "100102" and not ash.hazardous and ash.description == "fines"
    heat = flows["Fumées du four"]
    # 2.5 MW over the six months it runs: 2.5 × 8760 h × 6/12.
    assert heat.quantity_per_year == pytest.approx(10_950)
    assert heat.base_unit == "MWh/yr" and heat.temperature_c == 180
    assert heat.months_mask == 0b111000000111
    water = flows["Eau de process"]
    assert water.quantity_per_year == pytest.approx(36_500) and water.direction == "request"
    assert ash.site_id == heat.site_id != water.site_id

    companies = {c.id: c for c in session.exec(select(Company))}
    assert sorted(c.nace for c in companies.values()) == ["01.13Z", "24.51Z"]
    site = session.get(Site, ash.site_id)
    assert site is not None
    assert (site.departement_code, site.region_code) == ("59", "32")
    assert site_name(companies[site.company_id], site) == "Usine Nord"

    # The facilitator reads the sealed identities back through the API.
    listed = client.get("/api/v1/companies", headers=headers).json()
    assert {(c["legal_name"], c["siret"]) for c in listed} == {
        (LEGAL_NAME_A, SIRET_A),
        (LEGAL_NAME_B, SIRET_B),
    }


def test_second_import_reuses_companies_by_siret_and_sites_by_name(
    client: TestClient, session: Session
) -> None:
    headers = staff_headers(session)
    registered = create_company_row(session, "Aciérie Déjà Inscrite SA", siret=SIRET_A)
    create_site_row(session, registered, name="Usine Nord", latitude=51.0343, longitude=2.3768)
    spaced_siret = f"{SIRET_A[:3]} {SIRET_A[3:6]} {SIRET_A[6:9]} {SIRET_A[9:]}"
    rows = [
        # A registered company needs no NACE; its site is found whatever the case and spaces.
        f"Aciérie Déjà Inscrite SA,{spaced_siret},,usine  NORD,51.0343,2.3768,offer,material,"
        "10 01 02,Cendres,10,t,,,,,",
        f"Aciérie Déjà Inscrite SA,{SIRET_A},,Quai Ouest,51.05,2.35,offer,water,,Purges,5,m3,"
        "day,,,,",
        GOOD_ROWS[2],
    ]
    first = import_file(client, headers, csv_of(*rows))
    assert first["status"] == "done", first["report"]
    assert first["report"]["created"] == {"companies": 1, "sites": 2, "flows": 3}
    assert first["report"]["reused"] == {"companies": 1, "sites": 1}
    assert counts(session)["companies"] == 2

    second = import_file(client, headers, csv_of(*rows))
    assert second["report"]["created"] == {"companies": 0, "sites": 0, "flows": 3}
    assert second["report"]["reused"] == {"companies": 2, "sites": 3}
    after = counts(session)
    assert (after["companies"], after["sites"], after["flows"]) == (2, 3, 6)
    nace = session.exec(select(Company.nace).where(Company.id == registered.id)).one()
    assert nace == "23.51Z"  # a reused company is left as it is


def test_xlsx_import_with_numeric_cells_any_column_order_and_extra_columns(
    client: TestClient, session: Session
) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(
        [
            "Label",
            "Quantity",
            "Unit",
            "Direction",
            "Kind",
            "LoW code",
            "Company",
            "SIRET",
            "NACE",
            "Site",
            "Latitude",
            "Longitude",
            "Notes; internes; à; ignorer",
            "tab\tseparated\tnotes\there",
            "Temperature C",
        ]
    )
    sheet.append(
        [
            "Cendres",
            12.5,
            "t",
            "offer",
            "material",
            "10 01 02",
            LEGAL_NAME_A,
            int(SIRET_A),
            "24.51Z",
            "Usine Nord",
            51.0343,
            2.3768,
            "à ignorer",
            "a\tb",
            None,
        ]
    )
    sheet.append(
        [
            "Chaleur",
            300,
            "MWh",
            "Offer",
            "Heat",
            None,
            LEGAL_NAME_A,
            int(SIRET_A),
            None,
            "Usine Nord",
            51.0343,
            2.3768,
            None,
            None,
            95,
        ]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)

    job = import_file(client, staff_headers(session), buffer.getvalue())
    assert job["status"] == "done", job["report"]
    assert job["report"]["created"] == {"companies": 1, "sites": 1, "flows": 2}
    flows = flows_by_label(session)
    assert flows["Cendres"].quantity_per_year == 12.5
    assert flows["Chaleur"].temperature_c == 95


def test_semicolon_csv_with_decimal_comma_in_windows_1252(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    header = HEADER.replace(",", ";")
    row = (
        f"Société Générale des Cendres;{SIRET_A};24.51Z;Usine Nord;51,0343;2,3768;offer;"
        "material;10 01 02;Mâchefers;12,5;t;week;batch;;;"
    )
    content = csv_of(row, header=header).decode().encode("cp1252")
    headers = staff_headers(session)
    # Stored as UTF-8 the file grows past the limit it was uploaded within: still imported.
    monkeypatch.setattr(get_settings(), "max_upload_bytes", len(content))
    job = import_file(client, headers, content)
    assert job["status"] == "done", job["report"]
    flow = flows_by_label(session)["Mâchefers"]
    assert flow.quantity == 12.5
    assert flow.quantity_per_year == pytest.approx(12.5 * 365 / 7)
    assert flow.regularity == "batch"


def test_utf8_bom_and_header_names_ignore_case_and_spaces(
    client: TestClient, session: Session
) -> None:
    header = (
        " COMPANY , Siret,NACE,Site,Latitude,Longitude,Direction,Kind,Low Code,Label,"
        "Quantity,Unit,Period,Regularity,Months,Temperature C,Description"
    )
    content = b"\xef\xbb\xbf" + csv_of(GOOD_ROWS[0], header=header)
    job = import_file(client, staff_headers(session), content)
    assert job["status"] == "done", job["report"]
    assert flows_by_label(session)["Cendres volantes"].low_code == "100102"


def test_the_documented_template_imports(client: TestClient, session: Session) -> None:
    content = (ROOT / "web" / "static" / "import-template.csv").read_bytes()
    job = import_file(client, staff_headers(session), content)
    assert job["status"] == "done", job["report"]
    assert job["report"]["created"] == {"companies": 2, "sites": 2, "flows": 4}
    flows = flows_by_label(session)
    assert flows["Gaz de cubilot"].quantity_per_year == pytest.approx(12_000 * 0.9)
    assert flows["Chauffage des serres"].months_mask == 0b111000000111


def test_months_and_gas_energy_as_plants_write_them(client: TestClient, session: Session) -> None:
    """Months as ranges across the new year, lists and names; a gas metered in energy, on the
    higher heating value, stored in MWh/yr on the lower (× 0.9)."""
    site = f"{LEGAL_NAME_A},{SIRET_A},24.51Z,Usine Nord,51.0343,2.3768"
    rows = [
        f"{site},offer,gas,,Gaz de haut fourneau,1000,MWh PCS,year,seasonal,10-3,,",
        f'{site},offer,gas,,Gaz de cokerie,2,GWh_pci,month,seasonal,"1-5,10-12",,',
        f"{site},offer,gas,,Biogaz,500,Nm3,day,seasonal,janv.-Mars; Sept,,",
        f"{site},offer,heat,,Vapeur,100,MWh,year,seasonal,nov-feb,180,",
    ]
    job = import_file(client, staff_headers(session), csv_of(*rows))
    assert job["status"] == "done", job["report"]
    flows = flows_by_label(session)
    furnace = flows["Gaz de haut fourneau"]
    assert (furnace.unit, furnace.base_unit) == ("MWh PCS", "MWh/yr")
    assert furnace.quantity_per_year == pytest.approx(900)
    assert furnace.months_mask == 0b111000000111  # October to March
    coke = flows["Gaz de cokerie"]
    assert coke.base_unit == "MWh/yr" and coke.quantity_per_year == pytest.approx(24_000)
    assert coke.months_mask == 0b111000011111
    biogas = flows["Biogaz"]
    assert biogas.base_unit == "m3/yr" and biogas.quantity_per_year == pytest.approx(182_500)
    assert biogas.months_mask == 0b000100000111
    assert flows["Vapeur"].months_mask == 0b110000000011


# --- bad rows ----------------------------------------------------------------------------------


def test_one_bad_row_imports_nothing_and_the_report_names_line_field_and_reason(
    client: TestClient, session: Session
) -> None:
    bad = GOOD_ROWS[1].replace(",,Fumées du four", ",99 99 99,Fumées du four")
    job = import_file(client, staff_headers(session), csv_of(GOOD_ROWS[0], bad, GOOD_ROWS[2]))

    assert job["status"] == "failed"
    assert job["percent"] == 100
    errors = job["report"]["errors"]
    assert len(errors) == 1
    assert errors[0]["line"] == 3 and errors[0]["field"] == "low_code"
    assert "99 99 99" not in errors[0]["reason"]  # the report quotes no cell
    assert "nothing was imported" in job["report"]["detail"]
    assert counts(session) == {"companies": 0, "sites": 0, "flows": 0, "jobs": 1}


def test_skip_bad_rows_imports_the_good_ones_and_reports_the_bad(
    client: TestClient, session: Session
) -> None:
    bad = GOOD_ROWS[2].replace(",100,m3,", ",abc,m3,")
    job = import_file(
        client, staff_headers(session), csv_of(GOOD_ROWS[0], GOOD_ROWS[1], bad), skip_bad_rows=True
    )

    assert job["status"] == "done"
    # The reason in English for the API's clients, and its case for the pages to say it.
    assert job["report"]["errors"] == [
        {
            "line": 4,
            "field": "quantity",
            "reason": "not a number",
            "code": "NotANumber",
            "params": {},
        }
    ]
    # The bad row's company had no other row: it is not created.
    assert job["report"]["created"] == {"companies": 1, "sites": 1, "flows": 2}
    assert counts(session) == {"companies": 1, "sites": 1, "flows": 2, "jobs": 1}


def with_cells(**cells: str) -> tuple[str, list[str]]:
    """The first good row with some cells replaced, and the columns it adds to the header."""
    values = dict(zip(HEADER.split(","), next(csv.reader([GOOD_ROWS[0]])), strict=True))
    values.update(cells)
    header = HEADER.split(",")
    extra = [name for name in cells if name not in header]
    return ",".join([*(values[n] for n in header), *(values[n] for n in extra)]), extra


BAD_ROWS = {
    "unknown LoW code": ({"low_code": "99 99 99"}, "low_code", "unknown List of Waste code"),
    "hazardous code declared non-hazardous": (
        {"low_code": "10 01 04", "hazardous": "non"},
        "hazardous",
        "is hazardous",
    ),
    "negative quantity": ({"quantity": "-5"}, "quantity", "greater than zero"),
    "zero quantity": ({"quantity": "0"}, "quantity", "greater than zero"),
    "unknown unit": ({"unit": "furlong"}, "unit", "unknown unit"),
    "London": ({"latitude": "51.5074", "longitude": "-0.1278"}, "latitude", "France"),
    "the Atlantic": ({"latitude": "46.0", "longitude": "-3.0"}, "latitude", "département"),
    "quantity not a number": ({"quantity": "abc"}, "quantity", "not a number"),
    "latitude not a number": ({"latitude": "nord"}, "latitude", "not a number"),
    "unknown direction": ({"direction": "sell"}, "direction", "offer"),
    "unknown kind": ({"kind": "plasma"}, "kind", "material"),
    "unknown period": ({"period": "fortnight"}, "period", "year"),
    "bad months": ({"months": "13"}, "months", "1 to 12"),
    "month not a name": ({"months": "oct;juinet"}, "months", "part 2 of the months"),
    "month range without its end": ({"months": "10-"}, "months", "part 1 of the months"),
    "bad SIRET": ({"siret": "12345678901234"}, "siret", "SIRET"),
    "bad NACE": ({"nace": "cement"}, "nace", "NACE class or NAF subclass"),
    "NACE absent from the nomenclature": ({"nace": "99.99Z"}, "nace", "99.99Z is not a code"),
    "new company without NACE": ({"nace": ""}, "nace", "required"),
    "missing label": ({"label": ""}, "label", "required"),
    "material without LoW code": ({"low_code": ""}, "low_code", "needs its List of Waste"),
    "temperature out of range": ({"temperature_c": "5000"}, "temperature_c", "2000"),
    "bad hazardous flag": ({"hazardous": "maybe"}, "hazardous", "true/false"),
}


@pytest.mark.parametrize("case", list(BAD_ROWS), ids=list(BAD_ROWS))
def test_each_bad_row_is_reported_with_its_field_and_nothing_is_written(
    client: TestClient, session: Session, case: str
) -> None:
    cells, field, reason = BAD_ROWS[case]
    row, extra = with_cells(**cells)
    header = ",".join([HEADER, *extra])
    job = import_file(client, staff_headers(session), csv_of(row, GOOD_ROWS[2], header=header))

    assert job["status"] == "failed"
    [error] = job["report"]["errors"]
    assert (error["line"], error["field"]) == (2, field), error
    assert reason in error["reason"]
    assert counts(session) == {"companies": 0, "sites": 0, "flows": 0, "jobs": 1}


def test_rows_contradicting_each_other_are_reported(client: TestClient, session: Session) -> None:
    rows = [
        GOOD_ROWS[0],
        GOOD_ROWS[0].replace(LEGAL_NAME_A, "Une Autre Raison Sociale"),
        GOOD_ROWS[0].replace("24.51Z", "23.51Z"),
        GOOD_ROWS[0].replace("51.0343", "50.9"),
        # Same name, other case and spacing: the same company.
        GOOD_ROWS[0].replace(LEGAL_NAME_A, LEGAL_NAME_A.upper().replace(" ", "  ")),
    ]
    job = import_file(client, staff_headers(session), csv_of(*rows))
    assert job["status"] == "failed"
    assert [(e["line"], e["field"]) for e in job["report"]["errors"]] == [
        (3, "company"),
        (4, "nace"),
        (5, "site"),
    ]
    assert "line 2" in job["report"]["errors"][0]["reason"]
    assert counts(session)["companies"] == 0


def test_unquoted_delimiter_inside_a_value_is_caught(client: TestClient, session: Session) -> None:
    header = HEADER.replace(",", ";")
    row = GOOD_ROWS[1].replace('"10;11;12;1;2;3"', "10;11;12;1;2;3").replace(",", ";")
    job = import_file(client, staff_headers(session), csv_of(row, header=header))
    assert job["status"] == "failed"
    assert job["report"]["errors"][0]["field"] == "row"


# --- malformed files ---------------------------------------------------------------------------


def empty_workbook() -> bytes:
    buffer = io.BytesIO()
    Workbook().save(buffer)
    return buffer.getvalue()


def workbook_with_entity_bomb() -> bytes:
    """A workbook whose sheet declares an exponential entity ("billion laughs")."""
    source = io.BytesIO()
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADER.split(","))
    sheet.append(["&lol9;"])
    workbook.save(source)
    bomb = (
        '<!DOCTYPE x [<!ENTITY lol "lol">'
        + "".join(
            f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10 if n > 1 else "&lol;" * 10}">'
            for n in range(1, 10)
        )
        + "]>"
    )
    target = io.BytesIO()
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as rewritten:
        for item in original.infolist():
            data = original.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                # The cell refers to the entity (openpyxl escaped the "&" when saving).
                text = data.decode().replace("&amp;lol9;", "&lol9;")
                declaration, _, body = text.rpartition("?>")
                data = (declaration + ("?>" if declaration else "") + bomb + body).encode()
            rewritten.writestr(item, data)
    return target.getvalue()


MALFORMED = {
    "binary garbage": (bytes(range(256)) * 40, "binary"),
    "random bytes without NUL": (bytes((i * 7919) % 31 + 1 for i in range(5000)), "binary"),
    "missing columns": (b"company,siret,label\nA,1,b\n", "latitude, longitude, direction"),
    "empty file": (b"", "empty"),
    "blank file": (b"\n\n  \n", "empty"),
    "header only": (HEADER.encode() + b"\n", "no data rows"),
    "old xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, ".xls"),
    "damaged xlsx": (b"PK\x03\x04" + b"garbage" * 50, "XLSX"),
    "empty xlsx": (empty_workbook(), "empty"),
    "duplicate column": (HEADER.encode() + b",label\n", "twice"),
    "xlsx with an entity bomb": (workbook_with_entity_bomb(), "XLSX"),
}


@pytest.mark.parametrize("case", list(MALFORMED), ids=list(MALFORMED))
def test_malformed_file_is_refused_at_upload_and_nothing_is_stored(
    client: TestClient, session: Session, case: str
) -> None:
    content, words = MALFORMED[case]
    response = upload(client, staff_headers(session), content)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["field"] == "file"
    assert words in body["detail"]
    assert counts(session) == {"companies": 0, "sites": 0, "flows": 0, "jobs": 0}


def test_oversized_file_is_refused_with_413(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = staff_headers(session)
    content = csv_of(*GOOD_ROWS)
    monkeypatch.setattr(get_settings(), "max_upload_bytes", len(content) - 1)
    response = upload(client, headers, content)
    assert response.status_code == 413
    assert response.json()["field"] == "file"
    assert counts(session)["jobs"] == 0


def test_too_many_rows_is_refused_with_413(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = staff_headers(session)
    monkeypatch.setattr(get_settings(), "import_max_rows", 2)
    response = upload(client, headers, csv_of(*GOOD_ROWS))
    assert response.status_code == 413
    assert "more than 2 data rows" in response.json()["detail"]
    assert counts(session)["jobs"] == 0


# --- who may import ----------------------------------------------------------------------------


def test_a_member_may_not_import(client: TestClient, session: Session) -> None:
    tenant = create_tenant(session)
    before = counts(session)
    response = upload(client, tenant.headers, csv_of(*GOOD_ROWS))
    assert response.status_code == 403
    assert counts(session) == before


def test_a_job_is_visible_to_staff_and_its_uploader_only(
    client: TestClient, session: Session
) -> None:
    headers = staff_headers(session)
    job = import_file(client, headers, csv_of(*GOOD_ROWS))
    other_staff = staff_headers(session)
    assert client.get(f"/api/v1/imports/{job['id']}", headers=other_staff).status_code == 200
    member = create_tenant(session).headers
    assert client.get(f"/api/v1/imports/{job['id']}", headers=member).status_code == 404
    assert client.get(f"/api/v1/imports/{uuid.uuid4()}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/imports/{job['id']}").status_code == 401


# --- privacy -----------------------------------------------------------------------------------


def test_imported_identities_are_never_stored_in_clear(
    client: TestClient, session: Session
) -> None:
    headers = staff_headers(session)
    bad = GOOD_ROWS[1].replace(LEGAL_NAME_A, "Nom Contradictoire Secret")
    job = import_file(client, headers, csv_of(GOOD_ROWS[0], bad, GOOD_ROWS[2]), skip_bad_rows=True)
    assert job["status"] == "done"
    secrets = [
        LEGAL_NAME_A,
        LEGAL_NAME_B,
        "Nom Contradictoire Secret",
        SIRET_A,
        SIRET_B,
        "Usine Nord",
        "Serres de Lyon",
    ]
    assert not any(s in str(job["report"]) for s in secrets)

    if backend_name() == "sqlite":
        path = Path(sa.make_url(TEST_DATABASE_URL).database or "")
        stored = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    else:
        # Every column of every table, as the server returns it.
        session.rollback()
        stored = b""
        connection = session.connection()
        for table in SQLModel.metadata.sorted_tables:
            for row in connection.execute(sa.select(table)):
                stored += b"".join(v if isinstance(v, bytes) else str(v).encode() for v in row)
    assert stored
    for secret in secrets:
        assert secret.encode() not in stored, secret
    # The job's file is erased once the job is finished.
    session.rollback()
    assert session.exec(select(ImportJob.content)).one() == b""


# --- the job -----------------------------------------------------------------------------------


def test_running_a_finished_job_again_changes_nothing(client: TestClient, session: Session) -> None:
    job = import_file(client, staff_headers(session), csv_of(*GOOD_ROWS))
    before = counts(session)
    assert run_import.apply(args=[job["id"]]).get() == "done"
    assert counts(session) == before


def test_progress_is_committed_every_2000_rows(session: Session) -> None:
    staff = create_user_row(session, Role.FACILITATOR)
    rows = [GOOD_ROWS[0].replace("Cendres volantes", f"Cendres {n}") for n in range(2_500)]
    job = service.create_job(session, actor_of(staff), "big.csv", csv_of(*rows))
    session.commit()
    assert job.status == ImportStatus.PENDING and job.total_rows == 2_500

    seen: list[tuple[int, int, str]] = []

    def on_progress(processed: int, total: int) -> None:
        with Session(session.get_bind()) as other:
            stored = other.get(ImportJob, job.id)
            assert stored is not None
            seen.append((processed, total, stored.status))

    finished = service.run_job(job.id, on_progress=on_progress)
    assert seen == [(2_000, 2_500, "validating"), (2_500, 2_500, "validating")]
    assert finished.status == ImportStatus.DONE
    assert finished.processed_rows == 2_500
    assert service.read_job(finished).percent == 100


def test_an_unexpected_failure_rolls_everything_back(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff = create_user_row(session, Role.FACILITATOR)
    job = service.create_job(session, actor_of(staff), "t.csv", csv_of(*GOOD_ROWS))
    session.commit()

    def broken(*args: Any) -> int:
        raise RuntimeError(f"database exploded near {LEGAL_NAME_A}")

    # Companies and sites are written before the flows: they must be rolled back too.
    monkeypatch.setattr(service, "_flows", broken)
    finished = service.run_job(job.id)
    assert finished.status == ImportStatus.FAILED
    assert finished.report["errors"] == []
    assert "unexpected error" in finished.report["detail"]
    assert LEGAL_NAME_A not in str(finished.report)
    assert counts(session) == {"companies": 0, "sites": 0, "flows": 0, "jobs": 1}


def test_a_job_is_created_only_by_staff(session: Session) -> None:
    tenant = create_tenant(session)
    with pytest.raises(Forbidden):
        service.create_job(session, actor_of(tenant.admin), "t.csv", csv_of(*GOOD_ROWS))


# --- the parser on its own ---------------------------------------------------------------------


def test_column_names_are_case_accent_and_space_insensitive() -> None:
    assert column_name(" Low code ") == "low_code"
    assert column_name("LOW-CODE") == "low_code"
    assert column_name("Température C") == "temperature_c"


def test_line_numbers_are_those_a_spreadsheet_shows() -> None:
    content = csv_of(GOOD_ROWS[0], "", ",,,,,,,,,,,,,,,,", GOOD_ROWS[2])
    table = open_table(content)
    assert count_rows(table) == 2
    assert [row.line for row in table.rows()] == [2, 5]


def test_tab_separated_utf16_from_excel() -> None:
    text = "\n".join([HEADER.replace(",", "\t"), GOOD_ROWS[2].replace(",", "\t")])
    table = open_table(text.encode("utf-16"))
    [row] = list(table.rows())
    assert row.values["site"] == "Serres de Lyon" and row.values["quantity"] == "100"
