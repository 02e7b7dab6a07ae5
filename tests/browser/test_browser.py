"""A company admin declares a site and a flow in headless Chromium, using the LoW picker
(the server and the page: tests/browser/conftest.py)."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from marketplace.accounts.models import Role
from tests.browser.conftest import CHROMIUM, BrowserPage
from tests.factories import PASSWORD, create_company_row, create_user_row

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


def test_company_admin_declares_a_site_and_a_flow(
    live_server: str, browser_page: BrowserPage, session: Session
) -> None:
    from playwright.sync_api import expect

    company = create_company_row(session, "Centrale Thermique du Littoral SAS")
    admin = create_user_row(session, Role.COMPANY_ADMIN, company)
    page, shot = browser_page.page, browser_page.shot

    page.goto(f"{live_server}/flows")
    expect(page).to_have_url(f"{live_server}/login?next=%2Fflows")
    expect(page.get_by_role("heading", name="Se connecter")).to_be_visible()
    shot("01-login")
    page.get_by_label("E-mail").fill(admin.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    expect(page).to_have_url(f"{live_server}/flows")
    expect(page.get_by_role("heading", name="Mes flux")).to_be_visible()
    expect(page.get_by_text("Déclarez d'abord un site")).to_be_visible()
    shot("02-flows-empty")

    page.get_by_role("navigation").get_by_role("link", name="Mes sites").click()
    page.get_by_role("link", name="Ajouter un site").click()
    page.get_by_label("Nom du site").fill("Unité de Gravelines")
    page.get_by_label("Latitude").fill("50,9862")
    page.get_by_label("Longitude").fill("2,1283")
    page.get_by_label("Commune").fill("Gravelines")
    shot("03-site-form")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_have_text("Le site est enregistré.")
    expect(page.get_by_role("cell", name="Nord (59)")).to_be_visible()
    shot("04-sites")

    page.get_by_role("link", name="Mes flux").click()
    page.get_by_role("link", name="Déclarer un flux").first.click()
    expect(page.get_by_role("heading", name="Déclarer un flux")).to_be_visible()
    # Heat has no LoW code: the picker hides (CSS only), then comes back for a material.
    page.get_by_role("radio", name="Chaleur").check()
    expect(page.locator("#field-low_code")).to_be_hidden()
    expect(page.get_by_label("Température (°C)")).to_be_visible()
    page.get_by_role("radio", name="Matière").check()
    expect(page.locator("#field-low_code")).to_be_visible()

    page.get_by_label("Intitulé").fill("Cendres volantes du silo 2")
    page.get_by_label("Trouver le code par mots-clés").press_sequentially(
        "cendres volantes", delay=40
    )
    option = page.get_by_role("button", name="cendres volantes de charbon")
    expect(option).to_be_visible()
    shot("05-low-picker")
    option.click()
    expect(page.locator("#field-low_code")).to_have_value("10 01 02")
    expect(page.locator("#low-code-field .low-chosen")).to_have_text("cendres volantes de charbon")
    expect(page.locator("#low-options li")).to_have_count(0)
    page.locator("#field-quantity").fill("120 000")
    page.locator("#field-unit").fill("t")
    shot("06-flow-form")
    page.get_by_role("button", name="Enregistrer").click()

    expect(page).to_have_url(f"{live_server}/flows?notice=flow-saved")
    expect(page.get_by_role("status")).to_have_text("Le flux est enregistré.")
    row = page.get_by_role("row").filter(has_text="Cendres volantes du silo 2")
    expect(row).to_contain_text("Offre")
    expect(row).to_contain_text("10 01 02")
    expect(row).to_contain_text("cendres volantes de charbon")
    expect(row).to_contain_text("120\u202f000 t/an")
    expect(row).to_contain_text("Unité de Gravelines")
    expect(page.get_by_role("heading", name="Mes flux")).to_be_visible()
    shot("07-flows")

    assert browser_page.console_errors == [], browser_page.console_errors
