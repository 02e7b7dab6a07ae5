"""Catalogue search: every filter, accent-insensitive words, sorts, cursor pagination, distance
bands from one's own sites only, brokered-only listings kept out, and the per-client rate limit."""

from __future__ import annotations

import base64
import math
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from core import ratelimit
from core.db import get_engine
from core.settings import get_settings
from marketplace.accounts import service as accounts
from marketplace.accounts.models import ApiToken, Role, User
from marketplace.accounts.service import Actor, actor_of
from marketplace.catalogue import cache, pools, service
from marketplace.catalogue import words as catalogue_words
from marketplace.catalogue.models import CatalogueVersion, Listing
from marketplace.catalogue.search import (
    CatalogueQuery,
    Origin,
    matching,
    search,
)
from marketplace.catalogue.words import rebuild_word_indexes
from marketplace.companies.models import Company, Site
from marketplace.companies.schemas import SiteUpdate
from marketplace.companies.service import update_site
from marketplace.flows.models import Flow, FlowStatus
from privacy.generalisation import haversine_km
from tests.conftest import backend_name
from tests.factories import (
    bearer,
    create_company_row,
    create_flow_row,
    create_site_row,
    create_tenant,
    create_user_row,
    position_of,
)

URL = "/api/v1/catalogue"

# (name, latitude, longitude): A's own site (the tenant's default) lies at 51.0, 2.3, Dunkerque.
PLACES = {
    "B": (50.99, 2.13),  # Gravelines (59), ~12 km from A
    "C": (50.63, 3.06),  # Lille (59), ~67 km
    "G": (49.89, 2.30),  # Amiens (80), ~123 km
    "D": (43.30, 5.37),  # Marseille (13), > 200 km
    "E": (43.53, 5.45),  # Aix-en-Provence (13)
    "F": (43.12, 5.93),  # Toulon (83)
    "H": (48.11, -1.68),  # Rennes (35): alone in its région, hence brokered only
}
ASH = {"direction": "offer", "kind": "material", "low_code": "10 01 02", "unit": "t"}
PALLETS = {"direction": "request", "kind": "material", "low_code": "15 01 03", "unit": "t"}
HEAT = {"direction": "offer", "kind": "heat", "low_code": None, "unit": "MWh", "temperature_c": 95}
SLAG = {"direction": "offer", "kind": "material", "low_code": "10 02 02", "unit": "t"}
SOLVENTS = {"direction": "offer", "kind": "material", "low_code": "14 06 03", "unit": "t"}
SLUDGE = {"direction": "offer", "kind": "material", "low_code": "07 05 12", "unit": "t"}
# company → [(listing name, flow fields)]
FLOWS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "B": [
        ("ash_B", {**ASH, "label": "Déchets de cendres volantes", "quantity": 50}),
        (
            "pallets_B",
            {**PALLETS, "label": "Palettes en bois", "quantity": 20, "regularity": "batch"},
        ),
        ("heat_B", {**HEAT, "label": "Chaleur fatale du four", "quantity": 4000}),
    ],
    "C": [
        ("ash_C", {**ASH, "label": "CENDRES sous chaudière", "quantity": 5000}),
        (
            "pallets_C",
            {**PALLETS, "label": "Palettes usagées", "quantity": 30, "regularity": "batch"},
        ),
        ("heat_C", {**HEAT, "label": "Chaleur fatale de séchage", "quantity": 3000}),
    ],
    "G": [("heat_G", {**HEAT, "label": "Vapeur basse pression", "quantity": 2000})],
    **{
        name: [
            (f"slag_{name}", {**SLAG, "label": "Laitier de haut fourneau", "quantity": 900}),
            (
                f"solvents_{name}",
                {**SOLVENTS, "label": "Solvants usagés", "quantity": 15, "regularity": "one-off"},
            ),
            (f"sludge_{name}", {**SLUDGE, "label": "Boues biologiques", "quantity": 700}),
        ]
        for name in ("D", "E", "F")
    },
    "H": [("ash_H", {**ASH, "label": "Cendres volantes", "quantity": 100})],
}


@dataclass
class World:
    listings: dict[str, uuid.UUID]  # name → listing id
    names: dict[uuid.UUID, str]
    member: dict[str, str]  # bearer headers of A's administrator
    a_site: Site
    b_site: Site
    visible: list[Listing]  # published and public, as stored


def staff_actor() -> Actor:
    # A facilitator who needs no stored account (hashing a password costs a tenth of a second).
    return actor_of(User(id=uuid.uuid4(), email="x", password_hash="", role=Role.FACILITATOR))


@pytest.fixture(autouse=True)
def fresh_rate_limit() -> Iterator[None]:
    ratelimit.reset()
    yield
    ratelimit.reset()


@pytest.fixture(autouse=True)
def fresh_response_cache() -> Iterator[None]:
    # Each test empties the database behind the process's back: no entry may outlive its test.
    cache.responses.clear()
    yield
    cache.responses.clear()


