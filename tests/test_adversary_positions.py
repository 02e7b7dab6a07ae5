"""Adversary: a member locates a listing by moving its own sites (issue 7, property 1), and a copy
of the database gives exact site positions (part of property 6).

The attack is the issue's: a competitor with an API token creates sites, moves them with PATCH
/api/v1/sites/{id} and reads GET /api/v1/catalogue/{id}?from_site=… after each move. It scans the
card's area for a point "< 10 km" from the listing, binary-searches the edge of that band along
three directions, and takes the centre of the circle through the three edge points. Measured to
the exact site (before), the estimate fell within metres of it; measured to the published
location's point, it converges to that point, which the card alone determines.

Run with -s to see the figures (position error and requests per level).
"""

from __future__ import annotations

import csv
import itertools
import math
import os
import re
import shutil
import struct
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import h3
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from core.db import get_engine
from core.reference.geo import boundaries, locate
from core.settings import get_settings
from marketplace.accounts.models import Role, User
from marketplace.accounts.service import actor_of
from marketplace.catalogue import cache
from marketplace.catalogue import service as catalogue
from marketplace.demo.loader import TERRITORY, load_demo
from privacy.generalisation import EARTH_RADIUS_KM, haversine_km
from privacy.models import AuditEntry
from tests.conftest import backend_name
from tests.factories import (
    Tenant,
    create_company_row,
    create_flow_row,
    create_site_row,
    create_tenant,
)

EDGE_KM = 10.0  # the edge of "< 10 km", the finest band
NEAR = "< 10 km"
SCAN_SPACING_KM = 15.0  # a triangular lattice this fine puts a point in any 10 km disc
SEARCH_REACH_KM = 30.0  # from inside a 10 km disc, 30 km along any ray is outside it
SEARCH_STEPS = 16  # 30 km / 2^16: half a metre
ROW_BYTES = 300  # how close a latitude and a longitude stand to read as one position


# --- the territory the attacker probes ---------------------------------------------------------


def _cell_neighbours() -> list[tuple[float, float]]:
    """Three plants in one resolution-6 cell of the Dunkerque port (Nord): the cell's centre
    child at resolution 7 is skipped, so the target is a couple of km from the cell's centre."""
    cell = h3.latlng_to_cell(51.03, 2.25, 6)
    children = sorted(h3.cell_to_children(cell, 7))
    centre = h3.latlng_to_cell(*h3.cell_to_latlng(cell), 7)
    points = [h3.cell_to_latlng(c) for c in children if c != centre][:3]
    # Off the child cells' centres too: a plant is anywhere.
    return [(lat + 0.0013, lon - 0.0021) for lat, lon in points]


@dataclass(frozen=True)
class Target:
    level: str
    code: str  # List of Waste code shared by the three companies
    places: list[tuple[float, float]]  # the first one is the target's site


TARGETS = (
    Target("cell", "10 01 02", _cell_neighbours()),
    # Lille, Valenciennes, Maubeuge: three cells of the Nord, one département.
    Target("departement", "10 02 02", [(50.6292, 3.0573), (50.3570, 3.5235), (50.2775, 3.9728)]),
    # Amiens (80), Beauvais (60), Laon (02): three départements of the Hauts-de-France.
    Target("region", "07 05 12", [(49.8941, 2.2958), (49.4300, 2.0800), (49.5641, 3.6199)]),
)


def _publish_targets(session: Session) -> dict[str, uuid.UUID]:
    """Each target's listing, published by the facilitator among two other companies'."""
    staff = actor_of(
        User(id=uuid.uuid4(), email="x", password_hash="", role=Role.FACILITATOR, company_id=None)
    )
    listing_of: dict[str, uuid.UUID] = {}
    for target in TARGETS:
        for index, (latitude, longitude) in enumerate(target.places):
            company = create_company_row(session)
            site = create_site_row(session, company, latitude=latitude, longitude=longitude)
            flow = create_flow_row(session, site, low_code=target.code, quantity=500 + index)
            listing = catalogue.create_listing(session, staff, flow.id)
            catalogue.publish(session, staff, listing)
            session.commit()
            if index == 0:
                listing_of[target.level] = listing.id
    # The catalogue's composition changes at its scheduled run (where there is one).
    run_publication = getattr(catalogue, "run_publication", None)
    if run_publication is not None:
        run_publication(session)
        session.commit()
    return listing_of


