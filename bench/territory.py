"""The spread of a synthetic territory, shared by the benchmarks so they measure the same kind
of data: which kinds of flow, and which List of Waste chapters, are common."""

from __future__ import annotations

KINDS = (("material", 75), ("heat", 10), ("water", 10), ("gas", 5))
# Chapters most industrial territories produce: agri-food (02), mining (03), thermal processes (10),
# shaping of metals (12), packaging (15), not otherwise specified (16), construction (17),
# waste treatment (19), municipal-like (20).
COMMON_CHAPTERS = {
    "02": 8,
    "03": 4,
    "10": 10,
    "12": 6,
    "15": 10,
    "16": 4,
    "17": 10,
    "19": 8,
    "20": 6,
}
