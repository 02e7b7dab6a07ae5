"""The site form's map and its helpers: the projection, the drawn maps, the département checked
as the position is typed or clicked, and the address search through the national address service
(a stand-in process, tests/ban_standin.py: the one faked gateway)."""

from __future__ import annotations

import html
import logging
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from core import addresses, ratelimit
from core.reference.map_svg import OVERSEAS_CODES, departement_map, metropole_map
from core.reference.projection import METROPOLE, Projection
from core.settings import get_settings
from tests import ban_standin
from tests.browser.conftest import _free_port
from tests.factories import create_tenant
from tests.test_web import csrf_of, login

LYON = (45.7640, 4.8357)


# --- the projection ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "projection",
    [METROPOLE, Projection(latitude=16.2, longitude=-61.5, pixels_per_degree=1112.0)],
)
@pytest.mark.parametrize(
    "position",
    [LYON, (41.37, 9.18), (51.09, 2.54), (48.0, -4.8), (-21.1, 55.5), (4.9, -52.3), (0.0, 0.0)],
)
def test_the_projection_comes_back_to_the_position_it_started_from(
    projection: Projection, position: tuple[float, float]
) -> None:
    x, y = projection.forward(*position)
    latitude, longitude = projection.inverse(x, y)
    assert abs(latitude - position[0]) < 1e-6 and abs(longitude - position[1]) < 1e-6


def test_the_projection_puts_north_up_and_east_right_at_a_true_scale() -> None:
    lyon = METROPOLE.forward(*LYON)
    paris = METROPOLE.forward(48.8566, 2.3522)
    assert paris[1] < lyon[1], "north is up (y grows southwards, as in SVG)"
    assert paris[0] < lyon[0], "Paris is west of Lyon"
    # Lyon to Paris is about 392 km as the crow flies.
    km = ((lyon[0] - paris[0]) ** 2 + (lyon[1] - paris[1]) ** 2) ** 0.5 * (
        METROPOLE.metres_per_pixel / 1000
    )
    assert 380 < km < 405


# --- the maps ------------------------------------------------------------------------------------


def test_france_is_drawn_with_its_96_metropolitan_departements_and_lyon_within_it() -> None:
    drawn = metropole_map()
    codes = {area.code for area in drawn.areas}
    assert len(codes) == 96 and {"2A", "2B", "69", "75", "29"} <= codes
    assert not codes & set(OVERSEAS_CODES)
    left, top, width, height = drawn.box
    x, y = drawn.projection.forward(*LYON)
    assert left < x < left + width and top < y < top + height
    assert metropole_map() is drawn, "drawn once, then kept"


@pytest.mark.parametrize("code", ["69", "973", "2A"])
def test_a_departement_alone_is_drawn_at_100_m_per_pixel(code: str) -> None:
    drawn = departement_map(code)
    assert drawn is not None and [a.code for a in drawn.areas] == [code]
    assert drawn.projection.metres_per_pixel == pytest.approx(100)
    assert departement_map("99") is None


# --- the pages -----------------------------------------------------------------------------------


def test_the_site_form_shows_the_map_the_overseas_maps_and_no_address_field_by_default(
    client: TestClient, session: Session
) -> None:
    tenant = create_tenant(session)
    login(client, tenant.admin.email)
    for path in ("/sites/new", f"/sites/{tenant.site.id}/edit"):
        page = client.get(path).text
        assert page.count('<path d="M') == 96
        assert 'role="img"' in page and 'aria-describedby="site-map-hint"' in page
        assert '<script src="/static/sitemap.js" defer></script>' in page
        assert "<script>" not in page, "no inline script (the CSP forbids it)"
        for code in OVERSEAS_CODES:
            assert f'hx-get="/sites/map/{code}"' in page
        assert "Guadeloupe" in page and "La Réunion" in page
        assert 'name="address"' not in page
    assert client.get("/static/sitemap.js").status_code == 200


def test_a_departement_map_is_a_fragment_and_an_unknown_code_a_404(
    client: TestClient, session: Session
) -> None:
    login(client, create_tenant(session).admin.email)
    response = client.get("/sites/map/69")
    assert response.status_code == 200
    assert "Rhône (69) : cliquez pour placer le site plus finement." in response.text
    assert 'data-kind="zoom"' in response.text and response.text.count("<path") == 1
    english = client.get("/sites/map/974?lang=en")
    assert "La Réunion (974): click to place the site more finely." in english.text
    for code in ("99", "..%2F..", "x" * 300, "<b>"):
        assert client.get(f"/sites/map/{code}").status_code == 404


def _check(client: TestClient, token: str, **fields: str) -> httpx.Response:
    return client.post("/sites/place", data=fields, headers={"X-CSRF-Token": token})


def test_the_departement_is_checked_as_the_position_changes(
    client: TestClient, session: Session
) -> None:
    login(client, create_tenant(session).admin.email)
    token = csrf_of(client, "/sites/new")
    found = _check(client, token, latitude="45,7640", longitude="4,8357")
    assert found.status_code == 200
    assert "Département : Rhône (69) · Région : Auvergne-Rhône-Alpes" in found.text
    # A quay just off the simplified coast still finds its département, as the save does.
    quay = _check(client, token, latitude="51.0606", longitude="2.3412")
    assert quay.status_code == 200 and "(59)" in quay.text
    overseas = _check(client, token, latitude="-20.88", longitude="55.45")
    assert "(974)" in overseas.text

    client.cookies.set("symbiose_lang", "en")
    english = _check(client, token, latitude="45.7640", longitude="4.8357")
    assert "Département: Rhône (69) · Région: Auvergne-Rhône-Alpes" in english.text
    outside = _check(client, token, latitude="52.52", longitude="13.40")
    assert outside.status_code == 200
    assert "This position is outside France" in outside.text
    not_a_number = _check(client, token, latitude="north", longitude="4.8")
    assert "Latitude: Enter a number." in not_a_number.text