@pytest.fixture
def world(session: Session) -> World:
    a = create_tenant(session, "Alpha Énergie SAS")  # its flow: "Cendres volantes", 1 200 t
    facilitator = staff_actor()
    listings: dict[str, uuid.UUID] = {}

    def publish(name: str, flow_id: uuid.UUID) -> None:
        listing = service.create_listing(session, facilitator, flow_id)
        service.publish(session, facilitator, listing)
        session.commit()
        listings[name] = listing.id

    publish("ash_A", a.flow.id)
    pallets_a = create_flow_row(
        session, a.site, **PALLETS, label="Palettes bois", quantity=25, regularity="batch"
    )
    publish("pallets_A", pallets_a.id)
    sites: dict[str, Site] = {"A": a.site}
    for company_name, flows in FLOWS.items():
        company: Company = create_company_row(session, f"Société {company_name} SAS")
        latitude, longitude = PLACES[company_name]
        site = create_site_row(session, company, latitude=latitude, longitude=longitude)
        sites[company_name] = site
        for name, fields in flows:
            publish(name, create_flow_row(session, site, **fields).id)
    # A draft is never in the catalogue either.
    draft = create_flow_row(session, sites["C"], **ASH, label="Cendres en attente", quantity=10)
    service.create_listing(session, facilitator, draft.id)
    session.commit()
    # The publication run places them (until then, every published listing waits).
    service.run_publication(session)
    session.commit()
    session.expire_all()
    visible = list(
        session.exec(
            select(Listing).where(Listing.status == "published", Listing.brokered_only == False)  # noqa: E712
        ).all()
    )
    return World(
        listings=listings,
        names={v: k for k, v in listings.items()},
        member=a.headers,
        a_site=a.site,
        b_site=sites["B"],
        visible=visible,
    )


