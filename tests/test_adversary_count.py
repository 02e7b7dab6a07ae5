"""Adversary: the catalogue's match count (``total``/``more``) and the List of Waste picker, read by
an anonymous visitor and by a competing member who writes its own data and reads back.

The count must tell nothing the pages do not show (PRODUCT.md, "No oracle"): for every search it
equals the number of listings the pages return one after the other, whatever is hidden from them
(brokered-only, waiting and draft listings, the exact code of a card shown at subchapter level, a
brokered listing's description), and per distance band it is the band the cards show, measured to
the published point, from wherever the member moves its own site. The picker reads reference data
and the knowledge base only: another company's flow labels never change what it proposes.

Each search is read with ``limit=1`` so that its first page does not hold every match and the
count is really computed (a first page that holds them all says its own length).
"""

from __future__ import annotations

import itertools
import math
import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core.settings import get_settings
from marketplace.accounts.models import Role, User
from marketplace.accounts.service import actor_of
from marketplace.catalogue import cache, service, words
from marketplace.catalogue.models import Listing
from marketplace.catalogue.search import BAND_KEYS, BAND_LABELS
from privacy.generalisation import EARTH_RADIUS_KM, haversine_km
from tests.factories import (
    bearer,
    create_company_row,
    create_flow_row,
    create_site_row,
    create_user_row,
)
from tests.members import CELL
from tests.test_adversary_positions import _destination
from tests.test_words import fresh_caches  # noqa: F401 (autouse: empty caches, fresh budgets)

URL = "/api/v1/catalogue"
LOW_URL = "/api/v1/reference/low-codes"
HTMX = {"HX-Request": "true"}
KM_PER_DEGREE = math.pi / 180 * EARTH_RADIUS_KM

ASH: dict[str, Any] = {
    "direction": "offer",
    "kind": "material",
    "low_code": "10 01 02",
    "unit": "t",
}
CONCRETE = {**ASH, "low_code": "17 01 01"}
# Three companies of one département (as tests/test_words.py), each with fly ash (shown at its
# code: three legal units share it) and one residue of 10 01 under a code of its own, so those
# are shown at the subchapter only and their codes' labels (« calcium », « tourbe »,
# « mâchefers ») must find nothing.
PLACES = ((50.99, 2.13), (50.95, 2.25), (51.02, 2.40))
OWN_CODES = ("10 01 01", "10 01 03", "10 01 05")
# Two public cells of three companies each (tests/members.py's CELL, and another ~15 km east).
FAR_CELL = ((50.9500, 2.5000), (50.9510, 2.5020), (50.9490, 2.4980))
SECRET = "zorglub"  # a word only hidden listings hold


@dataclass
class World:
    names: dict[uuid.UUID, str]
    member: dict[str, str]  # a competitor's bearer headers
    member_site: uuid.UUID


def _staff() -> Any:
    return actor_of(User(id=uuid.uuid4(), email="x", password_hash="", role=Role.FACILITATOR))


@pytest.fixture
def world(session: Session) -> World:
    staff = _staff()
    names: dict[uuid.UUID, str] = {}

    def listed(site: Any, name: str, publish: bool = True, **fields: Any) -> None:
        flow = create_flow_row(session, site, **fields)
        listing = service.create_listing(session, staff, flow.id)
        if publish:
            service.publish(session, staff, listing)
        session.commit()
        names[listing.id] = name

    first_site = None
    for number, (latitude, longitude) in enumerate(PLACES):
        company = create_company_row(session, f"Société {number} SAS")
        site = create_site_row(session, company, latitude=latitude, longitude=longitude)
        first_site = first_site or site
        listed(site, f"ash_{number}", **ASH, label="Cendres volantes de charbon", quantity=100)
        own = {**ASH, "low_code": OWN_CODES[number]}
        listed(site, f"own_{number}", **own, label="Résidu thermique", quantity=200)
    # Brokered only: alone in its région, its description holds the secret word.
    lone = create_company_row(session, "Isolée SAS")
    lone_site = create_site_row(session, lone, latitude=45.76, longitude=4.84)
    listed(lone_site, "brokered", **ASH, label="Résidu thermique", description=f"{SECRET} fin")
    # A draft of a shown company, with the secret word in its title.
    listed(first_site, "draft", publish=False, **ASH, label=f"Cendres {SECRET}", quantity=300)
    service.run_publication(session)
    session.commit()
    # Waiting: published after the run, in a cell no public listing shows.
    late = create_company_row(session, "Tardive SAS")
    late_site = create_site_row(session, late, latitude=44.84, longitude=-0.58)
    listed(late_site, "waiting", **ASH, label=f"Cendres {SECRET}", quantity=100)

    rows = {names[x.id]: x for x in session.exec(select(Listing)).all()}
    public = {name for name, x in rows.items() if not x.brokered_only and x.status == "published"}
    assert public == {f"{kind}_{n}" for kind in ("ash", "own") for n in range(3)}
    assert rows["waiting"].waiting and rows["brokered"].brokered_only
    assert {rows[f"own_{n}"].public_low_code for n in range(3)} == {None}
    assert {rows[f"own_{n}"].low_subchapter for n in range(3)} == {"1001"}

    competitor = create_company_row(session, "Concurrente SAS")
    site = create_site_row(session, competitor, latitude=48.85, longitude=2.35)
    headers = bearer(session, create_user_row(session, Role.COMPANY_ADMIN, competitor))
    return World(names, headers, site.id)