@pytest.mark.parametrize(
    ("latitude", "longitude", "words"),
    [
        ("52.52", "13.40", "Cette position est hors de France"),
        ("quarante", "4.8", "Latitude : Saisissez un nombre."),
        ("NaN", "4.8", "Latitude"),
        ("45.7", "inf", "Longitude"),
        ("1e308", "4.8", "Latitude"),
        ("95", "4.8", "Latitude : Doit valoir au plus 90"),
        ("45.7", "-1000", "Longitude"),
        ("45.7", "4.8" * 500, "Longitude"),
        ("", "4.8", "Saisissez une latitude et une longitude"),
        # A point of the sea between Corsica and the mainland: in France's box, in no département.
        ("42.5", "7.5", "Cette position n'est dans aucun département français."),
    ],
)
def test_a_bad_position_gets_a_message_in_place_never_a_500(
    client: TestClient, session: Session, latitude: str, longitude: str, words: str
) -> None:
    login(client, create_tenant(session).admin.email)
    token = csrf_of(client, "/sites/new")
    response = _check(client, token, latitude=latitude, longitude=longitude)
    assert response.status_code == 200
    assert 'class="site-place refused"' in response.text
    assert words in html.unescape(response.text)
    assert "Département :" not in response.text


def test_the_map_routes_need_a_signed_in_member_and_the_check_its_token(
    client: TestClient, session: Session
) -> None:
    for method, path in (("get", "/sites/map/69"), ("post", "/sites/place")):
        response = client.request(method, path, follow_redirects=False)
        assert response.status_code in (303, 403), (path, response.status_code)
        assert "Rhône" not in response.text
    login(client, create_tenant(session).admin.email)
    refused = client.post("/sites/place", data={"latitude": "45.76", "longitude": "4.83"})
    assert refused.status_code == 403 and "Rhône" not in refused.text


# --- the address search --------------------------------------------------------------------------


@pytest.fixture
def address_service() -> Iterator[str]:
    with ban_standin.running() as url:
        yield url


def _search(client: TestClient, token: str, address: str) -> httpx.Response:
    return client.post("/sites/address", data={"address": address}, headers={"X-CSRF-Token": token})


def test_the_address_search_lists_the_services_suggestions_and_never_logs_the_address(
    client: TestClient,
    session: Session,
    address_service: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(get_settings(), "address_service_url", address_service)
    login(client, create_tenant(session).admin.email)
    page = client.get("/sites/new").text
    assert 'name="address"' in page and 'form="address-search-form"' in page
    token = csrf_of(client, "/sites/new")

    caplog.set_level(logging.DEBUG)
    response = _search(client, token, "12 rue de la République Lyon")
    assert response.status_code == 200
    assert "12 Rue de la République 69002 Lyon" in response.text
    assert 'data-latitude="45.7578" data-longitude="4.835" data-city="Lyon"' in response.text
    assert "Gravelines" in response.text
    assert "République" not in caplog.text and "R%C3%A9publique" not in caplog.text

    assert _search(client, token, "12").text.strip() == "", "fewer than 3 characters: no search"
    assert "Aucune adresse trouvée." in _search(client, token, "rue vide").text


@pytest.mark.parametrize("words", ["rue en panne", "rue en lenteur", "rue en charabia"])
def test_a_failing_address_service_gets_a_clear_message_not_a_500(
    client: TestClient,
    session: Session,
    address_service: str,
    monkeypatch: pytest.MonkeyPatch,
    words: str,
) -> None:
    monkeypatch.setattr(get_settings(), "address_service_url", address_service)
    monkeypatch.setattr(addresses, "TIMEOUT_SECONDS", 0.5)
    login(client, create_tenant(session).admin.email)
    token = csrf_of(client, "/sites/new")
    response = _search(client, token, words)
    assert response.status_code == 200
    assert "Le service d&#39;adresses ne répond pas" in response.text


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:{port}", "ftp://adresses.example", "http://[::1"]
)
def test_a_service_nobody_listens_on_or_a_wrong_url_gets_the_same_message(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    url = url.format(port=_free_port())
    monkeypatch.setattr(get_settings(), "address_service_url", url)
    login(client, create_tenant(session).admin.email)
    response = _search(client, csrf_of(client, "/sites/new"), "rue de la Paix")
    assert response.status_code == 200 and "ne répond pas" in response.text


def test_the_address_search_is_rate_limited_per_user(
    client: TestClient, session: Session, address_service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "address_service_url", address_service)
    monkeypatch.setattr("web.pages_sites.ADDRESS_SEARCHES_PER_MINUTE", 3)
    # One minute for all the searches: no window's edge falls between them.
    monkeypatch.setattr(ratelimit, "_now", lambda: 1_800_000_030.0)
    tenant = create_tenant(session)
    login(client, tenant.admin.email)
    token = csrf_of(client, "/sites/new")
    answers = [_search(client, token, f"rue numéro {n}") for n in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert "Lyon" not in answers[3].text and "Trop de recherches" in answers[3].text
    # Another member's budget is its own.
    client.cookies.clear()
    login(client, create_tenant(session).admin.email)
    other = _search(client, csrf_of(client, "/sites/new"), "rue numéro 6")
    assert other.status_code == 200 and "Lyon" in other.text


def test_with_the_setting_off_the_address_route_is_a_404(
    client: TestClient, session: Session
) -> None:
    assert get_settings().address_service_url == ""
    login(client, create_tenant(session).admin.email)
    response = _search(client, csrf_of(client, "/sites/new"), "12 rue de la République")
    assert response.status_code == 404
    assert "République" not in response.text