# --- spherical geometry ------------------------------------------------------------------------


def _destination(
    latitude: float, longitude: float, bearing: float, km: float
) -> tuple[float, float]:
    phi, lam, theta, delta = (
        math.radians(latitude),
        math.radians(longitude),
        math.radians(bearing),
        km / EARTH_RADIUS_KM,
    )
    phi2 = math.asin(
        math.sin(phi) * math.cos(delta) + math.cos(phi) * math.sin(delta) * math.cos(theta)
    )
    lam2 = lam + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi),
        math.cos(delta) - math.sin(phi) * math.sin(phi2),
    )
    return math.degrees(phi2), math.degrees(lam2)


def _circumcentre(
    origin: tuple[float, float], points: list[tuple[float, float]]
) -> tuple[float, float]:
    """The centre of the circle through three points, in a plane tangent at ``origin``."""
    kx = math.radians(EARTH_RADIUS_KM) * math.cos(math.radians(origin[0]))
    ky = math.radians(EARTH_RADIUS_KM)
    (ax, ay), (bx, by), (cx, cy) = (
        ((lon - origin[1]) * kx, (lat - origin[0]) * ky) for lat, lon in points
    )
    d = 2 * (ax * (by - cy) + bx * (cy - ay) + cx * (ay - by))
    ux = (
        (ax**2 + ay**2) * (by - cy) + (bx**2 + by**2) * (cy - ay) + (cx**2 + cy**2) * (ay - by)
    ) / d
    uy = (
        (ax**2 + ay**2) * (cx - bx) + (bx**2 + by**2) * (ax - cx) + (cx**2 + cy**2) * (bx - ax)
    ) / d
    return origin[0] + uy / ky, origin[1] + ux / kx


def _lattice(area: tuple[float, float, float, float]) -> list[tuple[float, float]]:
    """A triangular lattice over a (south, west, north, east) box, nearest the centre first."""
    south, west, north, east = area
    centre = ((south + north) / 2, (west + east) / 2)
    row_km = SCAN_SPACING_KM * math.sqrt(3) / 2
    km_lat = math.radians(EARTH_RADIUS_KM)
    km_lon = km_lat * math.cos(math.radians(centre[0]))
    points = []
    for row in range(int((north - south) * km_lat / row_km) + 2):
        latitude = south + row * row_km / km_lat
        shift = SCAN_SPACING_KM / 2 if row % 2 else 0.0
        for column in range(int((east - west) * km_lon / SCAN_SPACING_KM) + 2):
            points.append((latitude, west + (shift + column * SCAN_SPACING_KM) / km_lon))
    return sorted(points, key=lambda p: haversine_km(*centre, *p))


def _bearings_over_land(origin: tuple[float, float]) -> tuple[float, float, float]:
    """Three directions, as far apart as can be, along which a site can stand all the way (the
    server refuses a site at sea; the attacker checks with the same public boundaries)."""
    usable = [
        float(bearing)
        for bearing in range(0, 360, 15)
        if all(
            locate(*_destination(*origin, bearing, km)) for km in range(1, int(SEARCH_REACH_KM) + 1)
        )
    ]

    def spread(trio: tuple[float, ...]) -> float:
        return min(min(abs(a - b), 360 - abs(a - b)) for a, b in itertools.combinations(trio, 2))

    best = max(itertools.combinations(usable, 3), key=spread)
    return best[0], best[1], best[2]