def names_of(world: World, response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [world.names[uuid.UUID(item["id"])] for item in response.json()["items"]]


def everything(client: TestClient, world: World, **params: Any) -> list[str]:
    return names_of(world, client.get(URL, params={"limit": 100, **params}))


def test_world_is_what_the_tests_assume(world: World) -> None:
    visible = {world.names[x.id] for x in world.visible}
    # G's heat shares its région's cell with B's and C's; H is alone in Bretagne.
    assert visible == set(world.listings) - {"ash_H"}
    by_name = {world.names[x.id]: x for x in world.visible}
    assert by_name["ash_A"].public_departement == "59"
    assert by_name["ash_A"].public_low_code == "100102"
    assert by_name["heat_G"].public_departement is None


def test_anonymous_sees_every_public_listing_and_nothing_else(
    client: TestClient, world: World
) -> None:
    found = everything(client, world)
    assert sorted(found) == sorted(world.names[x.id] for x in world.visible)
    assert "ash_H" not in found
    for item in client.get(URL, params={"limit": 100}).json()["items"]:
        assert item["distance_band"] is None
        for internal in ("latitude", "longitude", "company_id", "flow_id", "quantity_per_year"):
            assert internal not in item


FILTERS: list[tuple[dict[str, Any], Callable[[Listing], bool]]] = [
    ({"direction": "request"}, lambda x: x.direction == "request"),
    ({"kind": "heat"}, lambda x: x.kind == "heat"),
    ({"family": "chimie"}, lambda x: x.family == "chimie"),
    ({"family": "mineraux"}, lambda x: x.family == "mineraux"),
    ({"low_chapter": "10"}, lambda x: x.low_chapter == "10"),
    ({"low_subchapter": "10 01"}, lambda x: x.low_subchapter == "1001"),
    ({"low_code": "100102"}, lambda x: x.public_low_code == "100102"),
    ({"low_code": "10 02 02"}, lambda x: x.public_low_code == "100202"),
    ({"hazardous": "true"}, lambda x: x.hazardous),
    ({"hazardous": "false"}, lambda x: not x.hazardous),
    ({"quantity_band": 3}, lambda x: x.quantity_band == 3),
    ({"regularity": "batch"}, lambda x: x.regularity == "batch"),
    ({"regularity": "one-off"}, lambda x: x.regularity == "one-off"),
    ({"departement": "59"}, lambda x: x.public_departement == "59"),
    ({"region": "93"}, lambda x: x.region_code == "93"),
    (
        {"region": "32", "kind": "material"},
        lambda x: x.region_code == "32" and x.kind == "material",
    ),
]


def test_each_filter_returns_exactly_the_matching_public_listings(
    client: TestClient, world: World
) -> None:
    # One world for every filter: building it is what takes time.
    for params, predicate in FILTERS:
        expected = sorted(world.names[x.id] for x in world.visible if predicate(x))
        assert expected, f"the world must hold listings for {params}"
        assert len(expected) < len(world.visible), f"{params} must leave some out"
        assert sorted(everything(client, world, **params)) == expected, params


def test_filters_read_the_public_columns_only(client: TestClient, world: World) -> None:
    # G's heat lies in the Somme (80) but shows its région only: a département filter can't find it.
    assert "heat_G" not in everything(client, world, departement="80")
    assert everything(client, world, departement="80") == []
    # H's listing is brokered only: no filter brings it out.
    assert "ash_H" not in everything(client, world, region="53")


@pytest.mark.parametrize(
    "params",
    [
        {"family": "plastique"},
        {"low_code": "10 01"},
        {"low_chapter": "1x"},
        {"departement": "999"},
        {"region": "00"},
        {"quantity_band": 9},
        {"kind": "steam"},
        {"limit": 0},
        {"limit": 101},
        {"sort": "price"},
        {"q": "x" * 201},
        {"q": " ".join(f"mot{i}" for i in range(11))},
    ],
)
def test_bad_filters_are_refused(client: TestClient, params: dict[str, Any]) -> None:
    response = client.get(URL, params=params)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "Invalid"
    assert response.json()["field"] == next(iter(params))


def test_words_are_matched_without_accents_or_case(client: TestClient, world: World) -> None:
    dechets = everything(client, world, q="dechets")
    assert "ash_B" in dechets  # its title says "Déchets"
    assert dechets[0] == "ash_B"  # the only one with the word in its title
    assert everything(client, world, q="DÉCHETS") == dechets
    cendres = everything(client, world, q="cendres")
    assert {"ash_A", "ash_B", "ash_C"} <= set(cendres)
    assert everything(client, world, q="CENDRES") == cendres
    assert everything(client, world, q="chaudiere") == ["ash_C"]
    assert everything(client, world, q="séchage") == ["heat_C"]


def test_every_word_is_required_and_short_words_are_ignored(
    client: TestClient, world: World
) -> None:
    # "bois" is also in every pallet's LoW label ("emballages en bois"); "usagées" in C's title.
    assert sorted(everything(client, world, q="palettes bois")) == [
        "pallets_A",
        "pallets_B",
        "pallets_C",
    ]
    assert everything(client, world, q="palettes usagees") == ["pallets_C"]
    assert everything(client, world, q="palettes a l usagées") == ["pallets_C"]
    assert everything(client, world, q="palettes introuvable") == []
    # Only short words: no word filter at all.
    assert len(everything(client, world, q="a b")) == len(world.visible)


def test_relevance_ranks_title_matches_first(client: TestClient, world: World) -> None:
    found = everything(client, world, q="cendres volantes")
    # C's title says "cendres" only ("volantes" comes from its LoW label): it ranks after A and B.
    assert set(found) == {"ash_A", "ash_B", "ash_C"}
    assert found[-1] == "ash_C"


def test_date_sort_is_newest_first(client: TestClient, world: World) -> None:
    published = {world.names[x.id]: x.published_at for x in world.visible}
    found = everything(client, world, sort="date")
    assert found == sorted(published, key=lambda n: (published[n], world.listings[n]), reverse=True)
    # Relevance without words falls back to the date.
    assert everything(client, world) == found


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "date"},
        {"sort": "relevance", "q": "cendres"},
        {"sort": "relevance", "q": "chaleur fatale"},
        {"sort": "distance"},
        {"sort": "date", "distance_band": "gt200"},
        {"sort": "distance", "hazardous": "false"},
    ],
)
def test_cursor_walks_every_page_without_duplicates_or_gaps(
    client: TestClient, world: World, params: dict[str, Any]
) -> None:
    needs_site = params.get("sort") == "distance" or "distance_band" in params
    params = {**params, **({"from_site": str(world.a_site.id)} if needs_site else {})}
    headers = world.member if needs_site else {}
    whole = names_of(world, client.get(URL, params={**params, "limit": 100}, headers=headers))
    assert len(whole) >= 3
    for limit in (1, 2, 3, 7):
        walked: list[str] = []
        cursor = None
        for _ in range(100):
            page_params = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
            response = client.get(URL, params=page_params, headers=headers)
            page = names_of(world, response)
            walked += page
            cursor = response.json()["next_cursor"]
            if cursor is None:
                break
            assert len(page) == limit  # only the last page may be short
        assert walked == whole, limit
        assert len(set(walked)) == len(walked)


def test_forged_or_foreign_cursors_are_refused(client: TestClient, world: World) -> None:
    first = client.get(URL, params={"limit": 2, "sort": "date"}).json()
    cursor = first["next_cursor"]
    assert cursor
    forged = cursor[:-6] + ("A" if cursor[-6] != "A" else "B") + cursor[-5:]
    for bad in (forged, "not-a-cursor", "eyJzIjoiZGF0ZSJ9"):
        response = client.get(URL, params={"limit": 2, "sort": "date", "cursor": bad})
        assert response.status_code == 422
        assert response.json()["field"] == "cursor"
    # A cursor belongs to its search: other filters or another order refuse it.
    for other in ({"sort": "date", "kind": "heat"}, {"sort": "relevance", "q": "cendres"}):
        response = client.get(URL, params={"limit": 2, "cursor": cursor, **other})
        assert response.status_code == 422
        assert response.json()["field"] == "cursor"
    # The same search with another page size goes on.
    assert client.get(URL, params={"limit": 5, "sort": "date", "cursor": cursor}).status_code == 200


