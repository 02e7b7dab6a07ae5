"""A company admin places a site with the map in headless Chromium: a click where Lyon is drawn
fills the coordinates and names the Rhône, the Rhône's own map opens for a finer click, and the
site saved lies in 69 (the server and the page: tests/browser/conftest.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import Session, select

from marketplace.accounts.models import Role
from marketplace.companies.models import Site
from tests import ban_standin
from tests.browser.conftest import CHROMIUM, BrowserPage
from tests.factories import PASSWORD, create_company_row, create_user_row

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]

LYON = (45.7640, 4.8357)
WIDER_THAN_SCREEN = "document.documentElement.scrollWidth > window.innerWidth"
# Where a position is drawn on a map, in the page's coordinates: the map's own projection
# (data-*, as core/reference/projection.py) and the browser's transform of the SVG to the screen.
ON_SCREEN = """([svg, latitude, longitude]) => {
  const lat0 = Number(svg.dataset.latitude), lon0 = Number(svg.dataset.longitude);
  const scale = Number(svg.dataset.scale);
  const point = svg.createSVGPoint();
  point.x = (longitude - lon0) * Math.cos(lat0 * Math.PI / 180) * scale;
  point.y = (lat0 - latitude) * scale;
  const screen = point.matrixTransform(svg.getScreenCTM());
  return [screen.x, screen.y];
}"""


def _click_at(page: Any, selector: str, latitude: float, longitude: float) -> None:
    svg = page.locator(selector)
    # The département's map scrolls inside its frame: bring the frame into the window, not the
    # map (which would scroll the frame back to the map's corner).
    frame = page.locator("#site-map-zoom .site-map-frame")
    (frame if "zoom" in selector else svg).scroll_into_view_if_needed()
    x, y = svg.evaluate(f"(svg) => ({ON_SCREEN})([svg, {latitude}, {longitude}])")
    hit = page.evaluate(
        "([x, y, s]) => { const e = document.elementFromPoint(x, y); return !!e?.closest(s) }",
        [x, y, selector],
    )
    assert hit is True, f"({latitude}, {longitude}) is not in sight on {selector}"
    page.mouse.click(x, y)


def _number(page: Any, name: str) -> float:
    return float(page.locator(f"#field-{name}").input_value().replace(",", "."))


@pytest.mark.parametrize("width", [1280, 375])
def test_a_member_places_its_site_in_lyon_by_clicking_the_map(
    live_server: str, browser_page: BrowserPage, session: Session, width: int
) -> None:
    from playwright.sync_api import expect

    company = create_company_row(session, "Chimie du Rhône SAS")
    admin = create_user_row(session, Role.COMPANY_ADMIN, company)
    page, shot = browser_page.page, browser_page.shot
    page.set_viewport_size({"width": width, "height": 900})

    page.goto(f"{live_server}/login?next=/sites/new")
    page.get_by_label("E-mail").fill(admin.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Ajouter un site")).to_be_visible()
    expect(page.get_by_role("img", name="Carte de la France métropolitaine")).to_be_visible()
    page.get_by_label("Nom du site").fill("Usine de Gerland")

    _click_at(page, "svg.site-map-overview", *LYON)
    # One pixel of France's map is some 1.6 km: the click lands within a few of them.
    expect(page.locator("#site-place")).to_contain_text("Rhône (69)")
    expect(page.locator("#site-place")).to_contain_text("Auvergne-Rhône-Alpes")
    expect(page.locator("#field-latitude")).to_have_value(re.compile(r"^4[56]\.\d{4}$"))
    assert abs(_number(page, "latitude") - LYON[0]) < 0.05
    assert abs(_number(page, "longitude") - LYON[1]) < 0.05
    expect(page.locator("svg.site-map-overview .site-marker")).to_be_visible()
    zoom = page.locator("#site-map-zoom svg.site-map-zoom")
    expect(zoom).to_be_visible()
    expect(page.get_by_role("img", name="Carte : Rhône")).to_be_visible()
    expect(zoom.locator(".site-marker")).to_be_visible()
    assert not page.evaluate(WIDER_THAN_SCREEN)
    shot(f"site-map-france-{width}")

    _click_at(page, "#site-map-zoom svg.site-map-zoom", *LYON)
    # The Rhône's own map is drawn at 100 m per pixel, and gives five decimals (France's, four).
    expect(page.locator("#field-latitude")).to_have_value(re.compile(r"^45\.7[5-7]\d{3}$"))
    assert abs(_number(page, "latitude") - LYON[0]) < 0.002
    assert abs(_number(page, "longitude") - LYON[1]) < 0.002
    expect(page.locator("#site-place")).to_contain_text("Rhône (69)")
    assert not page.evaluate(WIDER_THAN_SCREEN)
    shot(f"site-map-rhone-{width}")

    # Typed by hand (the keyboard's way), the check follows: a point in Berlin is refused.
    page.locator("#field-longitude").fill("13,40")
    page.locator("#field-latitude").fill("52,52")
    page.locator("#field-latitude").press("Tab")
    expect(page.locator("#site-place")).to_contain_text("hors de France")
    _click_at(page, "#site-map-zoom svg.site-map-zoom", *LYON)
    expect(page.locator("#site-place")).to_contain_text("Rhône (69)")

    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_have_text("Le site est enregistré.")
    expect(page.get_by_role("cell", name="Rhône (69)")).to_be_visible()
    shot(f"site-map-saved-{width}")
    session.expire_all()
    sites = session.exec(select(Site).where(Site.company_id == company.id)).all()
    assert [site.departement_code for site in sites] == ["69"]

    # An overseas département opens its own map, its middle in sight.
    page.goto(f"{live_server}/sites/new")
    page.get_by_role("button", name="La Réunion").click()
    expect(page.get_by_role("img", name="Carte : La Réunion")).to_be_visible()
    _click_at(page, "#site-map-zoom svg.site-map-zoom", -21.13, 55.53)
    expect(page.locator("#site-place")).to_contain_text("La Réunion (974)")
    assert browser_page.console_errors == [], "\n".join(browser_page.console_errors)


@pytest.fixture
def server_with_address_search(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The application started with SYMBIOSE_ADDRESS_SERVICE_URL naming the BAN stand-in."""
    with ban_standin.running() as address_service:
        monkeypatch.setenv("SYMBIOSE_ADDRESS_SERVICE_URL", address_service)
        yield request.getfixturevalue("live_server")


