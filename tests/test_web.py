"""The web pages through a TestClient: login, CSRF, locale, forms, ownership, roles, error pages."""

from __future__ import annotations

import re
import uuid
from types import SimpleNamespace
from typing import TypeVar

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from marketplace.accounts.models import Role, User, WebSession
from marketplace.companies.models import Company, Site
from marketplace.companies.service import site_name, site_position
from marketplace.flows.models import Flow
from tests.factories import (
    PASSWORD,
    create_company_row,
    create_flow_row,
    create_site_row,
    create_tenant,
    create_user_row,
    make_siret,
)

T = TypeVar("T")
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def token_in(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "no csrf_token on the page"
    return match.group(1)


def csrf_of(client: TestClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return token_in(response.text)


def reloaded(session: Session, model: type[T], key: uuid.UUID) -> T:
    """The row as the database has it now (the pages wrote it in another session)."""
    session.expire_all()
    row = session.get(model, key)
    assert row is not None
    return row


def login(client: TestClient, email: str, password: str = PASSWORD) -> None:
    token = csrf_of(client, "/login")
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def sites_of(session: Session, company: Company) -> list[Site]:
    session.expire_all()
    return list(session.exec(select(Site).where(Site.company_id == company.id)).all())


# --- login, logout, sessions -------------------------------------------------------------------


def test_login_page_is_french_and_carries_a_double_submit_token(client: TestClient) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    assert '<html lang="fr">' in response.text
    assert "Se connecter" in response.text and "Mot de passe" in response.text
    token = CSRF_INPUT.search(response.text)
    assert token and client.cookies.get("symbiose_login_csrf") == token.group(1)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_login_then_logout(client: TestClient, session: Session) -> None:
    tenant = create_tenant(session, "Alpha Ciments SAS")
    token = csrf_of(client, "/login")
    response = client.post(
        "/login",
        data={
            "email": tenant.admin.email,
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/sites",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/sites"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("symbiose_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # SYMBIOSE_ENVIRONMENT=test: plain http

    page = client.get("/flows")
    assert page.status_code == 200 and "Mes flux" in page.text

    logout = client.post(
        "/logout",
        data={"csrf_token": token_in(page.text)},
        follow_redirects=False,
    )
    assert logout.status_code == 303 and logout.headers["location"] == "/login"
    session.expire_all()
    assert session.exec(select(WebSession)).first() is None
    after = client.get("/flows", follow_redirects=False)
    assert after.status_code == 303 and after.headers["location"] == "/login?next=%2Fflows"


def test_session_cookie_is_secure_when_settings_say_so(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = create_user_row(session, Role.FACILITATOR)
    token = csrf_of(client, "/login")
    settings = SimpleNamespace(
        cookie_secure=True, secret_key="test-secret", session_max_age_seconds=3600
    )
    monkeypatch.setattr("web.security.get_settings", lambda: settings)
    monkeypatch.setattr("web.pages_auth.get_settings", lambda: settings)
    # The login token was signed with the real key: sign again under the patched one.
    from web.security import new_login_token

    token = new_login_token()
    client.cookies.set("symbiose_login_csrf", token)
    response = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("symbiose_session=")
    )
    assert "Secure" in cookie


def test_wrong_password_is_refused_in_french(client: TestClient, session: Session) -> None:
    tenant = create_tenant(session)
    token = csrf_of(client, "/login")
    response = client.post(
        "/login", data={"email": tenant.admin.email, "password": "wrong-one", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "E-mail ou mot de passe incorrect." in response.text
    assert "symbiose_session" not in client.cookies


def test_login_without_its_csrf_cookie_is_refused(client: TestClient, session: Session) -> None:
    tenant = create_tenant(session)
    token = csrf_of(client, "/login")
    client.cookies.delete("symbiose_login_csrf")
    response = client.post(
        "/login", data={"email": tenant.admin.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 403
    assert "Ce formulaire a expiré" in response.text
    # A forged cookie/field pair without the server's signature is refused too.
    client.cookies.set("symbiose_login_csrf", "forged.value")
    response = client.post(
        "/login",
        data={"email": tenant.admin.email, "password": PASSWORD, "csrf_token": "forged.value"},
    )
    assert response.status_code == 403
    session.expire_all()
    assert session.exec(select(WebSession)).first() is None


def test_login_never_redirects_to_another_site(client: TestClient, session: Session) -> None:
    tenant = create_tenant(session)
    token = csrf_of(client, "/login")
    response = client.post(
        "/login",
        data={
            "email": tenant.admin.email,
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/phish",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


@pytest.mark.parametrize(
    "path",
    [
        "/flows",
        "/flows/new",
        "/sites",
        "/company",
        "/companies",
        "/import",
        "/low-codes/search?q=cendres",
    ],
)
def test_anonymous_is_sent_to_login(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_anonymous_htmx_request_is_redirected_by_header(client: TestClient) -> None:
    response = client.get(
        "/low-codes/search?q=cendres", headers={"HX-Request": "true"}, follow_redirects=False
    )
    assert response.headers["hx-redirect"] == "/login"


def test_home_sends_each_role_to_its_first_page(client: TestClient, session: Session) -> None:
    tenant = create_tenant(session)
    login(client, tenant.admin.email)
    assert client.get("/", follow_redirects=False).headers["location"] == "/flows"
    client.cookies.clear()
    login(client, create_user_row(session, Role.FACILITATOR).email)
    assert client.get("/", follow_redirects=False).headers["location"] == "/companies"


# --- CSRF ----------------------------------------------------------------------------------------


def test_posts_without_or_with_a_wrong_csrf_token_change_nothing(
    client: TestClient, session: Session
) -> None:
    tenant = create_tenant(session)
    login(client, tenant.admin.email)
    form = {
        "name": "Usine fantôme",
        "latitude": "50.95",
        "longitude": "2.30",
        "commune": "Gravelines",
    }
    for token in (None, "", "not-the-token"):
        data = form if token is None else {**form, "csrf_token": token}
        response = client.post("/sites/new", data=data)
        assert response.status_code == 403
        assert "Accès refusé" in response.text
    withdraw = client.post(f"/flows/{tenant.flow.id}/withdraw", data={"csrf_token": "nope"})
    assert withdraw.status_code == 403
    assert len(sites_of(session, tenant.company)) == 1
    assert reloaded(session, Flow, tenant.flow.id).status == "active"


def test_htmx_posts_carry_the_token_in_a_header(client: TestClient, session: Session) -> None:
    tenant = create_tenant(session)
    login(client, tenant.admin.email)
    page = client.get("/flows")
    header = re.search(r"""<body hx-headers='\{"X-CSRF-Token": "([^"]+)"\}'>""", page.text)
    assert header, "the body carries the token for HTMX"
    response = client.post(
        f"/flows/{tenant.flow.id}/withdraw",
        headers={"X-CSRF-Token": header.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert reloaded(session, Flow, tenant.flow.id).status == "withdrawn"


# --- forms: sites and flows --------------------------------------------------------------------


def test_declare_a_site_and_a_flow_through_the_forms(client: TestClient, session: Session) -> None:
    company = create_company_row(session, "Centrale du Littoral SAS")
    admin = create_user_row(session, Role.COMPANY_ADMIN, company)
    login(client, admin.email)

    token = csrf_of(client, "/sites/new")
    response = client.post(
        "/sites/new",
        data={
            "csrf_token": token,
            "name": "Unité de Gravelines",
            "latitude": "50,9862",
            "longitude": "2,1283",
            "commune": "Gravelines",
        },
    )
    assert response.status_code == 200 and response.url.path == "/sites"
    assert "Le site est enregistré." in response.text
    assert "Unité de Gravelines" in response.text and "Nord (59)" in response.text
    assert "50,9862" in response.text and "2,1283" in response.text
    assert "Hauts-de-France" in response.text
    [site] = sites_of(session, company)
    assert (site.departement_code, site.region_code) == ("59", "32")

    token = csrf_of(client, "/flows/new")
    response = client.post(
        "/flows/new",
        data={
            "csrf_token": token,
            "direction": "offer",
            "kind": "material",
            "site_id": str(site.id),
            "label": "Cendres volantes silo 2",
            "low_code": "10 01 02",
            "quantity": "1 200,5",
            "unit": "t",
            "period": "month",
            "regularity": "continuous",
            "precision": "measured",
            "current_operation": "R 5",
            "current_cost_eur_per_unit": "12,50",
            "q": "cendres volantes",  # the picker's search box travels with the form: ignored
        },
    )
    assert response.status_code == 200 and response.url.path == "/flows"
    page = response.text
    assert "Le flux est enregistré." in page
    for words in (
        "Mes flux",
        "Offre",
        "Matière",
        "Cendres volantes silo 2",
        "10 01 02",
        "cendres volantes de charbon",
        "t/mois",
        "t/an",
        "Unité de Gravelines",
    ):
        assert words in page, words
    # French grouping and decimal comma; the rate written as the base unit's beside it (t/an).
    assert "1\u202f200,5 t/mois" in page
    session.expire_all()
    flow = session.exec(select(Flow).where(Flow.company_id == company.id)).one()
    assert flow.quantity_per_year == pytest.approx(1200.5 * 12)
    assert flow.current_operation == "R 5" and flow.current_cost_cents == 1250


def test_site_form_shows_errors_next_to_the_fields(client: TestClient, session: Session) -> None:
    tenant = create_tenant(session)
    login(client, tenant.admin.email)
    token = csrf_of(client, "/sites/new")
    response = client.post(
        "/sites/new", data={"csrf_token": token, "name": "", "latitude": "abc", "longitude": "2.3"}
    )
    assert response.status_code == 422
    assert "Ce champ est obligatoire." in response.text
    assert "Saisissez un nombre." in response.text
    response = client.post(
        "/sites/new",
        data={
            "csrf_token": token,
            "name": "Port de New York",
            "latitude": "40.7",
            "longitude": "-74.0",
        },
    )
    assert response.status_code == 422
    assert re.search(r'id="error-latitude">Cette position est hors de France', response.text)
    assert 'value="Port de New York"' in response.text  # what was typed is kept
    assert len(sites_of(session, tenant.company)) == 1


def test_a_refused_site_edit_keeps_nothing(client: TestClient, session: Session) -> None:
    tenant = create_tenant(session)
    login(client, tenant.admin.email)
    token = csrf_of(client, f"/sites/{tenant.site.id}/edit")
    response = client.post(
        f"/sites/{tenant.site.id}/edit",
        data={"csrf_token": token, "name": "Nouveau nom", "latitude": "40.7", "longitude": "-74.0"},
    )
    assert response.status_code == 422
    site = reloaded(session, Site, tenant.site.id)
    assert site_name(tenant.company, site) != "Nouveau nom"
    assert site_position(tenant.company, site).latitude == 51.0


def _new_flow_form(client: TestClient, session: Session, **fields: str) -> dict[str, str]:
    """A new tenant logged in, and the new flow form's fields: an offer of 10 t of « Boues »."""
    tenant = create_tenant(session)
    login(client, tenant.admin.email)
    return {
        "csrf_token": csrf_of(client, "/flows/new"),
        "direction": "offer",
        "kind": "material",
        "site_id": str(tenant.site.id),
        "label": "Boues",
        "quantity": "10",
        "unit": "t",
        **fields,
    }


def test_flow_form_errors_are_french_and_write_nothing(
    client: TestClient, session: Session
) -> None:
    base = _new_flow_form(client, session)
    response = client.post("/flows/new", data=base)
    assert response.status_code == 422
    assert "Une offre de matière doit avoir son code déchet." in response.text
    response = client.post("/flows/new", data={**base, "low_code": "99 99 99"})
    assert "Code déchet inconnu" in response.text
    response = client.post("/flows/new", data={**base, "low_code": "10 01 02", "unit": "barrels"})
    assert "Unité inconnue" in response.text
    response = client.post("/flows/new", data={**base, "kind": "heat", "unit": "MWh"})
    assert "La chaleur doit avoir sa température." in response.text
    session.expire_all()
    assert len(session.exec(select(Flow)).all()) == 1


def test_flow_form_takes_written_months_and_gas_in_energy(
    client: TestClient, session: Session
) -> None:
    base = _new_flow_form(
        client,
        session,
        kind="gas",
        label="Gaz de cokerie",
        quantity="1000",
        unit="MWh PCS",
        regularity="seasonal",
    )
    refused = client.post("/flows/new", data={**base, "months_text": "oct-juinet"})
    assert refused.status_code == 422
    assert "« juinet » n'est pas un mois" in refused.text.replace("&#39;", "'")
    assert 'value="oct-juinet"' in refused.text  # what was typed is kept
    # Written months and ticked boxes together: October to March, and May.
    response = client.post("/flows/new", data={**base, "months_text": "oct-mars", "months": ["5"]})
    assert response.url.path == "/flows", response.text
    assert "Gaz de cokerie" in response.text and "MWh/an" in response.text
    session.expire_all()
    flow = session.exec(select(Flow).where(Flow.kind == "gas")).one()
    assert flow.base_unit == "MWh/yr" and flow.quantity_per_year == pytest.approx(900)
    assert flow.months_mask == 0b111000010111


def test_heat_offer_ignores_the_hidden_material_fields(
    client: TestClient, session: Session
) -> None:
    tenant = create_tenant(session)
    login(client, tenant.admin.email)
    token = csrf_of(client, "/flows/new")
    response = client.post(
        "/flows/new",
        data={
            "csrf_token": token,
            "direction": "offer",
            "kind": "heat",
            "site_id": str(tenant.site.id),
            "label": "Chaleur fatale des fours",
            "quantity": "2",
            "unit": "MW",
            "temperature_c": "85",
            "medium": "eau",
            # Typed before switching to heat, then hidden by the form: not a reason to refuse.
            "low_code": "10 01 02",
            "replaces_material": "gypse naturel",
        },
    )
    assert response.url.path == "/flows", response.text
    assert "Chaleur fatale des fours" in response.text and "MWh/an" in response.text


def test_edit_then_withdraw_a_flow(client: TestClient, session: Session) -> None:
    tenant = create_tenant(session)
    login(client, tenant.admin.email)
    form = client.get(f"/flows/{tenant.flow.id}/edit")
    assert form.status_code == 200 and 'value="10 01 02"' in form.text
    token = token_in(form.text)
    response = client.post(
        f"/flows/{tenant.flow.id}/edit",
        data={
            "csrf_token": token,
            "site_id": str(tenant.site.id),
            "label": "Cendres volantes sèches",
            "low_code": "100102",
            "quantity": "900",
            "unit": "t",
            "period": "year",
            "regularity": "seasonal",
            "months": ["6", "7", "8"],
            "precision": "estimated",
        },
    )
    assert response.url.path == "/flows"
    flow = reloaded(session, Flow, tenant.flow.id)
    assert flow.label == "Cendres volantes sèches" and flow.months_mask == 0b11100000

    confirm = client.get(f"/flows/{tenant.flow.id}/withdraw")
    assert "Retirer le flux «\u00a0Cendres volantes sèches\u00a0»\u202f?" in confirm.text
    response = client.post(
        f"/flows/{tenant.flow.id}/withdraw",
        data={"csrf_token": token_in(confirm.text)},
    )
    assert "Le flux est retiré." in response.text
    assert "Cendres volantes sèches" not in response.text
    assert "Cendres volantes sèches" in client.get("/flows?withdrawn=true").text


def test_hazardous_flows_carry_the_badge(client: TestClient, session: Session) -> None:
    tenant = create_tenant(session)
    create_flow_row(session, tenant.site, label="Cendres de fioul", low_code="10 01 04")
    login(client, tenant.admin.email)
    page = client.get("/flows").text
    assert '<span class="badge danger">dangereux</span>' in page
    assert "10 01 04*" in page


# --- locale ---------------------------------------------------------------------------------------


def test_english_switch_is_remembered(client: TestClient, session: Session) -> None:
    tenant = create_tenant(session)
    login(client, tenant.admin.email)
    response = client.get("/flows?lang=en")
    assert '<html lang="en">' in response.text
    for words in (
        "My flows",
        "Declare a flow",
        "Offer",
        "Material",
        "Coal fly ash",
        "1,200 t/yr",
        "Log out",
    ):
        assert words in response.text, words
    assert "Mes flux" not in response.text
    assert client.cookies.get("symbiose_lang") == "en"
    assert "My sites" in client.get("/sites").text
    assert "Mes sites" in client.get("/sites?lang=fr").text


def test_the_users_own_locale_is_the_default(client: TestClient, session: Session) -> None:
    tenant = create_tenant(session)
    user = reloaded(session, User, tenant.admin.id)
    user.locale = "en"
    session.add(user)
    session.commit()
    assert "Se connecter" in client.get("/login").text
    login(client, tenant.admin.email)
    assert "My flows" in client.get("/flows").text


# --- ownership and roles -------------------------------------------------------------------------


def test_a_member_never_sees_another_companys_data(client: TestClient, session: Session) -> None:
    mine = create_tenant(session, "Alpha Ciments SAS")
    other = create_tenant(session, "Bravo Papeterie SA")
    create_flow_row(session, other.site, label="Boues de désencrage Bravo", low_code="03 03 05")
    member = create_user_row(session, Role.MEMBER, mine.company)
    login(client, member.email)

    for path in (
        f"/flows/{other.flow.id}/edit",
        f"/flows/{other.flow.id}/withdraw",
        f"/sites/{other.site.id}/edit",
        f"/flows/{uuid.uuid4()}/edit",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Page introuvable" in response.text
    token = csrf_of(client, "/flows")
    assert (
        client.post(f"/flows/{other.flow.id}/withdraw", data={"csrf_token": token}).status_code
        == 404
    )
    assert (
        client.post(
            f"/flows/{other.flow.id}/edit",
            data={"csrf_token": token, "label": "Volé", "quantity": "1", "unit": "t"},
        ).status_code
        == 404
    )
    for path in ("/flows", "/sites", "/company", "/flows/new"):
        text = client.get(path).text
        assert "Bravo" not in text and str(other.flow.id) not in text, path
    assert "Alpha Ciments SAS" in client.get("/company").text
    flow = reloaded(session, Flow, other.flow.id)
    assert flow.status == "active" and flow.label == "Cendres volantes"


def test_a_flow_cannot_be_moved_to_a_foreign_site(client: TestClient, session: Session) -> None:
    mine, other = create_tenant(session), create_tenant(session)
    login(client, mine.admin.email)
    token = csrf_of(client, "/flows/new")
    response = client.post(
        "/flows/new",
        data={
            "csrf_token": token,
            "direction": "offer",
            "kind": "material",
            "site_id": str(other.site.id),
            "label": "Intrus",
            "low_code": "10 01 02",
            "quantity": "5",
            "unit": "t",
        },
    )
    assert response.status_code == 422 and "Choisissez l&#39;un de vos sites." in response.text
    session.expire_all()
    assert session.exec(select(Flow).where(Flow.label == "Intrus")).first() is None


@pytest.mark.parametrize("role", [Role.MEMBER, Role.COMPANY_ADMIN])
def test_facilitator_pages_are_refused_to_company_users(
    client: TestClient, session: Session, role: Role
) -> None:
    tenant = create_tenant(session, "Alpha Ciments SAS")
    create_tenant(session, "Bravo Papeterie SA")
    login(client, create_user_row(session, role, tenant.company).email)
    for path in (
        "/companies",
        "/import",
        f"/import/{uuid.uuid4()}",
        "/console/introductions",
        f"/console/introductions/{uuid.uuid4()}",
    ):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Accès refusé" in response.text and "Bravo" not in response.text


def test_company_pages_are_refused_to_the_facilitator(client: TestClient, session: Session) -> None:
    login(client, create_user_row(session, Role.FACILITATOR).email)
    for path in (
        "/flows",
        "/sites",
        "/company",
        "/introductions",
        f"/introductions/{uuid.uuid4()}",
    ):
        assert client.get(path).status_code == 403, path


def test_facilitator_lists_the_companies(client: TestClient, session: Session) -> None:
    alpha = create_tenant(session, "Alpha Ciments SAS")
    create_site_row(session, alpha.company)
    create_tenant(session, "Bravo Papeterie SA")
    login(client, create_user_row(session, Role.FACILITATOR).email)
    page = client.get("/companies")
    assert page.status_code == 200
    assert "Entreprises du territoire" in page.text
    assert "Alpha Ciments SAS" in page.text and "Bravo Papeterie SA" in page.text
    row = re.search(r"Alpha Ciments SAS</a></td>.*?</tr>", page.text, re.S)
    assert row and re.findall(r'<td [^>]*class="num">(\d+)</td>', row.group(0)) == ["2", "1"]


def test_company_identity_is_edited_by_its_admin_only(client: TestClient, session: Session) -> None:
    tenant = create_tenant(session, "Alpha Ciments SAS")
    member = create_user_row(session, Role.MEMBER, tenant.company)
    login(client, member.email)
    page = client.get("/company")
    assert "Raison sociale" in page.text and "Alpha Ciments SAS" in page.text
    assert 'href="/company/edit"' not in page.text
    assert client.get("/company/edit").status_code == 403
    token = token_in(page.text)
    refused = client.post(
        "/company/edit", data={"csrf_token": token, "legal_name": "Pirate SA", "nace": "23.51Z"}
    )
    assert refused.status_code == 403

    client.cookies.clear()
    login(client, tenant.admin.email)
    form = client.get("/company/edit")
    token = token_in(form.text)
    bad = client.post(
        "/company/edit",
        data={
            "csrf_token": token,
            "legal_name": "Alpha Ciments SAS",
            "nace": "cement",
            "size_class": "large",
            "contact_name_0": "Camille Martin",
            "contact_email_0": "pas-un-mail",
        },
    )
    assert bad.status_code == 422
    assert "Ce n&#39;est pas un code NAF" in bad.text or "Adresse e-mail invalide." in bad.text
    saved = client.post(
        "/company/edit",
        data={
            "csrf_token": token,
            "legal_name": "Alpha Ciments SAS",
            "address": "1 quai Freycinet",
            "nace": "2351Z",
            "size_class": "large",
            "brands": "AlphaBéton\nCimAlpha",
            "contact_name_0": "Camille Martin",
            "contact_email_0": "camille@alpha.fr",
        },
    )
    assert "Les informations de votre entreprise sont enregistrées." in saved.text
    assert "1 quai Freycinet" in saved.text and "Grande entreprise" in saved.text
    assert "AlphaBéton, CimAlpha" in saved.text


# --- the LoW picker ------------------------------------------------------------------------------


def test_low_code_search_fragment(client: TestClient, session: Session) -> None:
    tenant = create_tenant(session)
    login(client, tenant.admin.email)
    response = client.get(
        "/low-codes/search", params={"q": "cendres volantes"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "cendres volantes de charbon" in response.text
    assert "<html" not in response.text  # a fragment, not a page
    assert 'hx-get="/low-codes/pick?code=100102"' in response.text
    picked = client.get("/low-codes/pick", params={"code": "100102"})
    assert 'name="low_code" value="10 01 02"' in picked.text
    assert 'id="low-options" class="low-options" hx-swap-oob="true"' in picked.text
    assert "Aucun code ne correspond" in client.get("/low-codes/search?q=zzzzqqq").text
    english = client.get("/low-codes/search", params={"q": "fly ash", "lang": "en"})
    assert "Coal fly ash" in english.text


def test_flow_form_has_the_low_picker(client: TestClient, session: Session) -> None:
    tenant = create_tenant(session)
    login(client, tenant.admin.email)
    page = client.get("/flows/new").text
    assert 'hx-get="/low-codes/search"' in page
    assert 'hx-trigger="keyup changed delay:250ms"' in page
    assert 'name="low_code"' in page  # works as a plain text field without JavaScript


# --- error pages ---------------------------------------------------------------------------------


def test_error_pages_are_french_pages_and_the_api_keeps_json(
    client: TestClient, session: Session
) -> None:
    tenant = create_tenant(session)
    login(client, tenant.admin.email)
    for path in ("/flows/not-a-uuid/edit", "/no-such-page"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "Page introuvable" in response.text and "Traceback" not in response.text
    api = client.get("/api/v1/no-such-route")
    assert api.status_code == 404 and api.json()["error"] == "NotFound"
    assert client.get("/api/v1/flows").status_code == 401


def test_an_unexpected_failure_is_a_french_500_page(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = create_tenant(session)
    login(client, tenant.admin.email)

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("web.pages_sites.list_sites", explode)
    quiet = TestClient(client.app, raise_server_exceptions=False, cookies=client.cookies)
    response = quiet.get("/sites")
    assert response.status_code == 500
    assert "Un problème est survenu" in response.text
    assert "secret internals" not in response.text and "Traceback" not in response.text


# --- the territory import ------------------------------------------------------------------------

IMPORT_HEADER = (
    "company,siret,nace,site,latitude,longitude,direction,kind,low_code,label,"
    "quantity,unit,period,regularity"
)


def test_import_runs_and_reports_bad_rows(client: TestClient, session: Session) -> None:
    login(client, create_user_row(session, Role.FACILITATOR).email)
    token = csrf_of(client, "/import")
    siret = make_siret()
    csv = "\n".join(
        [
            IMPORT_HEADER,
            f"Cimenterie du Port SAS,{siret},23.51Z,Usine,50.99,2.15,request,material,10 01 02,"
            "Cendres volantes,5000,t,year,continuous",
            f"Cimenterie du Port SAS,{siret},23.51Z,Usine,50.99,2.15,request,material,99 99 99,"
            "Inconnu,5,t,year,continuous",
            f"Cimenterie du Port SAS,{siret},23.51Z,Usine,50.99,2.15,request,palettes,,"
            "Palettes,5,t,year,continuous",
            f"Cimenterie du Port SAS,{siret},23.51Z,Usine,50.99,2.15,request,material,10 01 02,"
            "Cendres,beaucoup,t,year,continuous",
        ]
    ).encode()
    response = client.post(
        "/import",
        data={"csrf_token": token, "skip_bad_rows": "on"},
        files={"file": ("territoire.csv", csv, "text/csv")},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    job_url = response.headers["location"]
    page = client.get(job_url)
    assert page.status_code == 200 and "<progress" in page.text
    assert "Terminé" in page.text and "Lignes erronées" in page.text
    assert re.search(r'<td [^>]*class="num">3</td><td [^>]*class="code">low_code</td>', page.text)
    # Each row's reason in the page's language, found by its case, never its English words.
    assert "Code déchet inconnu" in page.text
    assert "Valeur hors de la liste\u00a0: chaleur, eau, gaz, matière." in page.text
    assert "Ce n&#39;est pas un nombre." in page.text
    assert "not one of" not in page.text and "not a number" not in page.text
    english = client.get(f"{job_url}?lang=en")
    assert "Not one of: gas, heat, material, water." in english.text
    fragment = client.get(f"{job_url}/progress")
    assert "<html" not in fragment.text
    assert 'hx-trigger="every 1s"' not in fragment.text  # finished: the polling stops


def test_a_running_import_polls_itself(client: TestClient, session: Session) -> None:
    from marketplace.accounts.service import actor_of
    from marketplace.imports import service as imports

    facilitator = create_user_row(session, Role.FACILITATOR)
    row = (
        f"X SAS,{make_siret()},23.51Z,U,50.99,2.15,offer,material,10 01 02,Cendres,1,t,year,"
        "continuous"
    )
    job = imports.create_job(
        session, actor_of(facilitator), "t.csv", f"{IMPORT_HEADER}\n{row}".encode()
    )
    session.commit()  # never started: it stays pending
    login(client, facilitator.email)
    fragment = client.get(f"/import/{job.id}/progress", headers={"HX-Request": "true"})
    assert 'hx-trigger="every 1s"' in fragment.text and "En attente" in fragment.text
    assert '<noscript><meta http-equiv="refresh"' in client.get(f"/import/{job.id}").text


def test_a_malformed_upload_is_refused_on_the_form(client: TestClient, session: Session) -> None:
    login(client, create_user_row(session, Role.FACILITATOR).email)
    token = csrf_of(client, "/import")
    response = client.post(
        "/import",
        data={"csrf_token": token},
        files={"file": ("vide.csv", b"company,siret\n", "text/csv")},
    )
    assert response.status_code == 422
    assert "Colonnes obligatoires manquantes" in response.text
    response = client.post(
        "/import", data={"csrf_token": token}, files={"file": ("notes.txt", b"hello", "text/plain")}
    )
    assert "Seuls les fichiers CSV et XLSX" in response.text