def test_cursor_does_not_show_its_position_in_clear(client: TestClient, world: World) -> None:
    page = client.get(URL, params={"limit": 1, "sort": "date"}).json()
    raw = base64.urlsafe_b64decode(page["next_cursor"])
    listing_id = uuid.UUID(page["items"][0]["id"])
    for clear in (listing_id.hex.encode(), listing_id.bytes, str(listing_id).encode(), b"date"):
        assert clear not in raw


# Bands are measured to what each card publishes, never to the site (privacy/places.py): from A
# (Dunkerque), the Nord's point (near Douai) and the Hauts-de-France's (near Amiens) are both
# 80 to 200 km away, even for B's listings 12 km from A; the south is farther than 200 km.
EXPECTED_BANDS = {
    name: "80–200 km"
    for name in (
        "ash_A",
        "pallets_A",
        "ash_B",
        "pallets_B",
        "heat_B",
        "ash_C",
        "pallets_C",
        "heat_C",
        "heat_G",
    )
}


def test_member_gets_distance_bands_from_its_own_site(client: TestClient, world: World) -> None:
    response = client.get(
        URL, params={"from_site": str(world.a_site.id), "limit": 100}, headers=world.member
    )
    assert response.status_code == 200
    bands = {world.names[uuid.UUID(i["id"])]: i["distance_band"] for i in response.json()["items"]}
    expected = {name: EXPECTED_BANDS.get(name, "> 200 km") for name in bands}
    assert bands == expected
    # Without from_site, no band.
    plain = client.get(URL, params={"limit": 100}, headers=world.member).json()["items"]
    assert {i["distance_band"] for i in plain} == {None}


def test_distance_band_filter(client: TestClient, world: World) -> None:
    # Short keys or the labels the cards show.
    for band, label in (
        ("lt10", "< 10 km"),
        ("10-30", "10–30 km"),
        ("30–80 km", "30–80 km"),
        ("80-200", "80–200 km"),
        ("gt200", "> 200 km"),
    ):
        params = {"from_site": str(world.a_site.id), "distance_band": band, "limit": 100}
        found = names_of(world, client.get(URL, params=params, headers=world.member))
        expected = [
            n for n in world.listings if n != "ash_H" and EXPECTED_BANDS.get(n, "> 200 km") == label
        ]
        assert sorted(found) == sorted(expected), band


def test_distance_sort_orders_by_band_then_date(client: TestClient, world: World) -> None:
    params = {"from_site": str(world.a_site.id), "sort": "distance", "limit": 100}
    items = client.get(URL, params=params, headers=world.member).json()["items"]
    order = ["< 10 km", "10–30 km", "30–80 km", "80–200 km", "> 200 km"]
    ranks = [order.index(i["distance_band"]) for i in items]
    assert ranks == sorted(ranks)
    dates = [(order.index(i["distance_band"]), i["published_on"]) for i in items]
    assert dates == sorted(dates, key=lambda d: (d[0], [-int(p) for p in d[1].split("-")]))


def test_sql_distance_is_close_to_the_great_circle(session: Session, world: World) -> None:
    origin = Origin(*position_of(session, world.a_site))
    rows = session.exec(select(Listing.latitude, Listing.longitude, origin.squared_km())).all()
    assert rows
    for latitude, longitude, squared in rows:
        exact = haversine_km(origin.latitude, origin.longitude, latitude, longitude)
        if exact < 250:  # beyond, only "> 200 km" matters
            assert math.isclose(math.sqrt(squared), exact, rel_tol=2e-4, abs_tol=1e-6)
        else:
            assert math.sqrt(squared) > 200


def test_matching_tells_which_listings_a_saved_search_finds(session: Session, world: World) -> None:
    everyone = list(world.listings.values())
    heat = matching(session, CatalogueQuery(kind="heat"), None, everyone)
    assert heat == {world.listings[n] for n in ("heat_B", "heat_C", "heat_G")}
    origin = Origin(*position_of(session, world.a_site))
    near = CatalogueQuery(from_site=world.a_site.id, distance_band="80-200", q="chaleur")
    heat_north = {world.listings[n] for n in ("heat_B", "heat_C", "heat_G")}
    assert matching(session, near, origin, everyone) == heat_north
    far = CatalogueQuery(from_site=world.a_site.id, distance_band="gt200", q="chaleur")
    assert matching(session, far, origin, everyone) == set()
    assert matching(session, near, None, everyone) == set()
    assert matching(session, CatalogueQuery(), None, [world.listings["ash_H"]]) == set()


