"""The public landing page at `/`: what Symbiose is, for whom, how to join (the facilitator's
contact from the settings), sign-in, and the territory's figures counted from the public
catalogue only, none below k."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from core.settings import get_settings
from marketplace.accounts.models import Role
from marketplace.accounts.service import actor_of
from marketplace.catalogue import service as catalogue
from marketplace.companies.models import Company, Site
from marketplace.flows.models import Direction
from privacy.generalisation import FAMILIES
from tests.factories import (
    create_company_row,
    create_flow_row,
    create_site_row,
    create_tenant,
    create_user_row,
)
from tests.test_web import login

MINERALS_FR = FAMILIES["mineraux"].label_fr

# Three sites this close share their public cell: three companies there make a listing public.
NEAR = [(51.0100, 2.3000), (51.0120, 2.3050), (51.0080, 2.2950)]


def _figure(html: str, label: str) -> str | None:
    """The number shown under a figure's label, or None when the figure is not on the page."""
    found = re.search(rf"<dt>{re.escape(label)}</dt><dd>([^<]+)</dd>", html)
    return found.group(1) if found else None


def _publish(session: Session, site: Site, company: Company, **flow: object) -> None:
    user = create_user_row(session, Role.COMPANY_ADMIN, company)
    row = create_flow_row(session, site, **flow)
    actor = actor_of(user)
    listing = catalogue.create_listing(session, actor, row.id)
    catalogue.publish(session, actor, listing)
    session.commit()


def _territory(session: Session) -> None:
    """Three companies in one cell, each offering fly ash: three public offers after the run;
    one of them also asks for wood, alone, which stays out of the public catalogue."""
    companies = []
    for n, (lat, lon) in enumerate(NEAR):
        company = create_company_row(session, f"Centrale Secrète {n} SAS")
        site = create_site_row(session, company, f"Usine Secrète {n}", lat, lon)
        _publish(session, site, company, label="Cendres volantes", low_code="10 01 02")
        companies.append((company, site))
    lone, lone_site = companies[0]
    _publish(
        session,
        lone_site,
        lone,
        direction=Direction.REQUEST,
        label="Palettes bois",
        low_code="15 01 03",
        quantity=50,
    )
    catalogue.run_publication(session)
    session.commit()


def test_a_visitor_reads_what_symbiose_is_for_whom_and_how_to_join(client: TestClient) -> None:
    page = client.get("/", follow_redirects=False)
    assert page.status_code == 200
    html = page.text
    assert "Le résidu de l'un est la ressource de l'autre" in html
    for audience in (
        "Directeurs et directrices de site",
        "Responsables achats et environnement",
        "La structure d'animation",
    ):
        assert audience in html
    assert "Comment adhérer" in html
    assert 'href="/login"' in html
    assert 'href="/catalogue"' in html
    # No facilitator contact configured: the page says whom to ask, and invents no address.
    assert "Demandez un compte à la structure d'animation de votre territoire." in html
    assert "mailto:" not in html


def test_the_landing_page_is_in_english_on_request(client: TestClient) -> None:
    html = client.get("/?lang=en").text
    assert '<html lang="en">' in html
    assert "One company's residue is another's resource" in html
    assert "Plant managers" in html and "How to join" in html
    assert "Comment adhérer" not in html


def test_how_to_join_shows_the_facilitators_contact_from_the_settings(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = get_settings()
    monkeypatch.setattr(settings, "facilitator_name", "Association Écologie Portuaire")
    monkeypatch.setattr(settings, "facilitator_email", "adhesion@eit-port.example")
    monkeypatch.setattr(settings, "facilitator_phone", "03 28 11 22 33")
    html = client.get("/").text
    assert "Association Écologie Portuaire" in html
    assert 'href="mailto:adhesion@eit-port.example"' in html
    assert 'href="tel:0328112233"' in html
    assert "Demandez un compte" not in html


def test_signed_in_users_go_on_to_their_own_first_page(
    client: TestClient, session: Session
) -> None:
    tenant = create_tenant(session)
    login(client, tenant.admin.email)
    assert client.get("/", follow_redirects=False).headers["location"] == "/flows"
    client.cookies.clear()
    login(client, create_user_row(session, Role.FACILITATOR).email)
    assert client.get("/", follow_redirects=False).headers["location"] == "/companies"


def test_an_empty_territory_shows_no_figures(client: TestClient) -> None:
    html = client.get("/").text
    assert "Ce que le territoire propose et recherche déjà" not in html
    assert _figure(html, "Offres au catalogue") is None


def test_figures_count_the_public_catalogue_only_and_name_nobody(
    client: TestClient, session: Session
) -> None:
    _territory(session)
    html = client.get("/").text
    assert _figure(html, "Offres au catalogue") == "3"
    # The lone request is not public (no cell of k companies): it is not counted, and a count of
    # zero requests is below k, so no figure is shown rather than "0".
    assert _figure(html, "Demandes au catalogue") is None
    assert MINERALS_FR in html
    # The same as the catalogue says to a visitor.
    total = client.get("/api/v1/catalogue", params={"direction": "offer"}).json()["total"]
    assert total == 3
    # No company name, site name or town of the territory's companies.
    assert "Secrète" not in html and "Dunkerque" not in html


def test_a_figure_below_k_is_not_shown(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    _territory(session)
    # Three public offers, but a territory that asks for four companies per published figure.
    monkeypatch.setattr(get_settings(), "k_anonymity", 4)
    html = client.get("/").text
    assert _figure(html, "Offres au catalogue") is None
    assert MINERALS_FR not in html
    assert "Ce que le territoire propose et recherche déjà" not in html
