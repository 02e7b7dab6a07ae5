"""The « Pourquoi ? » beside each generalised value of a card, on the pages a reader meets, and
the page they link to, « Comment nous protégeons l'anonymat »."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from core import ratelimit
from marketplace.accounts.models import Role
from marketplace.accounts.service import actor_of
from marketplace.catalogue import explanations
from marketplace.catalogue import service as catalogue
from privacy.generalisation import CHAPTER_FAMILY, FAMILIES, LocationLevel, MaterialLevel
from tests.factories import create_company_row, create_flow_row, create_site_row, create_user_row
from tests.test_web import login

NEAR = [(51.0100, 2.3000), (51.0120, 2.3050), (51.0080, 2.2950), (51.0110, 2.2980)]
ASH: dict[str, Any] = {"label": "Cendres volantes", "low_code": "10 01 02", "quantity": 1357.9}
DESCRIBED = re.compile(r'aria-describedby="([^"]+)"')


@pytest.fixture(autouse=True)
def fresh_rate_limit() -> Iterator[None]:
    ratelimit.reset()
    yield
    ratelimit.reset()


@pytest.fixture
def neighbours(session: Session) -> dict[str, Any]:
    """Three neighbours' public ash, at code and cell level; a fourth company reads."""
    ids = []
    for i in range(3):
        company = create_company_row(session, f"Voisin {i} SAS")
        admin = create_user_row(session, Role.COMPANY_ADMIN, company)
        site = create_site_row(session, company, f"Usine {i}", *NEAR[i])
        actor = actor_of(admin)
        listing = catalogue.create_listing(session, actor, create_flow_row(session, site, **ASH).id)
        catalogue.publish(session, actor, listing)
        ids.append(listing.id)
    catalogue.run_publication(session)
    reader_company = create_company_row(session, "Lecteur SA")
    reader = create_user_row(session, Role.COMPANY_ADMIN, reader_company)
    site = create_site_row(session, reader_company, "Usine du lecteur", *NEAR[3])
    session.commit()
    return {"ids": ids, "reader": reader.email, "site": site.id}


def described_ids_exist(page: str) -> None:
    """Every aria-describedby names one element of the page (unique ids)."""
    targets = DESCRIBED.findall(page)
    assert targets
    for target in targets:
        assert page.count(f'id="{target}"') == 1, target


def test_a_visitor_reads_why_each_value_is_shown_as_it_is(
    client: TestClient, neighbours: dict[str, Any]
) -> None:
    page = client.get("/catalogue").text
    text = html.unescape(page)
    assert text.count("Pourquoi ?") == 3 * 3  # material, quantity, place on each card
    for words in (
        explanations.MATERIAL_LEVELS[MaterialLevel.CODE],
        explanations.LOCATION_LEVELS[LocationLevel.CELL],
        explanations.QUANTITY_BAND,
    ):
        assert text.count(words.say("fr")) == 3
    assert 'href="/aide/anonymat#emplacement"' in page
    assert 'href="/aide/anonymat">' in page  # beside the catalogue's introduction too
    described_ids_exist(page)

    one = client.get(f"/catalogue/{neighbours['ids'][0]}?lang=en")
    english = html.unescape(one.text)
    assert "Why?" in english and explanations.QUANTITY_BAND.say("en") in english
    described_ids_exist(one.text)


def test_a_member_reads_why_a_distance_is_a_band(
    client: TestClient, neighbours: dict[str, Any]
) -> None:
    login(client, neighbours["reader"])
    page = client.get(f"/catalogue?from_site={neighbours['site']}").text
    assert html.unescape(page).count(explanations.DISTANCE_FROM_OWN_SITE.say("fr")) == 3
    assert 'href="/aide/anonymat#distance"' in page
    described_ids_exist(page)


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_the_anonymity_page_explains_every_level(client: TestClient, locale: str) -> None:
    response = client.get(f"/aide/anonymat?lang={locale}")
    assert response.status_code == 200
    text = html.unescape(response.text)
    title = "Comment nous protégeons l'anonymat" if locale == "fr" else "How we protect anonymity"
    assert f"<h1>{title}</h1>" in text
    for section in explanations.HELP_SECTIONS:
        assert f'id="{section}"' in response.text
    for level in MaterialLevel:
        assert explanations.material_note(level, locale).text in text
    for location in LocationLevel:
        assert explanations.location_note(location, locale).text in text
    for key in set(CHAPTER_FAMILY.values()):
        family = FAMILIES[key]
        assert (family.label_fr if locale == "fr" else family.label_en) in text
    assert ("1 000 – 10 000 t/an" if locale == "fr" else "1,000 – 10,000 t/yr") in text
    assert "80–200 km" in text and "90–150 °C" in text
