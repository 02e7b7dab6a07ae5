"""The flat projection of the site maps: positions (WGS 84 degrees) to map pixels and back.

An equirectangular projection around a reference point, its longitudes shrunk by the cosine of the
reference latitude: over one département (or metropolitan France around 46.5°) shapes stay close
to true, and the inverse is exact, so the browser's script (web/static/sitemap.js) undoes it with
the same three numbers the map carries. y grows southwards, as an SVG's does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Kilometres per degree of latitude (the mean Earth radius, 6371.0 km): for a map's scale.
KM_PER_DEGREE = math.pi * 6371.0 / 180


@dataclass(frozen=True)
class Projection:
    """Pixels = ``pixels_per_degree`` × degrees from (``latitude``, ``longitude``), the
    longitudes multiplied by cos(``latitude``)."""

    latitude: float
    longitude: float
    pixels_per_degree: float

    @property
    def _shrink(self) -> float:
        return math.cos(math.radians(self.latitude))

    def forward(self, latitude: float, longitude: float) -> tuple[float, float]:
        """(x, y) in pixels of a position."""
        x = (longitude - self.longitude) * self._shrink * self.pixels_per_degree
        y = (self.latitude - latitude) * self.pixels_per_degree
        return x, y

    def inverse(self, x: float, y: float) -> tuple[float, float]:
        """(latitude, longitude) of a point of the map."""
        latitude = self.latitude - y / self.pixels_per_degree
        longitude = self.longitude + x / (self._shrink * self.pixels_per_degree)
        return latitude, longitude

    @property
    def metres_per_pixel(self) -> float:
        return KM_PER_DEGREE * 1000 / self.pixels_per_degree


# Metropolitan France with Corsica, about 610 × 590 pixels.
METROPOLE = Projection(latitude=46.5, longitude=2.2, pixels_per_degree=60.0)
# A département alone: 100 m per pixel (before the browser scales it to its frame).
DEPARTEMENT_PIXELS_PER_DEGREE = KM_PER_DEGREE * 10
