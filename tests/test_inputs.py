"""Input validation at the edge (issue 8): every bad value is a 422 naming its field and the
reason, and nothing of the request is stored."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from marketplace.accounts.models import ApiToken, Role
from marketplace.alerts.models import SavedSearch
from marketplace.catalogue.models import Listing
from marketplace.companies.models import Site
from marketplace.flows.models import Flow
from tests.factories import Tenant, bearer, create_tenant, create_user_row
from tests.test_flows_api import _flow as flow_body
from tests.test_web import csrf_of, login

BIDI_AND_CONTROLS = ["\u202e", "\u202a", "\u2066", "\u2069", "\x00", "\x07", "\x1b", "\x7f"]


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.exec(select(func.count()).select_from(model)).one())


def _refused(response: Any, field: str, reason: str = "") -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "Invalid" and body["field"] == field, body
    assert reason in body["detail"], body


def _flow(tenant: Tenant, **changes: Any) -> dict[str, Any]:
    return flow_body(str(tenant.site.id), **{"period": "year", **changes})


def _send(client: TestClient, method: str, url: str, headers: dict[str, str], body: Any) -> Any:
    """A JSON body as a hostile client writes it: Infinity and NaN included (httpx refuses
    them, the JSON parser of the server reads them)."""
    content = json.dumps(body)  # allow_nan: Infinity, NaN
    headers = {**headers, "Content-Type": "application/json"}
    return client.request(method, url, headers=headers, content=content)


def _stored_flow(client: TestClient, tenant: Tenant) -> dict[str, Any]:
    response = client.get(f"/api/v1/flows/{tenant.flow.id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return {k: v for k, v in response.json().items() if k != "low_label_fr"}


# --- PATCH with null -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    [
        "label",
        "unit",
        "quantity",
        "period",
        "regularity",
        "months",
        "precision",
        "quality_spec",
        "description",
        "site_id",
    ],
)
def test_null_for_a_field_that_always_holds_a_value_is_refused_naming_it(
    client: TestClient, session: Session, field: str
) -> None:
    tenant = create_tenant(session)
    before = _stored_flow(client, tenant)
    response = client.patch(
        f"/api/v1/flows/{tenant.flow.id}", headers=tenant.headers, json={field: None}
    )
    _refused(response, field, "null")
    assert _stored_flow(client, tenant) == before


def test_null_clears_a_field_that_may_be_empty(client: TestClient, session: Session) -> None:
    tenant = create_tenant(session)
    response = client.patch(
        f"/api/v1/flows/{tenant.flow.id}",
        headers=tenant.headers,
        json={"current_cost_eur_per_unit": None, "current_operation": None},
    )
    assert response.status_code == 200, response.text
    assert response.json()["current_cost_eur_per_unit"] is None
    assert response.json()["current_operation"] is None


# --- numbers ---------------------------------------------------------------------------------


BAD_NUMBERS = [
    ({"current_cost_eur_per_unit": 1e17}, "current_cost_eur_per_unit", "less than or equal"),
    # Its cents would pass PostgreSQL's 32-bit INTEGER column (a 500 there before the bound).
    ({"virgin_price_eur_per_unit": 2.2e7}, "virgin_price_eur_per_unit", "less than or equal"),
    ({"current_cost_eur_per_unit": 1e300}, "current_cost_eur_per_unit", "less than or equal"),
    ({"current_cost_eur_per_unit": math.inf}, "current_cost_eur_per_unit", ""),
    ({"current_cost_eur_per_unit": math.nan}, "current_cost_eur_per_unit", ""),
    ({"current_cost_eur_per_unit": True}, "current_cost_eur_per_unit", "boolean"),
    ({"quantity": 1e308, "unit": "kt"}, "quantity", "less than or equal"),
    ({"quantity": math.inf}, "quantity", ""),
    # Within the declared bound, beyond the yearly one once converted: 1e9 kt a day.
    ({"quantity": 1e9, "unit": "kt", "period": "day"}, "quantity", "too large"),
    ({"quantity": True}, "quantity", "boolean"),
    ({"months": [1, 1], "regularity": "seasonal"}, "months", "at most once"),
    ({"months": [True], "regularity": "seasonal"}, "months.0", "boolean"),
    ({"months": list(range(1, 14)), "regularity": "seasonal"}, "months", "at most 12"),
]


@pytest.mark.parametrize(("changes", "field", "reason"), BAD_NUMBERS)
def test_numbers_out_of_bounds_or_not_numbers_are_refused_on_create_and_edit(
    client: TestClient, session: Session, changes: dict[str, Any], field: str, reason: str
) -> None:
    tenant = create_tenant(session)
    before = _stored_flow(client, tenant)
    created = _send(client, "POST", "/api/v1/flows", tenant.headers, _flow(tenant, **changes))
    _refused(created, field, reason)
    url = f"/api/v1/flows/{tenant.flow.id}"
    edited = _send(client, "PATCH", url, tenant.headers, changes)
    _refused(edited, field, reason)
    assert _count(session, Flow) == 1
    assert _stored_flow(client, tenant) == before


def test_the_largest_price_allowed_is_stored_to_the_cent(
    client: TestClient, session: Session
) -> None:
    tenant = create_tenant(session)
    url = f"/api/v1/flows/{tenant.flow.id}"
    edited = _send(client, "PATCH", url, tenant.headers, {"current_cost_eur_per_unit": 1e7})
    assert edited.status_code == 200, edited.text
    assert _stored_flow(client, tenant)["current_cost_eur_per_unit"] == 1e7


NO_ROUTE = {"current_operation": None, "current_cost_eur_per_unit": None}


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        (
            {"direction": "request", "virgin_price_eur_per_unit": 1e17},
            "virgin_price_eur_per_unit",
            "",
        ),
        (
            {"kind": "heat", "low_code": None, "quantity": 1e9, "unit": "MW", "temperature_c": 90},
            "quantity",
            "too large",
        ),
    ],
)
def test_a_request_price_or_a_heat_power_beyond_its_bound_is_refused(
    client: TestClient, session: Session, changes: dict[str, Any], field: str, reason: str
) -> None:
    tenant = create_tenant(session)
    body = _flow(tenant, **NO_ROUTE, **changes)
    _refused(client.post("/api/v1/flows", headers=tenant.headers, json=body), field, reason)
    assert _count(session, Flow) == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("offset=9223372036854775808", "offset"),
        ("offset=100001", "offset"),
        ("offset=-1", "offset"),
        ("limit=501", "limit"),
        ("limit=99999999999999999999", "limit"),
    ],
)
def test_list_paging_beyond_its_bounds_is_refused(
    client: TestClient, session: Session, query: str, field: str
) -> None:
    tenant = create_tenant(session)
    _refused(client.get(f"/api/v1/flows?{query}", headers=tenant.headers), field)


def test_the_deepest_allowed_page_answers(client: TestClient, session: Session) -> None:
    tenant = create_tenant(session)
    response = client.get("/api/v1/flows?offset=100000&limit=500", headers=tenant.headers)
    assert response.status_code == 200 and response.json() == []


# --- text ------------------------------------------------------------------------------------


@pytest.mark.parametrize("char", [*BIDI_AND_CONTROLS, "\n", "\u2028"])
def test_a_label_with_control_or_direction_characters_is_refused(
    client: TestClient, session: Session, char: str
) -> None:
    tenant = create_tenant(session)
    before = _stored_flow(client, tenant)
    label = f"Gypse{char}FGD"
    created = client.post("/api/v1/flows", headers=tenant.headers, json=_flow(tenant, label=label))
    _refused(created, "label", "not allowed")
    edited = client.patch(
        f"/api/v1/flows/{tenant.flow.id}", headers=tenant.headers, json={"label": label}
    )
    _refused(edited, "label", "not allowed")
    assert _count(session, Flow) == 1 and _stored_flow(client, tenant) == before


@pytest.mark.parametrize("char", BIDI_AND_CONTROLS)
def test_free_text_refuses_the_same_characters(
    client: TestClient, session: Session, char: str
) -> None:
    tenant = create_tenant(session)
    body = _flow(tenant, description=f"ligne{char}")
    _refused(client.post("/api/v1/flows", headers=tenant.headers, json=body), "description")


@pytest.mark.parametrize("label", ["", "   ", "\t\u00a0 \u3000"])
def test_a_blank_label_is_refused(client: TestClient, session: Session, label: str) -> None:
    tenant = create_tenant(session)
    created = client.post("/api/v1/flows", headers=tenant.headers, json=_flow(tenant, label=label))
    _refused(created, "label")
    assert _count(session, Flow) == 1


def test_text_is_stored_trimmed_and_nfc_with_lines_kept_in_free_text(
    client: TestClient, session: Session
) -> None:
    tenant = create_tenant(session)
    body = _flow(
        tenant,
        label="  Gypse cale\u0301 ",
        description=" Ligne 1\r\nLigne 2\tfin ",
        unit=" t ",
    )
    created = client.post("/api/v1/flows", headers=tenant.headers, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["label"] == "Gypse calé"
    assert created.json()["description"] == "Ligne 1\nLigne 2\tfin"
    assert created.json()["unit"] == "t"


def test_lengths_are_counted_after_normalisation(client: TestClient, session: Session) -> None:
    tenant = create_tenant(session)
    # 400 code points as sent, 200 once composed: the limit is 200.
    body = _flow(tenant, label="e\u0301" * 200)
    created = client.post("/api/v1/flows", headers=tenant.headers, json=body)
    assert created.status_code == 201, created.text
    _refused(
        client.post("/api/v1/flows", headers=tenant.headers, json=_flow(tenant, label="é" * 201)),
        "label",
    )


# --- companies, sites, searches, pools, tokens, catalogue -------------------------------------


def _identity(client: TestClient, tenant: Tenant) -> dict[str, Any]:
    response = client.get(f"/api/v1/companies/{tenant.company.id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"brands": ["x" * 1_000_000]}, "brands.0"),
        ({"brands": ["Marque", "   "]}, "brands.1"),
        ({"brands": ["Mar\u202eque"]}, "brands.0"),
        ({"brands": [f"Marque {n}" for n in range(21)]}, "brands"),
        ({"legal_name": "Acme\x00 SAS"}, "legal_name"),
        ({"address": "1 rue\nde la Paix"}, "address"),
        ({"contacts": [{"name": "Camille\u2067 Martin"}]}, "contacts.0.name"),
    ],
)
def test_a_company_identity_with_bad_text_is_refused(
    client: TestClient, session: Session, changes: dict[str, Any], field: str
) -> None:
    tenant = create_tenant(session)
    before = _identity(client, tenant)
    response = client.patch(
        f"/api/v1/companies/{tenant.company.id}", headers=tenant.headers, json=changes
    )
    _refused(response, field)
    assert _identity(client, tenant) == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "Usine\u202e Nord"}, "name"),
        ({"name": "  "}, "name"),
        ({"commune": "Loon\x00Plage"}, "commune"),
        ({"latitude": True}, "latitude"),
        ({"longitude": math.nan}, "longitude"),
    ],
)
def test_a_site_with_bad_input_is_refused(
    client: TestClient, session: Session, changes: dict[str, Any], field: str
) -> None:
    tenant = create_tenant(session)
    body = {"name": "Usine Nord", "latitude": 50.99, "longitude": 2.19, "commune": "Loon-Plage"}
    _refused(_send(client, "POST", "/api/v1/sites", tenant.headers, body | changes), field)
    assert _count(session, Site) == 1
    edited = _send(client, "PATCH", f"/api/v1/sites/{tenant.site.id}", tenant.headers, changes)
    _refused(edited, field)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Cendres\u2066 du Nord"}, "name"),
        ({"name": "\x1b[31mCendres"}, "name"),
        ({"name": "Cendres", "filters": {f"k{n}": "x" for n in range(21)}}, "filters"),
        ({"name": "Cendres", "filters": {"q": "cendres\x00"}}, "filters.q"),
    ],
)
def test_a_saved_search_with_bad_input_is_refused(
    client: TestClient, session: Session, body: dict[str, Any], field: str
) -> None:
    tenant = create_tenant(session)
    _refused(client.post("/api/v1/saved-searches", headers=tenant.headers, json=body), field)
    assert _count(session, SavedSearch) == 0


def test_a_pool_title_with_direction_characters_is_refused(
    client: TestClient, session: Session
) -> None:
    tenants = [create_tenant(session) for _ in range(2)]
    staff = bearer(session, create_user_row(session, Role.FACILITATOR))
    body = {
        "flow_ids": [str(t.flow.id) for t in tenants],
        "area": "region",
        "title": "Lot \u202ecommun",
    }
    _refused(client.post("/api/v1/pools", headers=staff, json=body), "title")
    assert _count(session, Listing) == 0


def test_a_token_name_with_control_characters_is_refused(
    client: TestClient, session: Session
) -> None:
    user = create_user_row(session, Role.FACILITATOR)
    before = _count(session, ApiToken)
    body = {"email": user.email, "password": "irrelevant", "token_name": "ci\u202ebot"}
    _refused(client.post("/api/v1/auth/token", json=body), "token_name")
    assert _count(session, ApiToken) == before


@pytest.mark.parametrize(
    ("query", "field"),
    [("q=cendres%00", "q"), ("low_code=" + "1" * 5000, "low_code"), ("limit=true", "limit")],
)
def test_catalogue_search_parameters_are_checked(
    client: TestClient, query: str, field: str
) -> None:
    _refused(client.get(f"/api/v1/catalogue?{query}"), field)


def test_the_list_of_waste_search_refuses_control_characters(client: TestClient) -> None:
    _refused(client.get("/api/v1/reference/low-codes?q=cendres%00"), "q", "not allowed")


# --- every request schema is bounded --------------------------------------------------------


def _unbounded(schema: dict[str, Any], defs: dict[str, Any], where: str) -> list[str]:
    """Where a request schema lets through a string, a list or a map of any size."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _unbounded(defs[name], defs, f"{where}<{name}>")
    found: list[str] = []
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            found += _unbounded(option, defs, where)
    kind = schema.get("type")
    if kind == "string" and not {"maxLength", "enum", "const"} & set(schema):
        # An upload's size is bounded by the request guard (api/guard.py), not its schema; a
        # date, a time, a UUID or an e-mail by its format.
        upload = "contentMediaType" in schema or schema.get("format") == "binary"
        if not upload and schema.get("format") not in ("uuid", "date", "date-time", "email"):
            found.append(where)
    if kind == "array":
        if "maxItems" not in schema:
            found.append(where)
        found += _unbounded(schema.get("items", {}), defs, f"{where}[]")
    if kind == "object":
        if (
            schema.get("additionalProperties") not in (None, False)
            and "maxProperties" not in schema
        ):
            found.append(where)
        for name, sub in schema.get("properties", {}).items():
            found += _unbounded(sub, defs, f"{where}.{name}")
    if kind == "integer" and "maximum" not in schema:
        found.append(where)
    if kind == "number" and "maximum" not in schema and "exclusiveMaximum" not in schema:
        found.append(where)
    return found


