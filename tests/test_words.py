"""Finding codes and listings by the words people use (issue 10): the List of Waste picker reads
practitioners' words in French and English through the knowledge base's vocabulary; the
catalogue's word search matches a listing's own words (never its family's label), ranks by
relevance and says how many listings match, as many as its pages show."""

from __future__ import annotations

import importlib.util
import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core import ratelimit
from core.db import get_engine
from marketplace.accounts.models import Role, User
from marketplace.accounts.service import actor_of
from marketplace.catalogue import cache, cards, service
from marketplace.catalogue import search as catalogue_search
from marketplace.catalogue.models import Listing, public_where
from marketplace.catalogue.search import BAND_KEYS, Origin
from privacy.generalisation import EARTH_RADIUS_KM, haversine_km
from tests.factories import (
    bearer,
    create_company_row,
    create_flow_row,
    create_site_row,
    create_tenant,
    create_user_row,
)
from tests.test_web import login
from web import catalogue_form

LOW_URL = "/api/v1/reference/low-codes"
URL = "/api/v1/catalogue"


def codes(client: TestClient, q: str, **params: Any) -> list[str]:
    response = client.get(LOW_URL, params={"q": q, **params})
    assert response.status_code == 200, response.text
    return [row["spaced"] for row in response.json()]


# --- the List of Waste picker --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "first"),
    [
        ("palettes", "15 01 03"),  # wooden packaging: no official label says "palettes"
        ("Palette", "15 01 03"),
        ("gypse de désulfuration", "10 01 05"),  # FGD gypsum: the label says "calcium-based"
        ("gypse de desulfuration", "10 01 05"),
        ("fly ash", "10 01 02"),
        ("FGD gypsum", "10 01 05"),
        ("Cendres VOLANTES charbon", "10 01 02"),  # the official label's words, as before
        ("wooden packaging", "15 01 03"),
    ],
)
def test_the_picker_finds_codes_by_practitioners_words(
    client: TestClient, words: str, first: str
) -> None:
    assert codes(client, words)[0] == first


def test_one_word_may_name_several_codes(client: TestClient) -> None:
    # Spent yeast: from brewing and distilling (02 07 04) or from pharmaceutical fermentation.
    found = codes(client, "levure", limit=5)
    assert {"02 07 04", "07 05 12"} <= set(found)
    assert codes(client, "yeast", limit=5)[0] in found


def test_codes_typed_as_digits_still_work(client: TestClient) -> None:
    assert codes(client, "10 01 0")[:3] == ["10 01 01", "10 01 02", "10 01 03"]
    assert codes(client, "150103") == ["15 01 03"]
    assert codes(client, "10", entries_only="false")[0] == "10"


def test_words_that_name_nothing_find_nothing(client: TestClient) -> None:
    assert codes(client, "zzzzqqq") == []
    # A code the vocabulary names through one word of several is not proposed: "usagées" alone
    # does not make used pallets waste oils (13 ...).
    pallets = codes(client, "palettes en bois usagées")
    assert pallets[:2] == ["15 01 03", "17 02 01"]
    assert not any(code.startswith("13") for code in pallets)


