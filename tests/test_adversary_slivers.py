"""Adversary (from the red team): slivers of clipped cells.

A cell-level card publishes a resolution-6 cell clipped to
its département ("59:86194d787…", generalisation.location_key), and once the card names its cell
(the positions work) the public location is the intersection of the hexagon with the département,
which anyone computes from the public boundaries. Along borders that intersection can be tiny: in
the Nord and the Pas-de-Calais alone, 41 of 509 clipped cells keep less than 3 km² of their
~31 km², some less than 0.001 km². Three legal units in such a sliver make a k-anonymous cell
that the card locates some 250 times more finely than a resolution-6 cell, finer than the
resolution-7 cells (~5 km²) the README lets stay in clear.

Until the card names its cell (the positions work), the test reads the cell a cell-level card
stands for from the listing's published location key, which is what the card will name: so it
fails wherever a sliver is published at cell level. The fix skips the cell step where the clipped
cell keeps less than half of its hexagon (generalisation.offers_step): such sites start at
département level."""

from __future__ import annotations

import json
import math
import random
import uuid
from collections.abc import Iterator
from functools import lru_cache

import h3
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Polygon, shape
from shapely.geometry.base import BaseGeometry
from sqlmodel import Session

from core import ratelimit
from core.reference.geo import locate
from core.reference.loader import DATA
from marketplace.catalogue.models import Listing
from privacy.generalisation import PUBLIC_CELL_RESOLUTION
from tests.members import card, member, publication_run, publish

# A resolution-6 cell astride the Nord's border that keeps about 0.12 km² in the Nord.
SLIVER_CELL = "86194d787ffffff"


@pytest.fixture(autouse=True)
def fresh_rate_limit() -> Iterator[None]:
    ratelimit.reset()
    yield
    ratelimit.reset()


@lru_cache
def _departement(code: str) -> BaseGeometry:
    with (DATA / "departements.geojson").open(encoding="utf-8") as handle:
        features = json.load(handle)["features"]
    return next(shape(f["geometry"]) for f in features if f["properties"]["code"] == code)


def _hexagon(cell: str) -> Polygon:
    return Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(cell)])


def _km2(geometry: BaseGeometry) -> float:
    return float(geometry.area * 111.32**2 * math.cos(math.radians(geometry.centroid.y)))


def _published_area_km2(session: Session, shown: dict[str, object]) -> float:
    """What the attacker computes from one card and the public boundaries: the area its
    published location covers (the named cell within the named département, else the
    département)."""
    departement = shown["departement"]
    assert isinstance(departement, dict)
    area = _departement(str(departement["code"]))
    named = [
        value
        for value in shown.values()
        if isinstance(value, str)
        and h3.is_valid_cell(value)
        and h3.get_resolution(value) <= PUBLIC_CELL_RESOLUTION
    ]
    if not named and shown["location_level"] == "cell":
        # The card does not name its cell yet: the cell it stands for is its location key.
        listing = session.get(Listing, uuid.UUID(str(shown["id"])))
        assert listing is not None and listing.location_key is not None
        named = [listing.location_key.split(":")[1]]
    if named:
        area = area.intersection(_hexagon(named[0]))
    return _km2(area)


def _points_in(area: BaseGeometry, count: int) -> list[tuple[float, float]]:
    """Site positions inside ``area`` that the platform places in the Nord."""
    rng = random.Random(7)
    west, south, east, north = area.bounds
    points: list[tuple[float, float]] = []
    while len(points) < count:
        lon, lat = rng.uniform(west, east), rng.uniform(south, north)
        placed = locate(lat, lon)
        if (
            area.contains(shape({"type": "Point", "coordinates": (lon, lat)}))
            and placed is not None
            and placed.departement_code == "59"
            and h3.latlng_to_cell(lat, lon, PUBLIC_CELL_RESOLUTION) == SLIVER_CELL
        ):
            points.append((round(lat, 6), round(lon, 6)))
    return points


def test_a_cell_level_card_never_locates_finer_than_a_whole_cell(
    client: TestClient, session: Session
) -> None:
    sliver = _hexagon(SLIVER_CELL).intersection(_departement("59"))
    assert _km2(sliver) < 0.5  # the premise, from public data
    victims = [
        member(session, f"Bordure {i} SA", position)
        for i, position in enumerate(_points_in(sliver, 3))
    ]
    targets = [publish(client, v) for v in victims]
    publication_run(session)
    cards = [card(client, t) for t in targets]
    assert all(c is not None for c in cards), "three legal units: the listings are public"

    nominal = _km2(_hexagon(SLIVER_CELL))
    published = min(_published_area_km2(session, c) for c in cards if c is not None)
    assert published >= nominal / 2, (
        f"a cell-level card locates three companies within {published:.3f} km² "
        f"(a resolution-6 cell is {nominal:.1f} km²)"
    )
