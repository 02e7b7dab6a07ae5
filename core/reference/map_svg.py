"""The site form's maps, as SVG path data: metropolitan France's départements, and one département
alone for a finer placement, drawn from the shipped boundaries (see data/SOURCES.md).

Computed once per map and kept (the boundaries never change while the process runs); the pages
only pour the paths into their markup.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from core.reference.geo import departement_geometry
from core.reference.loader import DATA, read_csv
from core.reference.projection import DEPARTEMENT_PIXELS_PER_DEGREE, METROPOLE, Projection

# Outlines are simplified to this many pixels: finer is invisible on screen and only weighs (the
# overview of France would otherwise be some 120 kB in every site form).
_TOLERANCE_PIXELS = 0.8
_MARGIN_PIXELS = 8.0
# Overseas départements: their codes in the order the form lists them.
OVERSEAS_CODES = ("971", "972", "973", "974", "976")


@dataclass(frozen=True)
class MapArea:
    code: str
    name: str
    path: str


@dataclass(frozen=True)
class SiteMap:
    projection: Projection
    # The viewBox: left, top, width, height in pixels.
    box: tuple[float, float, float, float]
    areas: tuple[MapArea, ...]

    @property
    def view_box(self) -> str:
        return " ".join(f"{v:.1f}" for v in self.box)


def departement_names() -> dict[str, str]:
    return {row["code"]: row["nom"] for row in read_csv("departements.csv")}


def _projected(geometry: BaseGeometry, projection: Projection) -> BaseGeometry:
    def forward(points: np.ndarray) -> np.ndarray:
        x, y = projection.forward(points[:, 1], points[:, 0])  # type: ignore[arg-type]
        return np.column_stack([x, y])

    return shapely.transform(geometry, forward)


def _rings(geometry: BaseGeometry) -> list[list[tuple[float, float]]]:
    polygons: list[Polygon] = []
    if isinstance(geometry, Polygon):
        polygons = [geometry]
    elif isinstance(geometry, MultiPolygon):
        polygons = list(geometry.geoms)
    rings = []
    for polygon in polygons:
        for ring in (polygon.exterior, *polygon.interiors):
            rings.append([(float(x), float(y)) for x, y in ring.coords])
    return rings


def _path(geometry: BaseGeometry) -> str:
    parts = []
    for ring in _rings(geometry):
        if len(ring) < 4:
            continue
        # Whole pixels: the outline is simplified to about one anyway.
        points: list[str] = []
        for x, y in ring[:-1]:
            point = f"{x:.0f},{y:.0f}"
            if not points or points[-1] != point:
                points.append(point)
        if len(points) >= 3:
            parts.append(f"M{' '.join(points)}Z")
    return "".join(parts)


def _site_map(
    projection: Projection, shapes: list[tuple[str, str, BaseGeometry]]
) -> SiteMap | None:
    areas = []
    bounds: list[tuple[float, float, float, float]] = []
    for code, name, geometry in shapes:
        flat = _projected(geometry, projection).simplify(_TOLERANCE_PIXELS, preserve_topology=True)
        path = _path(flat)
        if path:
            areas.append(MapArea(code=code, name=name, path=path))
            bounds.append(flat.bounds)
    if not areas:
        return None
    left = min(b[0] for b in bounds) - _MARGIN_PIXELS
    top = min(b[1] for b in bounds) - _MARGIN_PIXELS
    right = max(b[2] for b in bounds) + _MARGIN_PIXELS
    bottom = max(b[3] for b in bounds) + _MARGIN_PIXELS
    return SiteMap(projection, (left, top, right - left, bottom - top), tuple(areas))


@lru_cache(maxsize=1)
def metropole_map() -> SiteMap:
    """Metropolitan France with Corsica, one path per département (the lighter boundaries)."""
    with (DATA / "departements-metropole-simplifie.geojson").open(encoding="utf-8") as handle:
        features = json.load(handle)["features"]
    names = departement_names()
    shapes = [
        (
            f["properties"]["code"],
            names.get(f["properties"]["code"], f["properties"]["nom"]),
            shape(f["geometry"]),
        )
        for f in features
    ]
    drawn = _site_map(METROPOLE, shapes)
    assert drawn is not None
    return drawn


@lru_cache(maxsize=128)
def departement_map(code: str) -> SiteMap | None:
    """One département alone at 100 m per pixel, None for an unknown code."""
    geometry = departement_geometry(code)
    if geometry is None:
        return None
    centre = geometry.centroid
    projection = Projection(
        latitude=round(centre.y, 4),
        longitude=round(centre.x, 4),
        pixels_per_degree=DEPARTEMENT_PIXELS_PER_DEGREE,
    )
    return _site_map(projection, [(code, departement_names().get(code, code), geometry)])