def pages(
    client: TestClient, world: World, headers: dict[str, str] | None = None, **params: Any
) -> tuple[list[str], tuple[int, bool]]:
    """Every listing the pages show, one at a time, and the (total, more) each page announced."""
    names: list[str] = []
    counts: set[tuple[int, bool]] = set()
    cursor = None
    for _ in range(50):
        extra: dict[str, str] = {"cursor": cursor} if cursor else {}
        response = client.get(URL, params={**params, "limit": 1, **extra}, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        names += [world.names[uuid.UUID(item["id"])] for item in body["items"]]
        counts.add((body["total"], body["more"]))
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(counts) == 1, counts
    return names, counts.pop()


ASHES = {"ash_0", "ash_1", "ash_2"}
OWN = {"own_0", "own_1", "own_2"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ASHES | OWN),
        ({"q": SECRET}, set()),  # the brokered description, the draft's and the waiting title
        ({"q": f"cendres {SECRET}"}, set()),
        ({"q": "cendres"}, ASHES),  # not the draft nor the waiting listing
        ({"q": "cendres", "sort": "date"}, ASHES),
        ({"q": "thermique"}, OWN),  # not the brokered listing
        ({"q": "calcium"}, set()),  # 10 01 05's label, a card shown at 10 01
        ({"q": "tourbe"}, set()),  # 10 01 03's
        ({"q": "machefers"}, set()),  # 10 01 01's
        ({"q": "centrales"}, OWN),  # 10 01's label, the finest level their cards show
        ({"low_code": "100105"}, set()),
        ({"low_code": "100102"}, ASHES),
        ({"low_subchapter": "1001"}, ASHES | OWN),
        ({"region": "84"}, set()),  # the brokered listing's région (Auvergne-Rhône-Alpes)
        ({"region": "75"}, set()),  # the waiting listing's (Nouvelle-Aquitaine)
        ({"departement": "69"}, set()),
        ({"departement": "33"}, set()),
    ],
)
def test_a_count_is_the_listings_its_pages_show(
    client: TestClient, world: World, params: dict[str, Any], expected: set[str]
) -> None:
    for headers in (None, world.member):
        names, (total, more) = pages(client, world, headers, **params)
        assert set(names) == expected, params
        assert (total, more) == (len(names), False), params
        assert len(set(names)) == len(names)


@pytest.mark.parametrize(("few", "common"), [(0, 10_000), (0, 0)])
def test_every_way_of_reading_words_counts_what_its_pages_show(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch, few: int, common: int
) -> None:
    # SQLite's other word plans (walked down the dates against the index's matches, or a LIKE
    # for a common word), which a handful of listings would never choose: the count must read the
    # rows the pages read whichever way they are found.
    monkeypatch.setattr(words, "FEW_MATCHES", few)
    monkeypatch.setattr(words, "COMMON_MATCHES", common)
    for params, expected in (
        ({"q": "cendres"}, ASHES),
        ({"q": "cendres", "sort": "date"}, ASHES),
        ({"q": "cendres charbon"}, ASHES),
        ({"q": "thermique de"}, OWN),
        ({"q": SECRET}, set()),
        ({"q": "centrales", "kind": "material"}, OWN),
    ):
        names, count = pages(client, world, world.member, **params)
        assert (set(names), count) == (expected, (len(expected), False)), params
        cache.responses.clear()


def _toward(start: Listing, target: Listing, km: float) -> tuple[float, float]:
    """The point ``km`` along the great circle from ``start``'s published point to ``target``'s."""
    lat1, lon1 = math.radians(start.latitude), math.radians(start.longitude)
    lat2, lon2 = math.radians(target.latitude), math.radians(target.longitude)
    bearing = math.atan2(
        math.sin(lon2 - lon1) * math.cos(lat2),
        math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(lon2 - lon1),
    )
    return _destination(start.latitude, start.longitude, math.degrees(bearing), km)


def _move(client: TestClient, world: World, latitude: float, longitude: float) -> None:
    moved = client.patch(
        f"/api/v1/sites/{world.member_site}",
        headers=world.member,
        json={"latitude": latitude, "longitude": longitude},
    )
    assert moved.status_code == 200, moved.text


