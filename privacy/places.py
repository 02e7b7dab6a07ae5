"""The point a listing's published location stands for: what distance bands are measured to.

A band measured to a listing's exact site lets a member who moves its own sites find the listing
by trilateration: a binary search on the edge of "< 10 km" along three directions located a
listing published at région level to within a metre in about 50 reads. Measured to a point that
the public card alone determines (the centre of its resolution-6 cell, or one fixed point inside
its département or région), a band tells nothing the card does not: however many sites a member
has and however often it moves them, what it can locate is that point, never the site.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import h3
from shapely.geometry import shape

from core.reference.loader import DATA
from privacy.generalisation import PUBLIC_CELL_RESOLUTION, LocationLevel

Point = tuple[float, float]  # latitude, longitude (WGS84 degrees)


def _inside(geometry: Any) -> Point:
    """The area's centroid when it lies inside the area (nearly always: the centre minimises the
    bands' error for sites anywhere in it); otherwise a point surely inside (a crescent-shaped
    area, or one spread over islands), so that a band never points out of the area."""
    point = geometry.centroid
    if not geometry.contains(point):
        point = geometry.representative_point()
    return round(point.y, 6), round(point.x, 6)


@lru_cache
def _area_points(filename: str) -> dict[str, Point]:
    """One fixed point per area of a reference boundary file, computed once per process."""
    with (DATA / filename).open(encoding="utf-8") as handle:
        features = json.load(handle)["features"]
    return {
        str(feature["properties"]["code"]): _inside(shape(feature["geometry"]))
        for feature in features
    }


def departement_point(code: str) -> Point:
    return _area_points("departements.geojson")[code]


def region_point(code: str) -> Point:
    return _area_points("regions.geojson")[code]


def cell_point(cell: str) -> Point:
    """The centre of the resolution-6 cell holding ``cell`` (of that resolution or finer)."""
    if h3.get_resolution(cell) > PUBLIC_CELL_RESOLUTION:
        cell = h3.cell_to_parent(cell, PUBLIC_CELL_RESOLUTION)
    latitude, longitude = h3.cell_to_latlng(cell)
    return round(latitude, 6), round(longitude, 6)


def published_cell(level: str, location_key: str) -> str | None:
    """The resolution-6 cell a card published at cell level shows (None at other levels)."""
    if level != LocationLevel.CELL.value:
        return None
    return location_key.rpartition(":")[2] or None


def published_point(level: str, location_key: str) -> Point:
    """The point of a published location, from what the card publishes only: its level and its
    key (generalisation.location_key: "59:861fa…" for a cell clipped to its département, a
    département code, a région code)."""
    location = LocationLevel(level)
    if location is LocationLevel.CELL:
        _, _, cell = location_key.rpartition(":")
        if not h3.is_valid_cell(cell):
            raise ValueError(f"not a published cell: {location_key!r}")
        return cell_point(cell)
    if location is LocationLevel.DEPARTEMENT:
        return departement_point(location_key)
    return region_point(location_key)