def test_a_member_finds_its_address_and_the_suggestion_places_the_site(
    server_with_address_search: str, browser_page: BrowserPage, session: Session
) -> None:
    from playwright.sync_api import expect

    live_server = server_with_address_search
    company = create_company_row(session, "Imprimerie de la Presqu'île SAS")
    admin = create_user_row(session, Role.COMPANY_ADMIN, company)
    page, shot = browser_page.page, browser_page.shot

    page.goto(f"{live_server}/login?next=/sites/new")
    page.get_by_label("E-mail").fill(admin.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_label("Nom du site").fill("Atelier des Cordeliers")
    page.get_by_label("Rechercher une adresse").press_sequentially("12 rue de la Rép", delay=20)
    choice = page.get_by_role("button", name="12 Rue de la République 69002 Lyon")
    expect(choice).to_be_visible()
    shot("site-map-address-suggestions")
    choice.click()
    expect(page.locator("#field-latitude")).to_have_value("45.757800")
    expect(page.locator("#field-longitude")).to_have_value("4.835000")
    expect(page.get_by_label("Commune")).to_have_value("Lyon")
    expect(page.locator("#site-place")).to_contain_text("Rhône (69)")
    expect(choice).to_be_hidden()

    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.post_data or "") if r.method == "POST" else None)
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("status")).to_have_text("Le site est enregistré.")
    expect(page.get_by_role("cell", name="Rhône (69)")).to_be_visible()
    # The address typed stays out of the site's form: it is not kept.
    assert any("Atelier" in body for body in sent)
    assert not any("address=" in body or "rue" in body for body in sent), sent

    page.goto(f"{live_server}/sites/new")
    page.get_by_label("Rechercher une adresse").fill("rue en panne")
    expect(page.get_by_text("Le service d'adresses ne répond pas")).to_be_visible()
    assert browser_page.console_errors == [], "\n".join(browser_page.console_errors)
