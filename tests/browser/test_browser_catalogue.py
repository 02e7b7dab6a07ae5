"""A member filters the catalogue by family (htmx updates the results and the address), measures
distances from its own site, then publishes one of its flows through the preview, in headless
Chromium (the server and the page: tests/browser/conftest.py)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from sqlmodel import Session

from marketplace.accounts.models import Role
from marketplace.accounts.service import actor_of
from marketplace.catalogue import service as catalogue
from privacy.generalisation import FAMILIES
from tests.browser.conftest import CHROMIUM, BrowserPage
from tests.factories import (
    PASSWORD,
    create_company_row,
    create_flow_row,
    create_site_row,
    create_user_row,
)

MINERALS_FR = FAMILIES["mineraux"].label_fr

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]

# Sites this close share their public cell: three companies there make a listing public.
NEAR = [(51.0100, 2.3000), (51.0120, 2.3050), (51.0080, 2.2950), (51.0110, 2.2980)]
ASH: dict[str, Any] = {
    "label": "Cendres volantes",
    "low_code": "10 01 02",
    "quantity": 1200,
    "unit": "t",
}
HEAT: dict[str, Any] = {
    "kind": "heat",
    "label": "Chaleur fatale du four",
    "low_code": None,
    "quantity": 3000,
    "unit": "MWh",
    "temperature_c": 95,
}


def _territory(session: Session) -> tuple[str, str]:
    """Three neighbours publishing ash and heat; the member's company, next to them, has an ash
    flow not yet published. Returns the member's e-mail and its site's name."""
    for i, name in enumerate(("Cimenterie Bravo SAS", "Papeterie Charlie SA", "Forges Delta SAS")):
        company = create_company_row(session, name)
        admin = create_user_row(session, Role.COMPANY_ADMIN, company)
        site = create_site_row(session, company, f"Usine {name}", *NEAR[i + 1])
        for fields in (ASH, HEAT):
            flow = create_flow_row(session, site, **fields)
            listing = catalogue.create_listing(session, actor_of(admin), flow.id)
            catalogue.publish(session, actor_of(admin), listing)
            session.commit()
    # The neighbours' listings wait for the publication run, which composes the catalogue.
    catalogue.run_publication(session)
    session.commit()
    company = create_company_row(session, "Centrale Thermique Alpha SAS")
    member = create_user_row(session, Role.MEMBER, company)
    site = create_site_row(session, company, "Unité de Gravelines", *NEAR[0])
    create_flow_row(session, site, **{**ASH, "label": "Cendres volantes du silo 2"})
    return member.email, "Unité de Gravelines"


def test_member_filters_the_catalogue_then_publishes_a_flow(
    live_server: str, browser_page: BrowserPage, session: Session
) -> None:
    from playwright.sync_api import expect

    email, site_name = _territory(session)
    page, shot = browser_page.page, browser_page.shot

    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Mes flux")).to_be_visible()

    page.get_by_role("navigation").get_by_role("link", name="Catalogue").click()
    expect(page.get_by_role("heading", name="Catalogue des annonces")).to_be_visible()
    cards = page.locator("#results article.listing-card")
    expect(cards).to_have_count(6)

    # htmx: choosing a family refreshes the results and the address, not the page.
    page.get_by_label("Famille de matière").select_option(label=MINERALS_FR)
    expect(page).to_have_url(re.compile(r"/catalogue\?.*family=mineraux"))
    expect(cards).to_have_count(3)
    expect(cards.first).to_contain_text(MINERALS_FR)
    expect(cards.first).to_contain_text("10 01 02")
    expect(cards.first).to_contain_text("cendres volantes de charbon")
    expect(cards.first).to_contain_text("1 000 – 10 000 t/an")
    expect(page.locator("#results")).not_to_contain_text("Chaleur fatale du four")

    page.get_by_label("Depuis mon site").select_option(label=site_name)
    expect(page.locator("#results .distance").first).to_have_text("< 10 km")
    expect(cards).to_have_count(3)
    shot("11-catalogue-filtered")
    for neighbour in ("Cimenterie Bravo", "Papeterie Charlie", "Forges Delta", "Usine"):
        expect(page.locator("main")).not_to_contain_text(neighbour)

    page.get_by_role("navigation").get_by_role("link", name="Mes flux").click()
    row = page.get_by_role("row").filter(has_text="Cendres volantes du silo 2")
    row.get_by_role("button", name="Publier").click()

    expect(page.get_by_role("heading", name="Aperçu de l'annonce")).to_be_visible()
    preview = page.locator(".preview article.listing-card")
    expect(preview).to_contain_text("Cendres volantes du silo 2")
    expect(preview).to_contain_text("Nord (59)")
    expect(page.get_by_text("Trop peu d'entreprises comparables")).to_have_count(0)
    shot("12-listing-preview")
    page.get_by_role("button", name="Confirmer la publication").click()

    expect(page.get_by_role("heading", name="Mes annonces")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("L'annonce est publiée.")
    listing_row = page.get_by_role("row").filter(has_text="Cendres volantes du silo 2")
    expect(listing_row).to_contain_text("Publiée")
    expect(listing_row.get_by_role("button", name="Mettre en pause")).to_be_visible()
    shot("13-my-listings")

    page.get_by_role("navigation").get_by_role("link", name="Catalogue").click()
    page.get_by_label("Famille de matière").select_option(label=MINERALS_FR)
    expect(cards).to_have_count(4)
    expect(page.locator("#results")).to_contain_text("Cendres volantes du silo 2")

    assert browser_page.console_errors == [], browser_page.console_errors


def test_a_visitor_unfolds_why_then_follows_a_withdrawn_listings_link(
    live_server: str, browser_page: BrowserPage, session: Session
) -> None:
    """« Pourquoi ? » opens from the keyboard without a script of its own and links to the
    anonymity page; a withdrawn listing's link leads to a page offering the catalogue."""
    from playwright.sync_api import expect

    _territory(session)
    page, shot = browser_page.page, browser_page.shot
    page.goto(f"{live_server}/catalogue?family=mineraux")
    card = page.locator("#results article.listing-card").first
    quantity = card.get_by_text("1 000 – 10 000 t/an")
    # Folded, the words still describe the value for a screen reader.
    expect(quantity).to_have_attribute("aria-describedby", re.compile(r"-quantity$"))
    why = card.locator("details.explain").filter(has_text="Tranche de la quantité annuelle")
    expect(why.locator(".explain-text")).not_to_be_visible()
    why.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(why.locator(".explain-text")).to_be_visible()
    expect(why.locator(".explain-text")).to_contain_text("mise en relation acceptée des deux côtés")
    shot("14-why-quantity")
    why.get_by_role("link", name="Comment nous protégeons l'anonymat").click()
    expect(page.get_by_role("heading", name="Comment nous protégeons l'anonymat")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/aide/anonymat#quantite$"))
    expect(page.get_by_role("cell", name=MINERALS_FR)).to_be_visible()

    page.goto(f"{live_server}/catalogue?family=mineraux")
    target = page.locator("#results .card-title a").first.get_attribute("href")
    assert target is not None
    facilitator = actor_of(create_user_row(session, Role.FACILITATOR))
    listing = catalogue.get_listing(session, facilitator, uuid.UUID(target.rsplit("/", 1)[1]))
    catalogue.withdraw(session, facilitator, listing)
    session.commit()
    page.goto(f"{live_server}{target}")
    expect(page.get_by_role("heading", name="Annonce plus disponible")).to_be_visible()
    shot("15-listing-gone")
    page.get_by_role("link", name="Chercher dans le catalogue").click()
    expect(page.get_by_role("heading", name="Catalogue des annonces")).to_be_visible()
    # The 404 of the gone page is the browser's only complaint.
    errors = [e for e in browser_page.console_errors if "404" not in e]
    assert errors == [], errors
