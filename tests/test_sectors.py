"""Sector codes: the NAF rév. 2 / NACE Rev. 2 nomenclature as reference data, codes accepted as
European data (NACE class) and French data (NAF subclass) write them, shown with their label."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from core.reference.models import Sector
from core.reference.sectors import SectorRefused, parse_sector, sector_label
from marketplace.accounts.models import Role
from marketplace.companies.models import Company
from tests.factories import bearer, create_tenant, create_user_row
from tests.test_import import GOOD_ROWS, csv_of, import_file, staff_headers
from tests.test_web import login


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("35.11Z", "35.11Z"),  # a NAF subclass
        ("3511Z", "35.11Z"),  # without its dot (INSEE's APE as printed)
        ("35.11z", "35.11Z"),
        (" 35 11 Z ", "35.11Z"),
        ("35.11", "35.11Z"),  # a NACE class with a single NAF subclass: the same activity
        ("3511", "35.11Z"),
        ("10.51", "10.51"),  # a class with four subclasses stays a class: no guess
        ("10.51C", "10.51C"),
        ("2362", "23.62Z"),  # plasterboard makers
    ],
)
def test_a_code_is_stored_at_the_most_precise_level_given(typed: str, stored: str) -> None:
    assert parse_sector(typed).code == stored


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("99.99Z", "unknown"),  # shaped like a subclass, absent from the nomenclature
        ("35.11A", "unknown"),  # a class that exists, a subclass that does not
        ("12.34", "unknown"),
        ("35", "shape"),  # a division is no company's sector
        ("35.1", "shape"),
        ("cement", "shape"),
        ("", "shape"),
    ],
)
def test_a_code_absent_or_misshapen_is_refused_with_its_reason(typed: str, reason: str) -> None:
    with pytest.raises(SectorRefused) as refused:
        parse_sector(typed)
    assert refused.value.reason == reason


def test_the_nomenclature_is_loaded_as_a_reference_table(session: Session) -> None:
    counts = dict(session.exec(select(Sector.level, func.count()).group_by(Sector.level)).all())
    assert counts == {"division": 88, "group": 272, "class": 615, "subclass": 732}
    cement = session.get(Sector, "23.51Z")
    assert cement is not None and cement.parent == "23.51"
    assert cement.label_fr == "Fabrication de ciment"
    assert sector_label("23.51Z") == "Fabrication de ciment"
    assert sector_label("23.5") == session.get(Sector, "23.5").label_fr  # type: ignore[union-attr]


def test_the_api_accepts_a_nace_class_and_refuses_an_unknown_code(
    client: TestClient, session: Session
) -> None:
    staff = bearer(session, create_user_row(session, Role.FACILITATOR))
    base = {"legal_name": "Plâtrerie du Nord SAS", "siret": "73282932000074"}
    unknown = client.post("/api/v1/companies", headers=staff, json=base | {"nace": "99.99Z"})
    assert unknown.status_code == 422
    assert unknown.json()["field"] == "nace" and "99.99Z" in unknown.json()["detail"]
    assert session.exec(select(func.count()).select_from(Company)).one() == 0

    created = client.post("/api/v1/companies", headers=staff, json=base | {"nace": "2362"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["nace"] == "23.62Z"
    assert body["nace_label"].startswith("Fabrication d'éléments en plâtre")

    url = f"/api/v1/companies/{body['id']}"
    changed = client.patch(url, headers=staff, json={"nace": "10.51"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["nace"] == "10.51"
    refused = client.patch(url, headers=staff, json={"nace": "10.5"})
    assert refused.status_code == 422 and refused.json()["field"] == "nace"
    session.expire_all()
    assert session.get(Company, uuid.UUID(body["id"])).nace == "10.51"  # type: ignore[union-attr]


def test_an_import_takes_nace_classes_and_naf_subclasses(
    client: TestClient, session: Session
) -> None:
    rows = [GOOD_ROWS[0].replace("24.51Z", "2451"), GOOD_ROWS[2].replace("0113Z", "01.13")]
    job = import_file(client, staff_headers(session), csv_of(*rows))
    assert job["status"] == "done", job
    stored = sorted(session.exec(select(Company.nace)).all())
    assert stored == ["01.13Z", "24.51Z"]


def test_the_company_page_shows_the_sectors_label(client: TestClient, session: Session) -> None:
    tenant = create_tenant(session, "Cimenterie Label SAS")
    tenant.company.nace = "23.51Z"
    session.add(tenant.company)
    admin = create_user_row(session, Role.COMPANY_ADMIN, tenant.company)
    login(client, admin.email)
    page = client.get("/company")
    assert page.status_code == 200, page.text[:300]
    assert "23.51Z" in page.text and "Fabrication de ciment" in page.text