def _area_box(card: dict[str, object]) -> tuple[float, float, float, float]:
    """The bounding box of what the card publishes: its département, else its région (public
    boundaries, which the attacker has too)."""
    geo = boundaries()
    departement = card["departement"]
    region = card["region"]
    assert isinstance(region, dict)
    if isinstance(departement, dict):
        codes = [departement["code"]]
    else:
        codes = [code for code, r in geo.region_of.items() if r == region["code"]]
    boxes = [geo.geometries[geo.codes.index(code)].bounds for code in codes]
    west = min(b[0] for b in boxes)
    south = min(b[1] for b in boxes)
    east = max(b[2] for b in boxes)
    north = max(b[3] for b in boxes)
    return south, west, north, east


# --- the attack --------------------------------------------------------------------------------


class Attacker:
    """A member with an API token and three sites it moves at will."""

    def __init__(self, client: TestClient, tenant: Tenant) -> None:
        self.client, self.headers = client, tenant.headers
        self.requests = 0
        self.sites: list[str] = []
        for n in range(3):
            body = {"name": f"Dépôt {n}", "latitude": 50.95, "longitude": 2.3}
            created = client.post("/api/v1/sites", headers=self.headers, json=body)
            assert created.status_code == 201, created.text
            self.requests += 1
            self.sites.append(created.json()["id"])

    def band(self, site: int, listing: uuid.UUID, point: tuple[float, float]) -> str | None:
        """Move a site to ``point`` and read the listing's band from it (None: not in France)."""
        body = {"latitude": point[0], "longitude": point[1]}
        moved = self.client.patch(
            f"/api/v1/sites/{self.sites[site]}", headers=self.headers, json=body
        )
        self.requests += 1
        if moved.status_code == 422:
            return None
        assert moved.status_code == 200, moved.text
        card = self.client.get(
            f"/api/v1/catalogue/{listing}",
            params={"from_site": self.sites[site]},
            headers=self.headers,
        )
        self.requests += 1
        assert card.status_code == 200, card.text
        band = card.json()["distance_band"]
        assert isinstance(band, str)
        return band

    def locate(self, listing: uuid.UUID) -> tuple[float, float]:
        card = self.client.get(f"/api/v1/catalogue/{listing}").json()
        self.requests += 1
        inside = next(
            p for p in _lattice(_area_box(card)) if locate(*p) and self.band(0, listing, p) == NEAR
        )
        edges = []
        for site, bearing in enumerate(_bearings_over_land(inside)):
            low, high = 0.0, SEARCH_REACH_KM
            for _ in range(SEARCH_STEPS):
                middle = (low + high) / 2
                point = _destination(*inside, bearing, middle)
                band = self.band(site, listing, point)
                assert band is not None
                if band == NEAR:
                    low = middle
                else:
                    high = middle
            edges.append(_destination(*inside, bearing, (low + high) / 2))
        return _circumcentre(inside, edges)


@pytest.fixture
def unhurried(monkeypatch: pytest.MonkeyPatch) -> None:
    """The attacker waits out every cache and rate limit (each probe a couple of seconds apart)
    and, to show that moves teach nothing finer than the card, is allowed any number of them."""
    clock = itertools.count(10**6, 2)
    monkeypatch.setattr(cache, "_now", lambda: float(next(clock)))
    settings = get_settings()
    monkeypatch.setattr(settings, "search_rate_per_minute", 10**6)
    for limit in ("site_moves_per_day", "company_site_moves_per_day"):
        if limit in type(settings).model_fields:
            monkeypatch.setattr(settings, limit, 10**6)


def _expected_point(card: dict[str, object]) -> tuple[float, float]:
    """The point the card alone determines (its cell, département or région)."""
    from privacy.places import cell_point, departement_point, region_point

    level = card["location_level"]
    if level == "cell":
        cell = card["cell"]
        assert isinstance(cell, str)
        return cell_point(cell)
    area = card["departement"] if level == "departement" else card["region"]
    assert isinstance(area, dict)
    return (departement_point if level == "departement" else region_point)(area["code"])


