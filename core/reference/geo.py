"""Where a position lies: France's bounding boxes, then the département and région boundaries."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

from core.reference.loader import DATA, read_csv

# (name, south, west, north, east): metropolitan France with Corsica, then overseas.
FRANCE_BOXES: tuple[tuple[str, float, float, float, float], ...] = (
    ("métropole", 41.2, -5.6, 51.3, 9.8),
    ("Guadeloupe", 15.8, -61.9, 16.6, -60.9),
    ("Martinique", 14.3, -61.3, 14.9, -60.7),
    ("Guyane", 2.0, -54.7, 5.9, -51.5),
    ("La Réunion", -21.5, 55.1, -20.8, 55.9),
    ("Mayotte", -13.1, 44.9, -12.5, 45.4),
)

# A site on a quay or a jetty can lie just outside the simplified boundaries (see SOURCES.md).
NEAREST_TOLERANCE_KM = 5.0
_KM_PER_DEGREE = 111.0


@dataclass(frozen=True)
class Placement:
    departement_code: str
    region_code: str


def in_france(latitude: float, longitude: float) -> bool:
    return any(s <= latitude <= n and w <= longitude <= e for _, s, w, n, e in FRANCE_BOXES)


class _Boundaries:
    def __init__(self) -> None:
        with (DATA / "departements.geojson").open(encoding="utf-8") as handle:
            features = json.load(handle)["features"]
        self.codes = [f["properties"]["code"] for f in features]
        self.geometries = [shape(f["geometry"]) for f in features]
        for geometry in self.geometries:
            shapely.prepare(geometry)
        self.tree = STRtree(self.geometries)
        self.region_of = {d["code"]: d["region_code"] for d in read_csv("departements.csv")}
        self.by_code = dict(zip(self.codes, self.geometries, strict=True))

    def locate(self, latitude: float, longitude: float) -> Placement | None:
        point = shapely.Point(longitude, latitude)
        hits = self.tree.query(point, predicate="intersects")
        if len(hits) == 0:
            index, distance = self.tree.query_nearest(
                point, return_distance=True, all_matches=False
            )
            if len(index) == 0 or distance[0] * _KM_PER_DEGREE > NEAREST_TOLERANCE_KM:
                return None
            hits = index
        code = self.codes[int(hits[0])]
        return Placement(departement_code=code, region_code=self.region_of[code])


@lru_cache
def boundaries() -> _Boundaries:
    return _Boundaries()


def locate(latitude: float, longitude: float) -> Placement | None:
    """The département and région containing the position, or the nearest within 5 km."""
    if not in_france(latitude, longitude):
        return None
    return boundaries().locate(latitude, longitude)


def departement_geometry(code: str) -> BaseGeometry | None:
    """The département's boundary (the simplified reference polygons), None for an unknown code."""
    return boundaries().by_code.get(code)