def test_the_picker_fragment_ranks_by_the_same_words(client: TestClient, session: Session) -> None:
    login(client, create_tenant(session).admin.email)
    fragment = client.get(
        "/low-codes/search", params={"q": "palettes"}, headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200
    assert fragment.text.index("/low-codes/pick?code=150103") < fragment.text.index(
        "/low-codes/pick?code=170201"
    )
    assert "emballages en bois" in fragment.text
    english = client.get("/low-codes/search", params={"q": "gypse de désulfuration", "lang": "en"})
    assert english.text.index("code=100105") < english.text.index("code=100107")
    assert "Calcium-based reaction wastes" in english.text
    levure = client.get("/low-codes/search", params={"q": "levure"}).text
    assert "code=020704" in levure and "code=070512" in levure


# --- the catalogue's word search -----------------------------------------------------------------

ASH = {"direction": "offer", "kind": "material", "low_code": "10 01 02", "unit": "t"}
CONCRETE = {"direction": "offer", "kind": "material", "low_code": "17 01 01", "unit": "t"}
GYPSUM = {"direction": "offer", "kind": "material", "low_code": "10 01 05", "unit": "t"}
HEAT = {"direction": "offer", "kind": "heat", "low_code": None, "unit": "MWh", "temperature_c": 90}
# Three companies of one département, so every cell holds three legal units and is shown.
PLACES = ((50.99, 2.13), (50.95, 2.25), (51.02, 2.40))
TITLES: dict[str, tuple[tuple[dict[str, Any], str], ...]] = {
    "ash": (
        (ASH, "Cendres volantes de charbon"),
        (ASH, "Cendres de chaudière"),
        (ASH, "Résidus de combustion"),  # "cendres volantes" only in its List of Waste label
    ),
    "concrete": ((CONCRETE, "Béton de démolition concassé"),) * 3,
    "gypsum": ((GYPSUM, "Gypse de désulfuration"),) * 3,
    "heat": ((HEAT, "Vapeur basse pression"),) * 3,
}


@dataclass
class World:
    names: dict[uuid.UUID, str]  # listing id → "ash_0"...


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    ratelimit.reset()
    cache.responses.clear()
    yield
    ratelimit.reset()
    cache.responses.clear()


@pytest.fixture
def world(session: Session) -> World:
    staff = actor_of(User(id=uuid.uuid4(), email="x", password_hash="", role=Role.FACILITATOR))
    names: dict[uuid.UUID, str] = {}
    for number, (latitude, longitude) in enumerate(PLACES):
        company = create_company_row(session, f"Société {number} SAS")
        site = create_site_row(session, company, latitude=latitude, longitude=longitude)
        for name, flows in TITLES.items():
            fields, title = flows[number]
            flow = create_flow_row(session, site, **fields, label=title, quantity=100 + number)
            listing = service.create_listing(session, staff, flow.id)
            service.publish(session, staff, listing)
            session.commit()
            names[listing.id] = f"{name}_{number}"
    service.run_publication(session)
    session.commit()
    shown = {names[x.id] for x in session.exec(select(Listing)).all() if not x.brokered_only}
    assert shown == set(names.values())
    return World(names)


def found(
    client: TestClient, world: World, headers: dict[str, str] | None = None, **params: Any
) -> tuple[list[str], int]:
    """Every listing the pages show, in order, and the total each page announced."""
    names: list[str] = []
    totals: set[int] = set()
    cursor = None
    for _ in range(20):
        response = client.get(
            URL,
            params={"limit": 2, **params, **({"cursor": cursor} if cursor else {})},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        names += [world.names[uuid.UUID(item["id"])] for item in body["items"]]
        assert body["more"] is False
        totals.add(body["total"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(totals) == 1, totals
    return names, totals.pop()


def test_a_family_label_is_not_a_listing_word(client: TestClient, world: World) -> None:
    # Concrete and ash share the family « mineraux » (chapters 01, 10 and 17).
    cendres, _ = found(client, world, q="cendres")
    assert set(cendres) == {"ash_0", "ash_1", "ash_2"}
    assert not any(name.startswith("concrete") for name in found(client, world, q="ashes")[0])
    assert found(client, world, q="laitiers") == ([], 0)
    beton, _ = found(client, world, q="béton")
    assert set(beton) == {"concrete_0", "concrete_1", "concrete_2"}
    # A heat listing's family is its kind: "chaleur" still finds the steam.
    assert {"heat_0", "heat_1", "heat_2"} <= set(found(client, world, q="chaleur")[0])


def test_words_match_title_description_and_the_cards_list_of_waste_label(
    client: TestClient, world: World
) -> None:
    assert set(found(client, world, q="gypse")[0]) == {"gypsum_0", "gypsum_1", "gypsum_2"}
    # 10 01 05's label: « déchets solides de réactions basées sur le calcium... »
    assert set(found(client, world, q="calcium")[0]) == {"gypsum_0", "gypsum_1", "gypsum_2"}
    assert set(found(client, world, q="concrete")[0]) == {"concrete_0", "concrete_1", "concrete_2"}


def test_relevance_ranks_by_the_words_in_the_title(client: TestClient, world: World) -> None:
    names, total = found(client, world, q="cendres volantes")
    # Both words in the title, then one, then only in the List of Waste label.
    assert names == ["ash_0", "ash_1", "ash_2"]
    assert total == 3


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "cendres"},
        {"q": "de"},
        {"q": "introuvable"},
        {"q": "cendres", "sort": "date"},
        {"kind": "material"},
        {"kind": "heat", "q": "vapeur"},
        {"family": "mineraux"},
    ],
)
def test_the_total_is_what_the_pages_show(
    client: TestClient, world: World, params: dict[str, Any]
) -> None:
    names, total = found(client, world, **params)
    assert total == len(names) == len(set(names))


def test_a_count_stops_at_its_bound(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalogue_search, "MAX_COUNTED", 2)
    for params in ({"q": "cendres"}, {"q": "cendres", "sort": "date"}, {}):
        body = client.get(URL, params={**params, "limit": 1}).json()
        assert (body["total"], body["more"]) == (2, True), params
        cache.responses.clear()
    exact = client.get(URL, params={"q": "chaudière"}).json()
    assert (exact["total"], exact["more"]) == (1, False)
    monkeypatch.setattr(catalogue_form, "PAGE_SIZE", 1)
    page = client.get("/catalogue", params={"q": "cendres", "lang": "fr"})
    assert "Plus de 2 annonces correspondent à ces critères." in page.text
    # A first page that holds every match has counted them: no count, and no bound.
    whole = client.get(URL, params={"q": "cendres", "limit": 3}).json()
    assert (whole["total"], whole["more"]) == (3, False)


def test_the_catalogue_page_says_how_many_listings_match(client: TestClient, world: World) -> None:
    page = client.get("/catalogue", params={"q": "cendres", "limit": 2})
    assert page.status_code == 200
    assert "3 annonces correspondent à ces critères." in page.text
    one = client.get("/catalogue", params={"q": "chaudière", "lang": "en"})
    assert "One listing fits these filters." in one.text
    none = client.get("/catalogue", params={"q": "laitiers", "lang": "fr"})
    assert "Aucune annonce ne correspond à ces critères." in none.text


def test_the_total_of_a_band_counts_the_exact_band(
    client: TestClient, session: Session, world: World
) -> None:
    # A member's site 10.004 km due north of ash_0's published point: the SQL approximation of
    # the band "under 10 km" is a little wider and takes it in; the pages measure it exactly
    # and leave it out, and so must the count.
    ash = next(x for x in session.exec(select(Listing)).all() if world.names[x.id] == "ash_0")
    north = ash.latitude + 10.004 / (math.pi / 180 * EARTH_RADIUS_KM)
    assert 10 < haversine_km(north, ash.longitude, ash.latitude, ash.longitude) < 10.01
    company = create_company_row(session, "Mesure SAS")
    site = create_site_row(session, company, latitude=north, longitude=ash.longitude)
    headers = bearer(session, create_user_row(session, Role.COMPANY_ADMIN, company))
    for band in ("lt10", "10-30"):
        names, total = found(client, world, headers, from_site=str(site.id), distance_band=band)
        assert total == len(names), band
        assert ("ash_0" in names) == (band == "10-30")
        # The count itself, which a first page holding every match does without.
        counted = catalogue_search._count(
            session, public_where(), Origin(north, ash.longitude), BAND_KEYS.index(band)
        )
        assert counted == (len(names), False), band


# --- migration 0008: the stored search texts recomputed ------------------------------------------

MIGRATION = (
    Path(__file__).resolve().parent.parent / "migrations/versions/0008_listing_search_text.py"
)


def _run_migration(step: str) -> None:
    """Migration 0008's upgrade or downgrade on the test database, as Alembic runs it."""
    spec = importlib.util.spec_from_file_location("migration_0008", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with (
        get_engine().begin() as connection,
        Operations.context(MigrationContext.configure(connection)),
    ):
        getattr(module, step)()


def test_the_migration_recomputes_every_stored_search_text(
    client: TestClient, session: Session, world: World
) -> None:
    names = lambda q: set(found(client, world, q=q)[0])  # noqa: E731
    version = _version()
    # As stored before: with the family label, « cendres » found the concrete.
    _run_migration("downgrade")
    cache.responses.clear()
    assert {"concrete_0", "concrete_1", "concrete_2"} <= names("cendres")
    _run_migration("upgrade")
    assert _version() != version  # no cached response outlives it
    cache.responses.clear()
    assert names("cendres") == {"ash_0", "ash_1", "ash_2"}
    session.expire_all()
    for listing in session.exec(select(Listing)).all():
        assert listing.search_text == cards._search_text(listing), world.names[listing.id]


def _version() -> str | None:
    with get_engine().connect() as connection:
        return cache.read_version(connection)
