"""The facilitator's workbench in headless Chromium: search the companies, open one, correct its
size class, then the pooled offers with their contributors (screenshots in tests/artifacts/)."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from marketplace.accounts.models import Role
from marketplace.accounts.service import actor_of
from marketplace.catalogue.pools import PoolCreate, create_pool
from tests.browser.conftest import CHROMIUM, BrowserPage
from tests.factories import PASSWORD, create_tenant, create_user_row

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


def test_the_facilitator_searches_opens_a_company_and_reads_the_pools(
    live_server: str, browser_page: BrowserPage, session: Session
) -> None:
    from playwright.sync_api import expect

    tenants = [
        create_tenant(session, name)
        for name in ("Centrale Électrique du Port SAS", "Béton du Port SA", "Briqueterie SAS")
    ]
    facilitator = create_user_row(session, Role.FACILITATOR)
    create_pool(
        session,
        actor_of(facilitator),
        PoolCreate(flow_ids=[t.flow.id for t in tenants], title="Cendres volantes du port"),
    )
    session.commit()
    page, shot = browser_page.page, browser_page.shot

    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail").fill(facilitator.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.goto(f"{live_server}/companies")
    expect(page.get_by_role("heading", name="Entreprises du territoire")).to_be_visible()
    page.get_by_label("Nom ou SIRET").fill("centrale electrique")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("link", name="Centrale Électrique du Port SAS")).to_be_visible()
    expect(page.get_by_role("link", name="Béton du Port SA")).to_have_count(0)
    shot("workbench-01-search")

    page.get_by_role("link", name="Centrale Électrique du Port SAS").click()
    expect(page.get_by_role("heading", name="Centrale Électrique du Port SAS")).to_be_visible()
    page.get_by_label("Taille d'entreprise").select_option("large")
    page.get_by_role("button", name="Enregistrer la taille").click()
    expect(page.get_by_role("status")).to_have_text("La taille de l'entreprise est enregistrée.")
    expect(page.get_by_text("Entreprise de taille moyenne → Grande entreprise")).to_be_visible()
    shot("workbench-02-company")

    page.goto(f"{live_server}/pools")
    expect(page.get_by_role("heading", name="Offres groupées")).to_be_visible()
    expect(page.get_by_role("link", name="Cendres volantes du port")).to_be_visible()
    expect(page.get_by_role("link", name="Briqueterie SAS")).to_be_visible()
    shot("workbench-03-pools")
    assert browser_page.console_errors == []