def test_distances_start_only_from_ones_own_sites(client: TestClient, world: World) -> None:
    foreign = client.get(URL, params={"from_site": str(world.b_site.id)}, headers=world.member)
    assert foreign.status_code == 404
    assert foreign.json()["field"] == "from_site"
    unknown = client.get(URL, params={"from_site": str(uuid.uuid4())}, headers=world.member)
    assert unknown.status_code == 404
    anonymous = client.get(URL, params={"from_site": str(world.a_site.id)})
    assert anonymous.status_code == 422
    assert anonymous.json()["field"] == "from_site"
    for params in ({"distance_band": "lt10"}, {"sort": "distance"}):
        response = client.get(URL, params=params, headers=world.member)
        assert response.status_code == 422
        assert response.json()["field"] == next(iter(params))


def test_no_parameter_takes_a_position(client: TestClient, world: World) -> None:
    for params in (
        {"latitude": "51.0", "longitude": "2.3"},
        {"lat": "51.0", "lon": "2.3"},
        {"latitude": "51.0"},
        {"lon": "2.3"},
        {"from_site": str(world.a_site.id), "lat": "51.0"},
        {"company_id": str(uuid.uuid4())},
    ):
        for headers in ({}, world.member):
            response = client.get(URL, params=params, headers=headers)
            assert response.status_code == 422, (params, response.text)
            assert response.json()["error"] == "Invalid"
            assert "Extra inputs are not permitted" in response.json()["detail"]