def test_moving_ones_own_site_counts_per_band_what_the_cards_show(
    client: TestClient, session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The move and read budgets are not what this attacks: the member is allowed any number, and
    # waits out the cached site position (a moved site shows within about a second) each read.
    clock = itertools.count(10**6, 2)
    monkeypatch.setattr(cache, "_now", lambda: float(next(clock)))
    settings = get_settings()
    for limit in ("search_rate_per_minute", "site_moves_per_day", "company_site_moves_per_day"):
        monkeypatch.setattr(settings, limit, 10**6)
    # The competitor steps its own site due south of ash_0's published point (the département's),
    # to just inside and just outside each band's bounds, within the SQL approximation's margin
    # (0.1 %), where only the exact measure tells the band.
    # Then two cells of their own, three companies each, about 15 km apart: just past a bound
    # from the first cell's point, toward the second, the second's rows fill the band nearer, so
    # its first page does not hold every match and the count is computed, with the first cell's
    # rows on the bound (inside the SQL approximation, outside the band) to be left out exactly.
    staff = _staff()
    for cell, places in (("near", CELL), ("far", FAR_CELL)):
        for number, (latitude, longitude) in enumerate(places[:3]):
            company = create_company_row(session, f"Cellule {cell} {number} SAS")
            site = create_site_row(session, company, latitude=latitude, longitude=longitude)
            flow = create_flow_row(session, site, **CONCRETE, label="Béton concassé", quantity=10)
            listing = service.create_listing(session, staff, flow.id)
            service.publish(session, staff, listing)
            session.commit()
            world.names[listing.id] = f"{cell}_{number}"
    service.run_publication(session)
    session.commit()
    rows = {world.names[x.id]: x for x in session.exec(select(Listing)).all()}
    near, far = rows["near_0"], rows["far_0"]
    assert {rows[f"{c}_{n}"].location_level for c in ("near", "far") for n in range(3)} == {"cell"}
    assert 10 < haversine_km(near.latitude, near.longitude, far.latitude, far.longitude) < 20
    ash = rows["ash_0"]
    everything = sum(1 for x in rows.values() if not x.brokered_only and x.status == "published")
    south = [
        (ash.latitude - km / KM_PER_DEGREE, ash.longitude)
        for km in (0.5, 9.995, 10.005, 29.985, 30.015, 79.96, 80.04, 199.9, 200.1, 260.0)
    ]
    along = [_toward(near, far, km) for km in (9.995, 10.005, 29.985, 30.015)]
    for step, (latitude, longitude) in enumerate(south + along):
        _move(client, world, latitude, longitude)
        origin = str(world.member_site)
        listed = client.get(
            URL,
            params={"from_site": origin, "sort": "distance", "limit": 100},
            headers=world.member,
        ).json()
        shown = {world.names[uuid.UUID(x["id"])]: x["distance_band"] for x in listed["items"]}
        assert len(shown) == everything, step
        whole, count = pages(client, world, world.member, from_site=origin, sort="distance")
        assert (sorted(whole), count) == (sorted(shown), (everything, False)), step
        counted = 0
        for key, label in zip(BAND_KEYS, BAND_LABELS, strict=True):
            names, (total, more) = pages(
                client, world, world.member, from_site=origin, distance_band=key, sort="distance"
            )
            assert set(names) == {name for name, band in shown.items() if band == label}, step
            assert (total, more) == (len(names), False), (step, key)
            dated, count = pages(client, world, world.member, from_site=origin, distance_band=key)
            assert (set(dated), count) == (set(names), (total, False)), (step, key)
            counted += total
        assert counted == everything, step


def test_another_companys_flow_labels_never_change_the_picker(
    client: TestClient, session: Session
) -> None:
    queries = ("palettes", SECRET, f"{SECRET} palettes", "gypse de désulfuration", "1501")

    def picker() -> list[Any]:
        found = []
        for q in queries:
            response = client.get(LOW_URL, params={"q": q, "limit": 10})
            assert response.status_code == 200, response.text
            fragment = client.get("/low-codes/search", params={"q": q}, headers=HTMX)
            assert fragment.status_code == 200
            picked = re.findall(r"/low-codes/pick\?code=(\d+)", fragment.text)
            found.append(([row["code"] for row in response.json()], picked))
        return found

    before = picker()
    assert before[1][0] == [] and "150103" in before[0][0]
    # Another company names its flows with those words, under codes the words do not name, and
    # publishes them, k companies strong, so they are public listings too.
    staff = _staff()
    for number, (latitude, longitude) in enumerate(PLACES):
        company = create_company_row(session, f"Voisine {number} SAS")
        site = create_site_row(session, company, latitude=latitude, longitude=longitude)
        for label in (f"{SECRET} palettes", "Palettes de gypse de désulfuration"):
            flow = create_flow_row(
                session, site, **{**ASH, "low_code": "17 01 01"}, label=label, quantity=50
            )
            service.publish(session, staff, service.create_listing(session, staff, flow.id))
            session.commit()
    service.run_publication(session)
    session.commit()
    cache.responses.clear()
    assert picker() == before
