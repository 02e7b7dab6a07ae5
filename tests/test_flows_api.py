"""Declaring sites and flows through the API: normalised quantities and bad input refused."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from marketplace.accounts.models import Role
from marketplace.companies.models import Site
from marketplace.flows.models import Flow
from tests.factories import bearer, create_tenant, create_user_row


def _flow(site_id: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "site_id": site_id,
        "direction": "offer",
        "kind": "material",
        "label": "Gypse FGD",
        "low_code": "10 01 05",
        "quantity": 50,
        "unit": "t",
        "period": "week",
        "regularity": "continuous",
        "current_operation": "D5",
        "current_cost_eur_per_unit": 32.5,
    }
    body.update(changes)
    return body


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.exec(select(func.count()).select_from(model)).one())


def test_a_company_declares_a_site_and_flows_normalised_per_kind(
    client: TestClient, session: Session
) -> None:
    tenant = create_tenant(session)
    site = client.post(
        "/api/v1/sites",
        headers=tenant.headers,
        json={"name": "Usine Nord", "latitude": 50.99, "longitude": 2.19, "commune": "Loon-Plage"},
    )
    assert site.status_code == 201, site.text
    assert site.json()["departement_code"] == "59" and site.json()["region_code"] == "32"
    site_id = site.json()["id"]

    gypsum = client.post("/api/v1/flows", headers=tenant.headers, json=_flow(site_id))
    assert gypsum.status_code == 201, gypsum.text
    body = gypsum.json()
    assert body["quantity_per_year"] == pytest.approx(50 * 365 / 7)
    assert body["base_unit"] == "t/yr" and body["unit"] == "t" and body["hazardous"] is False
    assert body["current_operation"] == "D 5" and body["current_cost_eur_per_unit"] == 32.5

    heat = client.post(
        "/api/v1/flows",
        headers=tenant.headers,
        json=_flow(
            site_id,
            kind="heat",
            low_code=None,
            label="Chaleur fatale",
            quantity=2,
            unit="MW",
            temperature_c=90,
            regularity="seasonal",
            months=[10, 11, 12, 1, 2, 3],
            current_operation=None,
            current_cost_eur_per_unit=None,
        ),
    )
    assert heat.status_code == 201, heat.text
    assert heat.json()["quantity_per_year"] == pytest.approx(2 * 8760 / 2)
    assert heat.json()["base_unit"] == "MWh/yr" and heat.json()["months"] == [1, 2, 3, 10, 11, 12]

    water = client.post(
        "/api/v1/flows",
        headers=tenant.headers,
        json=_flow(
            site_id,
            kind="water",
            direction="request",
            low_code=None,
            label="Eau tiède",
            quantity=120,
            unit="m3",
            period="day",
            current_operation=None,
            current_cost_eur_per_unit=None,
            replaces_material="eau de forage",
        ),
    )
    assert water.status_code == 201, water.text
    assert water.json()["quantity_per_year"] == pytest.approx(120 * 365)

    listed = client.get("/api/v1/flows", headers=tenant.headers).json()
    assert {f["label"] for f in listed} >= {"Gypse FGD", "Chaleur fatale", "Eau tiède"}


def test_edit_and_withdraw_a_flow(client: TestClient, session: Session) -> None:
    tenant = create_tenant(session)
    url = f"/api/v1/flows/{tenant.flow.id}"
    edited = client.patch(url, headers=tenant.headers, json={"quantity": 3, "unit": "kt"})
    assert edited.status_code == 200, edited.text
    assert edited.json()["quantity_per_year"] == pytest.approx(3000)
    bad = client.patch(url, headers=tenant.headers, json={"unit": "MWh"})
    assert bad.status_code == 422 and bad.json()["field"] == "unit"
    withdrawn = client.post(f"{url}/withdraw", headers=tenant.headers)
    assert withdrawn.json()["status"] == "withdrawn"
    assert client.get("/api/v1/flows", headers=tenant.headers).json() == []
    # A withdrawn flow's state forbids the change: a conflict naming that state, like a second
    # withdrawal.
    for late in (
        client.patch(url, headers=tenant.headers, json={"quantity": 4}),
        client.post(f"{url}/withdraw", headers=tenant.headers),
    ):
        assert late.status_code == 409 and late.json()["field"] == "status", late.text
        assert "withdrawn" in late.json()["detail"]


def test_months_as_text_and_gas_in_energy_units(client: TestClient, session: Session) -> None:
    tenant = create_tenant(session)
    gas = client.post(
        "/api/v1/flows",
        headers=tenant.headers,
        json=_flow(
            str(tenant.site.id),
            kind="gas",
            low_code=None,
            label="Gaz de haut fourneau",
            quantity=1000,
            unit="MWh PCS",
            period="year",
            regularity="seasonal",
            months="10-3",
        ),
    )
    assert gas.status_code == 201, gas.text
    body = gas.json()
    # PCS → PCI: × 0.9, the usual ratio of natural gas.
    assert body["quantity_per_year"] == pytest.approx(900) and body["base_unit"] == "MWh/yr"
    assert body["unit"] == "MWh PCS" and body["months"] == [1, 2, 3, 10, 11, 12]
    url = f"/api/v1/flows/{body['id']}"
    edited = client.patch(
        url, headers=tenant.headers, json={"unit": "Nm3", "months": "janv.-mars, Sept"}
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["base_unit"] == "m3/yr" and edited.json()["quantity_per_year"] == 1000
    assert edited.json()["months"] == [1, 2, 3, 9]
    for unit, per_year in (("kWhPCI", 1), ("MWh_pcs", 900), ("GWh", 1e6), ("MWh (HHV)", 900)):
        again = client.patch(url, headers=tenant.headers, json={"unit": unit})
        assert again.status_code == 200, again.text
        assert again.json()["quantity_per_year"] == pytest.approx(per_year), unit
        assert again.json()["base_unit"] == "MWh/yr"
    refused = client.patch(url, headers=tenant.headers, json={"months": "oct-juinet"})
    assert refused.status_code == 422 and refused.json()["field"] == "months"
    assert "« juinet » is not a month" in refused.json()["detail"]
    # Months and unit are as before the refusal.
    assert client.get(url, headers=tenant.headers).json()["months"] == [1, 2, 3, 9]


BAD_FLOWS = [
    ({"low_code": "99 99 99"}, "low_code", "unknown List of Waste code"),
    ({"low_code": "10 01 04", "hazardous": False}, "hazardous", "hazardous"),
    ({"low_code": "10 01 02", "hazardous": True}, "hazardous", "non-hazardous"),
    ({"low_code": None}, "low_code", "needs its List of Waste code"),
    ({"quantity": -3}, "quantity", "greater than zero"),
    ({"quantity": 0}, "quantity", "greater than zero"),
    ({"unit": "barrels"}, "unit", "unknown unit"),
    ({"quantity": "beaucoup"}, "quantity", "number"),
    ({"direction": "gift"}, "direction", "offer"),
    ({"regularity": "seasonal", "months": []}, "months", "months"),
    ({"regularity": "seasonal", "months": [13]}, "months", "1 to 12"),
    ({"regularity": "seasonal", "months": "10-3;juinet"}, "months", "« juinet » is not a month"),
    ({"regularity": "seasonal", "months": "10-"}, "months", "not a range of months"),
    ({"regularity": "seasonal", "months": " "}, "months", "needs the months"),
    ({"months": "1" * 201}, "months", "200 characters"),
    ({"kind": "gas", "low_code": None, "unit": "MWh PCX"}, "unit", "unknown unit"),
    ({"kind": "heat", "low_code": None, "unit": "MWh"}, "temperature_c", "temperature"),
    ({"current_operation": "R 99"}, "current_operation", "unknown recovery"),
    ({"replaces_material": "sable"}, "replaces_material", "request"),
    ({"colour": "green"}, "colour", "Extra inputs"),
]


@pytest.mark.parametrize(("changes", "field", "reason"), BAD_FLOWS)
def test_bad_flows_are_refused_naming_the_field_and_nothing_is_written(
    client: TestClient, session: Session, changes: dict, field: str, reason: str
) -> None:
    tenant = create_tenant(session)
    before = _count(session, Flow)
    response = client.post(
        "/api/v1/flows", headers=tenant.headers, json=_flow(str(tenant.site.id), **changes)
    )
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert reason in response.json()["detail"]
    assert _count(session, Flow) == before


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(51.5074, -0.1278), (45.0, -20.0), (40.4, -3.7), (0.0, 0.0), (91.0, 2.0)],
)
def test_positions_outside_france_are_refused(
    client: TestClient, session: Session, lat: float, lon: float
) -> None:
    tenant = create_tenant(session)
    before = _count(session, Site)
    response = client.post(
        "/api/v1/sites",
        headers=tenant.headers,
        json={"name": "Ailleurs", "latitude": lat, "longitude": lon},
    )
    assert response.status_code == 422
    assert response.json()["field"] == "latitude"
    assert _count(session, Site) == before


def test_overseas_and_quay_positions_are_placed(client: TestClient, session: Session) -> None:
    tenant = create_tenant(session)
    cases = {(-20.93, 55.29): "974", (16.24, -61.53): "971", (51.045, 2.36): "59"}
    for (lat, lon), departement in cases.items():
        response = client.post(
            "/api/v1/sites",
            headers=tenant.headers,
            json={"name": f"Site {lat}", "latitude": lat, "longitude": lon},
        )
        assert response.status_code == 201, response.text
        assert response.json()["departement_code"] == departement


def test_a_duplicate_site_name_is_a_conflict(client: TestClient, session: Session) -> None:
    tenant = create_tenant(session)
    body = {"name": "Usine Sud", "latitude": 50.95, "longitude": 2.3}
    assert client.post("/api/v1/sites", headers=tenant.headers, json=body).status_code == 201
    again = client.post("/api/v1/sites", headers=tenant.headers, json=body)
    assert again.status_code == 409 and again.json()["field"] == "name"


def test_the_facilitator_registers_companies_with_checked_sirets(
    client: TestClient, session: Session
) -> None:
    staff = bearer(session, create_user_row(session, Role.FACILITATOR))
    base = {
        "legal_name": "Briqueterie des Flandres SAS",
        "nace": "2332Z",
        "size_class": "small",
        "contacts": [{"name": "Léa Dubois", "email": "lea@briqueterie.example"}],
    }
    bad = client.post("/api/v1/companies", headers=staff, json=base | {"siret": "73282932000075"})
    assert bad.status_code == 422 and bad.json()["field"] == "siret"
    good = client.post(
        "/api/v1/companies", headers=staff, json=base | {"siret": "732 829 320 00074"}
    )
    assert good.status_code == 201, good.text
    assert good.json()["siret"] == "73282932000074" and good.json()["nace"] == "23.32Z"
    again = client.post("/api/v1/companies", headers=staff, json=base | {"siret": "73282932000074"})
    assert again.status_code == 409


def test_company_members_read_their_identity_and_only_admins_change_it(
    client: TestClient, session: Session
) -> None:
    tenant = create_tenant(session, "Verrerie Opale SAS")
    member = bearer(session, create_user_row(session, Role.MEMBER, tenant.company))
    url = f"/api/v1/companies/{tenant.company.id}"
    assert client.get(url, headers=member).json()["legal_name"] == "Verrerie Opale SAS"
    assert client.patch(url, headers=member, json={"address": "x"}).status_code == 403
    changed = client.patch(url, headers=tenant.headers, json={"address": "1 quai Est"})
    assert changed.status_code == 200 and changed.json()["address"] == "1 quai Est"


def test_api_login_issues_a_bearer_token(client: TestClient, session: Session) -> None:
    user = create_user_row(session, Role.MEMBER, create_tenant(session).company, email="a@b.fr")
    wrong = client.post("/api/v1/auth/token", json={"email": "a@b.fr", "password": "nope"})
    assert wrong.status_code == 401
    token = client.post(
        "/api/v1/auth/token", json={"email": "a@b.fr", "password": "correct-horse-battery"}
    ).json()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.json()["id"] == str(user.id)


def test_low_search_by_code_and_by_words_in_both_languages(client: TestClient) -> None:
    by_code = client.get("/api/v1/reference/low-codes", params={"q": "10 01 0"}).json()
    assert by_code[0]["spaced"] == "10 01 01"
    french = client.get("/api/v1/reference/low-codes", params={"q": "Cendres VOLANTES charbon"})
    # The label's own words first; then the neighbours the knowledge base names (10 01 01).
    assert french.json()[0]["spaced"] == "10 01 02"
    english = client.get("/api/v1/reference/low-codes", params={"q": "wooden packaging"}).json()
    assert "15 01 03" in [r["spaced"] for r in english]
    accents = client.get("/api/v1/reference/low-codes", params={"q": "dechets metalliques"})
    assert accents.status_code == 200 and accents.json()


def test_errors_have_one_shape(client: TestClient) -> None:
    response = client.get("/api/v1/flows/not-a-uuid", headers={"Authorization": "Bearer x"})
    assert response.status_code == 401
    assert set(response.json()) >= {"error", "detail"}