@pytest.mark.usefixtures("unhurried")
def test_moving_ones_sites_locates_a_listing_no_finer_than_its_card(
    client: TestClient, session: Session
) -> None:
    listings = _publish_targets(session)
    attacker = Attacker(client, create_tenant(session, "Concurrent Curieux SAS"))
    for target in TARGETS:
        listing = listings[target.level]
        card = client.get(f"/api/v1/catalogue/{listing}").json()
        assert card["location_level"] == target.level
        before = attacker.requests
        estimate = attacker.locate(listing)
        error_km = haversine_km(*estimate, *target.places[0])
        print(
            f"\n{target.level}: estimate {error_km:.3f} km from the site, "
            f"{attacker.requests - before} requests"
        )
        published = _expected_point(card)
        card_error_km = haversine_km(*published, *target.places[0])
        # What the attack finds is the card's own point, to within the search's precision...
        assert haversine_km(*estimate, *published) < 0.05
        # ... hence it knows the site no better than the card does.
        assert error_km > card_error_km - 0.05
        assert error_km > 1.0


# --- moves are limited and audited -------------------------------------------------------------


def _move(client: TestClient, tenant: Tenant, site: object, latitude: float) -> object:
    return client.patch(
        f"/api/v1/sites/{site}",
        headers=tenant.headers,
        json={"latitude": latitude, "longitude": 2.3},
    )


def test_a_site_moves_a_few_times_a_day_each_move_audited(
    client: TestClient, session: Session
) -> None:
    tenant = create_tenant(session)
    allowed = get_settings().site_moves_per_day
    for n in range(allowed):
        response = client.patch(
            f"/api/v1/sites/{tenant.site.id}",
            headers=tenant.headers,
            json={"latitude": 50.95 + n / 100, "longitude": 2.3},
        )
        assert response.status_code == 200, response.text
    # Renaming, or "moving" to where it is, is no move.
    same = {"name": "Quai Ouest", "latitude": 50.95 + (allowed - 1) / 100, "longitude": 2.3}
    assert (
        client.patch(
            f"/api/v1/sites/{tenant.site.id}", headers=tenant.headers, json=same
        ).status_code
        == 200
    )
    refused = client.patch(
        f"/api/v1/sites/{tenant.site.id}",
        headers=tenant.headers,
        json={"latitude": 50.90, "longitude": 2.3},
    )
    assert refused.status_code == 429
    assert refused.json()["error"] == "RateLimited" and refused.json()["field"] == "latitude"
    assert 0 < int(refused.headers["Retry-After"]) <= 24 * 3600
    # Refused, it did not move.
    site = client.get(f"/api/v1/sites/{tenant.site.id}", headers=tenant.headers).json()
    assert site["latitude"] == same["latitude"]
    session.expire_all()
    moves = session.exec(
        select(AuditEntry).where(AuditEntry.action == "site.moved").order_by(col(AuditEntry.seq))
    ).all()
    assert [(m.subject_id, m.actor_id) for m in moves] == [
        (tenant.site.id, tenant.admin.id)
    ] * allowed


def test_a_company_moves_its_sites_a_few_times_a_day(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "company_site_moves_per_day", 4)
    tenant = create_tenant(session)
    sites = [tenant.site.id, create_site_row(session, tenant.company).id]
    statuses = [
        client.patch(
            f"/api/v1/sites/{sites[n % 2]}",
            headers=tenant.headers,
            json={"latitude": 50.90 + n / 100, "longitude": 2.3},
        ).status_code
        for n in range(5)
    ]
    assert statuses == [200, 200, 200, 200, 429]
    # Another company's budget is its own.
    other = create_tenant(session)
    moved = client.patch(
        f"/api/v1/sites/{other.site.id}",
        headers=other.headers,
        json={"latitude": 50.91, "longitude": 2.3},
    )
    assert moved.status_code == 200