def test_openapi_marks_the_catalogue_public_and_lists_no_position(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    for path in ("/api/v1/catalogue", "/api/v1/catalogue/{listing_id}"):
        operation = spec["paths"][path]["get"]
        assert operation["x-public"] is True
        names = {p["name"] for p in operation.get("parameters", [])}
        assert not names & {"latitude", "longitude", "lat", "lon", "position", "point"}


def test_a_bad_token_is_refused_not_downgraded(client: TestClient, world: World) -> None:
    response = client.get(URL, headers={"Authorization": "Bearer sym_wrong"})
    assert response.status_code == 401


def _revoke_all_tokens(session: Session) -> None:
    session.execute(sa.update(ApiToken).values(revoked=True))
    session.commit()


def test_a_revoked_token_reads_the_catalogue_for_a_second_at_most(
    client: TestClient, world: World, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    banded = {"from_site": str(world.a_site.id)}
    assert client.get(URL, params=banded, headers=world.member).status_code == 200
    _revoke_all_tokens(session)
    # Every other route checks the token on each request...
    assert client.get("/api/v1/me", headers=world.member).status_code == 401
    # ...the catalogue (public data) may take up to PUBLIC_READ_TOKEN_TTL_SECONDS to notice.
    assert accounts.PUBLIC_READ_TOKEN_TTL_SECONDS <= 1.0
    now = time.monotonic()
    monkeypatch.setattr(accounts._readers, "clock", lambda: now + 1.0)
    assert client.get(URL, params=banded, headers=world.member).status_code == 401
    assert client.get(URL, headers=world.member).status_code == 401


def test_a_token_refused_once_is_not_let_in_by_the_memo(
    client: TestClient, world: World, session: Session
) -> None:
    _revoke_all_tokens(session)
    accounts.forget_token_reads()
    for _ in range(2):  # the second answer comes from the memo: still a refusal
        assert client.get(URL, headers=world.member).status_code == 401


def test_listing_card(client: TestClient, world: World) -> None:
    ash_b = world.listings["ash_B"]
    card = client.get(f"{URL}/{ash_b}")
    assert card.status_code == 200
    assert card.json()["title"] == "Déchets de cendres volantes"
    assert card.json()["distance_band"] is None
    banded = client.get(
        f"{URL}/{ash_b}", params={"from_site": str(world.a_site.id)}, headers=world.member
    )
    assert banded.json()["distance_band"] == "80–200 km"
    assert (
        client.get(f"{URL}/{ash_b}", params={"from_site": str(world.a_site.id)}).status_code == 422
    )
    foreign = client.get(
        f"{URL}/{ash_b}", params={"from_site": str(world.b_site.id)}, headers=world.member
    )
    assert foreign.status_code == 404
    for hidden in (world.listings["ash_H"], uuid.uuid4()):
        assert client.get(f"{URL}/{hidden}").status_code == 404


def test_paused_listings_leave_the_catalogue(
    client: TestClient, world: World, session: Session
) -> None:
    facilitator = staff_actor()
    listing = session.get(Listing, world.listings["slag_D"])
    assert listing is not None
    service.pause(session, facilitator, listing)
    session.commit()
    assert "slag_D" not in everything(client, world)
    assert client.get(f"{URL}/{listing.id}").status_code == 404


def test_service_search_without_http(session: Session, world: World) -> None:
    page = search(session, None, CatalogueQuery(kind="heat", limit=2))
    assert len(page.items) == 2 and page.next_cursor
    rest = search(session, None, CatalogueQuery(kind="heat", limit=2, cursor=page.next_cursor))
    assert {i.id for i in page.items} | {i.id for i in rest.items} == {
        world.listings[n] for n in ("heat_B", "heat_C", "heat_G")
    }
    assert rest.next_cursor is None


def test_searches_are_rate_limited_per_client(
    client: TestClient, world: World, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "search_rate_per_minute", 3)
    monkeypatch.setattr(ratelimit, "_now", lambda: 6_000_030.0)  # mid-window: no minute rolls over
    for _ in range(3):
        assert client.get(URL).status_code == 200
    refused = client.get(URL)
    assert refused.status_code == 429
    assert refused.json()["error"] == "RateLimited"
    assert refused.json()["detail"] == "too many searches, retry in 30 s"
    assert client.get(f"{URL}/{world.listings['ash_A']}").status_code == 429
    # A signed-in client has its own count, whatever address it comes from.
    for _ in range(3):
        assert client.get(URL, headers=world.member).status_code == 200
    assert client.get(URL, headers=world.member).status_code == 429
    other = bearer(session, create_user_row(session, Role.FACILITATOR))
    assert client.get(URL, headers=other).status_code == 200
    # The next minute starts afresh.
    monkeypatch.setattr(ratelimit, "_now", lambda: 6_000_090.0)
    assert client.get(URL).status_code == 200


def test_rate_limit_counts_in_redis_when_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "redis://127.0.0.1:6379/15"
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except Exception:
        pytest.skip("no Redis server on 127.0.0.1:6379")
    key = f"test:{uuid.uuid4()}"
    monkeypatch.setattr(ratelimit, "_now", lambda: 6_000_030.0)
    ratelimit.hit(key, 2, url=url)
    ratelimit.reset()  # the count lives in Redis, not in this process
    ratelimit.hit(key, 2, url=url)
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.hit(key, 2, url=url)


# --- word indexes (SQLite FTS5) ----------------------------------------------------------------

WORD_QUERIES = (
    "cendres",
    "cendres volantes",
    "volantes",
    "palettes bois",
    "bois",
    "chaleur fatale",
    "fatale chaleur four",
    "dechets",
    "sechage",
    "de",
    "dechets 07",  # a short word (no index) that leaves some out
    "boues biologiques",
    "introuvable",
)


def _every_page(session: Session, actor: Actor, params: dict[str, Any]) -> list[uuid.UUID]:
    found: list[uuid.UUID] = []
    totals: set[int] = set()
    cursor: str | None = None
    for _ in range(100):
        page = search(session, actor, CatalogueQuery(**params, limit=2, cursor=cursor))
        found += [item.id for item in page.items]
        assert not page.more
        totals.add(page.total)
        cursor = page.next_cursor
        if cursor is None:
            break
    # Whichever way the words are read, the count is what the pages show, no more, no less.
    assert totals == {len(found)}, (params, totals, len(found))
    return found


def _word_searches(session: Session, world: World) -> dict[str, list[uuid.UUID]]:
    facilitator = staff_actor()
    site = str(world.a_site.id)
    results = {}
    for q in WORD_QUERIES:
        for extra in (
            {},
            {"sort": "date"},
            {"kind": "material"},
            {"sort": "distance", "from_site": site},
            {"from_site": site, "distance_band": "gt200"},
        ):
            params = {"q": q, **extra}
            results[repr(params)] = _every_page(session, facilitator, params)
    return results


def test_word_indexes_find_exactly_what_like_finds(
    session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Changes first, so the indexes follow updates and rows leaving the catalogue, not only inserts.
    facilitator = staff_actor()
    paused = session.get(Listing, world.listings["slag_D"])
    relabelled = session.get(Listing, world.listings["heat_C"])
    withdrawn = session.get(Listing, world.listings["solvents_E"])
    assert paused and relabelled and withdrawn
    service.pause(session, facilitator, paused)
    for listing, change in ((relabelled, "label"), (withdrawn, "status")):
        flow = session.get(Flow, listing.flow_id)
        assert flow is not None
        if change == "label":
            flow.label = "Vapeur fatale de séchage"
        else:
            flow.status = FlowStatus.WITHDRAWN
        service.sync_flow(session, flow)
    session.commit()

    # Without indexed words, every word is a LIKE over search_text, and a relevance sort scores
    # every match in one query: the reference.
    monkeypatch.setattr(catalogue_words, "INDEXED_WORD_LENGTH", 1_000)
    monkeypatch.setattr(catalogue_words, "_score_levels", lambda words: None)
    expected = _word_searches(session, world)
    monkeypatch.undo()
    assert any(expected.values()) and not all(expected.values())
    plan = catalogue_words.plan_words
    assert plan(session, ["bois"], relevance=False).levels is None
    if backend_name() != "sqlite":
        # Relevance reads level by level (score 1, then 0), down the dates.
        assert len(plan(session, ["bois"], relevance=True).levels or []) == 2
        assert _word_searches(session, world) == expected
        return
    # Every plan the word count can choose: index lookups (the default on so small a world), then
    # walks testing rowids against the index's matches, then walks testing LIKE (common words);
    # relevance level by level, its top level read from the title index (few) or walked (many).
    for few, common in ((1_500, 10_000), (0, 10_000), (1, 10_000), (0, 2), (0, 0)):
        monkeypatch.setattr(catalogue_words, "FEW_MATCHES", few)
        monkeypatch.setattr(catalogue_words, "COMMON_MATCHES", common)
        assert _word_searches(session, world) == expected, (few, common)
    monkeypatch.setattr(catalogue_words, "FEW_MATCHES", 0)
    monkeypatch.setattr(catalogue_words, "COMMON_MATCHES", 10_000)
    assert len(plan(session, ["bois"], relevance=True).levels or []) == 2  # 3 matches, 2 titles
    assert len(plan(session, ["palettes", "bois"], relevance=True).levels or []) == 3
    # With filters, matches up to COMMON_MATCHES are read and scored at once, never walked.
    assert plan(session, ["bois"], relevance=True, filtered=True).levels is None
    monkeypatch.undo()
    assert plan(session, ["bois"], relevance=True).levels is None  # few: scored all at once
    # The recovery after a rowid renumbering gives the same indexes back.
    rebuild_word_indexes(session.connection())
    session.commit()
    assert _word_searches(session, world) == expected


# --- response cache ----------------------------------------------------------------------------


def _version() -> str | None:
    with get_engine().connect() as connection:
        return cache.read_version(connection)


def test_every_catalogue_change_writes_a_new_version(session: Session, world: World) -> None:
    facilitator = staff_actor()
    listing = session.get(Listing, world.listings["slag_D"])
    assert listing is not None
    seen = [_version()]

    def changed_by(change: Callable[[], object]) -> None:
        change()
        session.commit()
        seen.append(_version())
        assert seen[-1] is not None and seen[-1] not in seen[:-1]

    changed_by(lambda: service.pause(session, facilitator, listing))
    changed_by(lambda: service.resume(session, facilitator, listing))
    flow_ids = [_flow_of(session, world.listings[name]) for name in ("slag_D", "slag_E")]
    pool = pools.create_pool(
        session, facilitator, pools.PoolCreate(flow_ids=flow_ids, title="Laitier mutualisé")
    )
    changed_by(lambda: service.publish(session, facilitator, pool))
    new_flow = create_flow_row(session, world.b_site, **SLAG, label="Laitier de convertisseur")
    changed_by(lambda: service.publish_flows(session, [new_flow]))
    changed_by(lambda: service.sync_flow(session, _withdrawn(new_flow)))
    listing.expires_at = listing.published_at  # already past
    session.commit()
    changed_by(lambda: service.expire_due(session))
    # A draft shows nowhere, and what rolls back never happened.
    draft_flow = create_flow_row(session, world.b_site, **SLAG, label="Laitier en attente")
    service.create_listing(session, facilitator, draft_flow.id)
    session.commit()
    other = session.get(Listing, world.listings["slag_F"])
    assert other is not None
    service.pause(session, facilitator, other)
    session.rollback()
    assert _version() == seen[-1]


def _site_of(session: Session, listing_id: uuid.UUID) -> Site:
    flow = session.get(Flow, _flow_of(session, listing_id))
    site = session.get(Site, flow.site_id) if flow else None
    assert site is not None
    return site


def _flow_of(session: Session, listing_id: uuid.UUID) -> uuid.UUID:
    listing = session.get(Listing, listing_id)
    assert listing is not None and listing.flow_id is not None
    return listing.flow_id


def _withdrawn(flow: Flow) -> Flow:
    flow.status = FlowStatus.WITHDRAWN
    return flow


def test_publications_and_withdrawals_show_on_the_next_read_after_the_ttl(
    client: TestClient, world: World, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "VERSION_TTL_SECONDS", 0.0)
    # Only the version in the database tells: as if the changes were made by another process.
    monkeypatch.setattr(cache.responses, "forget_version", lambda: None)
    before = everything(client, world, q="laitier")
    card = client.get(f"{URL}/{world.listings['slag_E']}")
    assert card.status_code == 200
    assert everything(client, world, q="laitier") == before
    assert cache.responses.stats().hits == 1
    facilitator = staff_actor()
    # Beside D's slag, in a group of three companies: it is public at once.
    site = _site_of(session, world.listings["slag_D"])
    flow = create_flow_row(session, site, **SLAG, label="Laitier de poche")
    listing = service.create_listing(session, facilitator, flow.id)
    service.publish(session, facilitator, listing)
    session.commit()
    after = client.get(URL, params={"q": "laitier", "limit": 100}).json()["items"]
    assert [item["title"] for item in after if uuid.UUID(item["id"]) == listing.id] == [
        "Laitier de poche"
    ]
    assert len(after) == len(before) + 1
    slag_e = session.get(Listing, world.listings["slag_E"])
    assert slag_e is not None
    service.withdraw(session, facilitator, slag_e)
    session.commit()
    # Only the withdrawn listing leaves: the one just joined stays (no echo between runs).
    left = client.get(URL, params={"q": "laitier", "limit": 100}).json()["items"]
    ids = {uuid.UUID(item["id"]) for item in left}
    assert world.listings["slag_E"] not in ids and listing.id in ids and len(left) == len(before)
    assert client.get(f"{URL}/{world.listings['slag_E']}").status_code == 404


def test_a_change_made_elsewhere_shows_within_about_a_second(
    client: TestClient, world: World, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1_000.0]
    monkeypatch.setattr(cache, "_now", lambda: clock[0])
    first = everything(client, world)
    assert "slag_D" in first
    # Another process pauses a listing: its transaction writes a version this one doesn't know.
    with get_engine().begin() as connection:
        paused = sa.update(Listing).where(col(Listing.id) == world.listings["slag_D"])
        connection.execute(paused.values(status="paused"))
        connection.execute(sa.update(CatalogueVersion).values(version=uuid.uuid4().hex))
    clock[0] += cache.VERSION_TTL_SECONDS / 2
    assert everything(client, world) == first  # still what this process had
    clock[0] += cache.VERSION_TTL_SECONDS
    assert "slag_D" not in everything(client, world)
    # This process's own changes show at once, whatever the TTL.
    facilitator = staff_actor()
    ash = session.get(Listing, world.listings["ash_B"])
    assert ash is not None
    service.pause(session, facilitator, ash)
    session.commit()
    assert "ash_B" not in everything(client, world)


def test_banded_and_public_views_never_share_an_entry(
    client: TestClient, world: World, session: Session
) -> None:
    site = str(world.a_site.id)
    params = {"from_site": site, "limit": 100}
    banded = client.get(URL, params=params, headers=world.member).json()["items"]
    assert banded and all(item["distance_band"] for item in banded)
    public = client.get(URL, params={"limit": 100})
    assert {item["distance_band"] for item in public.json()["items"]} == {None}
    # A member without from_site gets the public view: the same entry, the same bytes.
    hits = cache.responses.stats().hits
    plain = client.get(URL, params={"limit": 100}, headers=world.member)
    assert plain.content == public.content
    assert cache.responses.stats().hits == hits + 1
    # A cached banded page is no pass: whoever may not use the site is still refused.
    assert client.get(URL, params=params, headers=world.member).json()["items"] == banded
    assert client.get(URL, params=params).status_code == 422
    stranger = create_user_row(session, Role.COMPANY_ADMIN, create_company_row(session))
    assert client.get(URL, params=params, headers=bearer(session, stranger)).status_code == 404
    ash = world.listings["ash_B"]
    card = client.get(f"{URL}/{ash}", params={"from_site": site}, headers=world.member)
    assert card.json()["distance_band"] == "80–200 km"
    assert client.get(f"{URL}/{ash}").json()["distance_band"] is None
    assert client.get(f"{URL}/{ash}", params={"from_site": site}).status_code == 422


def test_hits_are_the_same_bytes_and_still_rate_limited(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "search_rate_per_minute", 3)
    monkeypatch.setattr(ratelimit, "_now", lambda: 6_000_030.0)
    first = client.get(URL, params={"q": "cendres", "limit": 2})
    second = client.get(URL, params={"q": "cendres", "limit": 2})
    assert second.content == first.content
    assert second.headers["content-type"] == "application/json"
    assert cache.responses.stats().hits == 1
    # The next page, from the cached first page's cursor.
    assert (
        client.get(
            URL, params={"q": "cendres", "limit": 2, "cursor": first.json()["next_cursor"]}
        ).status_code
        == 200
    )
    assert client.get(URL, params={"q": "cendres", "limit": 2}).status_code == 429


def test_the_cache_can_be_turned_off(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "catalogue_cache", False)
    first = client.get(URL, params={"kind": "heat"})
    assert client.get(URL, params={"kind": "heat"}).content == first.content
    assert cache.responses.stats() == cache.CacheStats()


def test_a_moved_site_gives_its_new_bands_within_about_a_second(
    client: TestClient, world: World, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1_000.0]
    monkeypatch.setattr(cache, "_now", lambda: clock[0])
    params = {"from_site": str(world.a_site.id), "distance_band": "gt200", "limit": 100}

    def far() -> list[str]:
        return names_of(world, client.get(URL, params=params, headers=world.member))

    south = sorted(n for n in world.listings if n not in EXPECTED_BANDS and n != "ash_H")
    assert sorted(far()) == south
    # A's site moves to Marseille: no listing changes, only the point distances start from.
    site = session.get(Site, world.a_site.id)
    assert site is not None
    update_site(session, staff_actor(), site, SiteUpdate(latitude=43.30, longitude=5.37))
    session.commit()
    assert sorted(far()) == south  # still where this process knew it
    clock[0] += cache.VERSION_TTL_SECONDS + 0.01
    assert "slag_D" not in far() and "ash_A" in far()