def test_every_request_input_of_the_api_has_a_documented_bound(client: TestClient) -> None:
    openapi = client.get("/api/v1/openapi.json").json()
    defs = openapi["components"]["schemas"]
    unbounded: list[str] = []
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                where = f"{method} {path} {parameter['name']}"
                unbounded += _unbounded(parameter.get("schema", {}), defs, where)
            for media in operation.get("requestBody", {}).get("content", {}).values():
                unbounded += _unbounded(media.get("schema", {}), defs, f"{method} {path} body")
    assert unbounded == [], "\n".join(unbounded)


# --- the web forms -------------------------------------------------------------------------

FORBIDDEN_CHARACTER_FR = "Ce texte contient un caractère interdit"


def _form_refusal(client: TestClient, path: str, form: dict[str, str]) -> str:
    """The page a form answers with when it refuses: 422, never a 500 nor a redirect."""
    response = client.post(path, data={"csrf_token": csrf_of(client, path), **form})
    assert response.status_code == 422, response.text[:500]
    return response.text


def test_the_flow_form_shows_the_refusals_in_french_on_their_fields(
    client: TestClient, session: Session
) -> None:
    tenant = create_tenant(session)
    login(client, tenant.admin.email)
    form = {
        "direction": "offer",
        "kind": "material",
        "site_id": str(tenant.site.id),
        "label": "Cendres",
        "low_code": "10 01 02",
        "quantity": "1e9",
        "unit": "kt",
        "period": "day",
        "regularity": "continuous",
        "precision": "measured",
    }
    page = _form_refusal(client, "/flows/new", form)
    assert 'id="error-quantity"' in page
    assert "La quantité est trop grande une fois convertie en quantité annuelle." in page

    page = _form_refusal(
        client, "/flows/new", form | {"quantity": "1e308", "label": "Cendres\u202e volantes"}
    )
    assert FORBIDDEN_CHARACTER_FR in page
    assert 'id="error-label"' in page and 'id="error-quantity"' in page
    assert _count(session, Flow) == 1


def test_the_saved_search_form_refuses_direction_characters_in_french(
    client: TestClient, session: Session
) -> None:
    tenant = create_tenant(session)
    login(client, tenant.admin.email)
    page = _form_refusal(client, "/saved-searches", {"name": "Cendres\u202e du Nord"})
    assert FORBIDDEN_CHARACTER_FR in page
    assert _count(session, SavedSearch) == 0