def test_the_site_form_says_why_a_move_is_refused(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_web import csrf_of, login

    monkeypatch.setattr(get_settings(), "site_moves_per_day", 1)
    tenant = create_tenant(session)
    login(client, tenant.admin.email)
    for latitude, status in (("50,95", 303), ("50,96", 422)):
        token = csrf_of(client, f"/sites/{tenant.site.id}/edit")
        response = client.post(
            f"/sites/{tenant.site.id}/edit",
            data={"csrf_token": token, "name": "Quai", "latitude": latitude, "longitude": "2,3"},
            follow_redirects=False,
        )
        assert response.status_code == status
    assert "déplacés trop souvent" in response.text


# --- exact positions at rest -------------------------------------------------------------------


def _database_bytes() -> Iterator[bytes]:
    """The database as a copy would give it: the SQLite file and its WAL, or a pg_dump."""
    engine = get_engine()
    if backend_name() == "postgresql":
        url = engine.url.set(drivername="postgresql")
        dump = shutil.which("pg_dump")
        assert dump is not None, "pg_dump is needed to read a PostgreSQL copy"
        command = [dump, "--no-owner", "--data-only", url.render_as_string(hide_password=False)]
        yield subprocess.run(command, check=True, capture_output=True, env=os.environ).stdout
        return
    path = Path(str(engine.url.database))
    for file in (path, path.with_name(path.name + "-wal")):
        if file.exists():
            yield file.read_bytes()


def _texts(value: float) -> re.Pattern[bytes]:
    """A coordinate as text: to 3 decimals (rounded or cut), longer, or as written. Not inside a
    longer number, nor as a timestamp's seconds ("07:15:50.976…" is no latitude)."""
    forms = {f"{value:.3f}", f"{math.trunc(value * 1000) / 1000:.3f}", repr(value)}
    alternatives = b"|".join(re.escape(form.encode()) for form in sorted(forms))
    return re.compile(rb"(?<![0-9])(?<![0-9][0-9]:[0-9][0-9]:)(?:" + alternatives + rb")")


def _near_each_other(copy: bytes, latitude: float, longitude: float) -> list[int]:
    """Where the latitude's text stands within a row's reach of the longitude's."""
    longitudes = [m.start() for m in _texts(longitude).finditer(copy)]
    return [
        m.start()
        for m in _texts(latitude).finditer(copy)
        if any(abs(m.start() - other) < ROW_BYTES for other in longitudes)
    ]


def _floats(value: float) -> list[bytes]:
    """A coordinate as an 8-byte float, either byte order."""
    return [struct.pack("<d", value), struct.pack(">d", value)]


def test_a_copy_of_the_database_gives_no_exact_site_position(
    client: TestClient, session: Session
) -> None:
    load_demo()
    tenant = create_tenant(session)  # its site: 51.0, 2.3
    own = (50.98765, 2.12345)
    body = {"name": "Entrepôt", "latitude": own[0], "longitude": own[1], "commune": "Bourbourg"}
    assert client.post("/api/v1/sites", headers=tenant.headers, json=body).status_code == 201
    with TERRITORY.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    positions = {(float(r["latitude"]), float(r["longitude"])) for r in rows}
    positions |= {own, (51.0, 2.3)}
    session.close()
    with get_engine().connect() as connection:
        if backend_name() == "sqlite":
            connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        # Cells in clear are no finer than resolution 7.
        for table in ("sites", "listings"):
            cells = connection.execute(sa.text(f"SELECT h3_cell FROM {table}")).scalars().all()
            assert cells and all(h3.get_resolution(c) <= 7 for c in cells), table
    copies = list(_database_bytes())
    assert copies
    # In text, a position is its two coordinates close together (a row, a JSON object): one
    # number alone also turns up in timings and timestamps ("writing": 2.166 s).
    found: list[object] = [
        (position, copy[max(0, start - 60) : start + 60])
        for position in sorted(positions)
        for copy in copies
        for start in _near_each_other(copy, *position)
    ]
    found += [
        (value, form)
        for position in sorted(positions)
        for value in position
        for form in _floats(value)
        if any(form in copy for copy in copies)
    ]
    assert found == []
    assert not any(b"Bourbourg" in copy for copy in copies)
