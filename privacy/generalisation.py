"""Generalisation of listings for the public catalogue: location and material ladders, quantity
classes, k-anonymity by legal unit with pinned steps and ghosts, dominance on aggregates (classes
of sums of classes), and distance bands.

What may be published about a flow before the reveal is decided here, from plain values: the
catalogue service loads the rows and passes ``ListingFacts``; nothing in this module touches the
database.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

import h3
import shapely
from shapely.geometry import Polygon

from core.reference.geo import departement_geometry

# --- location ladder -----------------------------------------------------------------------------

# Sites keep H3 resolution 7 (~5 km²) in clear, their exact position sealed. Resolution 6 (~36 km²,
# about 7 km across) is the finest location ever shown: a cell that size holds a whole industrial
# zone, not one plant.
SITE_CELL_RESOLUTION = 7
PUBLIC_CELL_RESOLUTION = 6


class LocationLevel(StrEnum):
    CELL = "cell"
    DEPARTEMENT = "departement"
    REGION = "region"


def cell_at(h3_cell: str, resolution: int = PUBLIC_CELL_RESOLUTION) -> str:
    """The cell's parent at ``resolution`` (the cell itself at its own resolution)."""
    if not h3.is_valid_cell(h3_cell):
        raise ValueError(f"not an H3 cell: {h3_cell!r}")
    if resolution > h3.get_resolution(h3_cell):
        raise ValueError(f"resolution {resolution} is finer than the cell's")
    return str(h3.cell_to_parent(h3_cell, resolution))


def location_key(
    h3_cell: str,
    departement_code: str,
    region_code: str,
    level: LocationLevel,
    resolution: int = PUBLIC_CELL_RESOLUTION,
) -> str:
    """What is published of a site's position at ``level``: a coarse cell, a département or a
    région code (the level travels with the key, as a département and a région may share a code)."""
    if level is LocationLevel.CELL:
        # A cell is clipped to its département ("59:861fa…"): cells then nest in départements and
        # régions, so a change re-checks only its own région's listings, and a cell astride a
        # border never pools sites that the public sees in two different départements.
        return f"{departement_code}:{cell_at(h3_cell, resolution)}"
    if level is LocationLevel.DEPARTEMENT:
        return departement_code
    return region_code


# A cell is published clipped to its département, and anyone can clip it again from the public
# boundaries. Along a border or a coast the clipped cell can be a sliver (a few hundredths of a
# km² against ~31 km² for the hexagon): k companies in it would be located far more finely than a
# cell is meant to. Below this share of its hexagon, the cell step is not offered at all.
MIN_CLIPPED_CELL_SHARE = 0.5


@lru_cache(maxsize=65536)
def cell_mostly_in_departement(departement_code: str, cell: str) -> bool:
    """Whether ``cell`` clipped to the département keeps at least MIN_CLIPPED_CELL_SHARE of the
    hexagon's area (sea and neighbouring départements count as outside).

    A pure function of (département, cell) and of the reference boundaries, so it is cached: the
    same pair always gives the same answer, in a run, on a join and in the checks. Areas are
    compared in square degrees: over a 7 km hexagon the scale of a degree is the same for both,
    and a ratio is all that is needed. An unknown département offers no cell step (fail closed).
    """
    boundary = departement_geometry(departement_code)
    if boundary is None:
        return False
    hexagon = Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(cell)])
    kept = shapely.intersection(hexagon, boundary).area
    return bool(kept >= MIN_CLIPPED_CELL_SHARE * hexagon.area)


# --- material ladder -----------------------------------------------------------------------------


class MaterialLevel(StrEnum):
    CODE = "code"  # "100102", six digits of the List of Waste
    SUBCHAPTER = "subchapter"  # "1001"
    CHAPTER = "chapter"  # "10"
    FAMILY = "family"  # "mineraux"


@dataclass(frozen=True)
class Family:
    key: str
    label_fr: str
    label_en: str


# Families are chosen per chapter only, never per subchapter, so that showing the family next to a
# listing generalised to its chapter tells nothing more than the chapter. A chapter of the List of
# Waste says where a residue comes from, not what it is (class-A wood and kitchen biowaste are both
# chapter 20, yeast slurry from a fermentation plant is chapter 07): a family's name therefore
# names the activities of its chapters, and the chapters themselves, so it is true of every code
# it holds (tests/test_families.py).
FAMILIES: dict[str, Family] = {
    f.key: f
    for f in (
        Family(
            "mineraux",
            "Mines, procédés thermiques, chantiers : cendres, laitiers, gravats… (ch. 01, 10, 17)",
            "Mining, thermal processes, building sites: ashes, slags, rubble… (ch. 01, 10, 17)",
        ),
        Family(
            "organiques",
            "Agriculture, agroalimentaire, traitement des déchets et des eaux (ch. 02, 19)",
            "Agriculture, food industry, waste and water treatment (ch. 02, 19)",
        ),
        Family(
            "bois_fibres",
            "Bois, papier, cuir et textile : résidus de fabrication (ch. 03, 04)",
            "Wood, paper, leather and textile: production residues (ch. 03, 04)",
        ),
        Family(
            "chimie",
            "Chimie, pharmacie et fermentation, peintures, solvants (ch. 06–09, 14)",
            "Chemistry, pharmaceuticals and fermentation, paints, solvents (ch. 06–09, 14)",
        ),
        Family(
            "hydrocarbures",
            "Raffinage, huiles et combustibles liquides usagés (ch. 05, 13)",
            "Refining, waste oils and liquid fuels (ch. 05, 13)",
        ),
        Family(
            "metaux",
            "Traitement et usinage des métaux et des plastiques (ch. 11, 12)",
            "Treatment and machining of metals and plastics (ch. 11, 12)",
        ),
        Family(
            "emballages",
            "Emballages, absorbants, chiffons et filtres (ch. 15)",
            "Packaging, absorbents, wiping cloths and filters (ch. 15)",
        ),
        Family(
            "divers",
            "Déchets non décrits ailleurs, de soins, municipaux et assimilés (ch. 16, 18, 20)",
            "Wastes not otherwise specified, health care, municipal and similar (ch. 16, 18, 20)",
        ),
        # Flows that are not materials, or materials without a code: the family is the kind.
        Family("material", "Matière (code non précisé)", "Material (code not given)"),
        Family("heat", "Chaleur fatale", "Waste heat"),
        Family("water", "Eau", "Water"),
        Family("gas", "Gaz", "Gases"),
    )
}

CHAPTER_FAMILY: dict[str, str] = {
    "01": "mineraux",  # mining and quarrying, mineral processing
    "02": "organiques",  # agriculture, food processing
    "03": "bois_fibres",  # wood, panels, pulp and paper
    "04": "bois_fibres",  # leather, fur and textile
    "05": "hydrocarbures",  # petroleum refining, gas purification, coal pyrolysis
    "06": "chimie",  # inorganic chemistry
    "07": "chimie",  # organic chemistry (including pharmaceuticals)
    "08": "chimie",  # paints, varnishes, adhesives, inks
    "09": "chimie",  # photographic industry
    "10": "mineraux",  # thermal processes: fly ash, FGD gypsum, slags
    "11": "metaux",  # surface treatment of metals, hydrometallurgy
    "12": "metaux",  # shaping and machining of metals and plastics
    "13": "hydrocarbures",  # waste oils and liquid fuels
    "14": "chimie",  # solvents, refrigerants, propellants
    "15": "emballages",  # packaging, absorbents, filter materials
    "16": "divers",  # end-of-life vehicles, equipment, batteries, off-spec batches
    "17": "mineraux",  # construction and demolition
    "18": "divers",  # health care
    "19": "organiques",  # waste and water treatment plants: sludges, compost, digestate
    "20": "divers",  # municipal and similar wastes, separately collected fractions
}

MATERIAL_KIND = "material"
KINDS = frozenset({"material", "heat", "water", "gas"})


def _code_of(low_code_compact: str | None, kind: str) -> str | None:
    """The checked six-digit code of a coded material; None for any other flow."""
    if kind not in KINDS:
        raise ValueError(f"unknown flow kind: {kind!r}")
    if kind != MATERIAL_KIND or not low_code_compact:
        return None
    code = low_code_compact.strip()
    if len(code) != 6 or not code.isdigit() or code[:2] not in CHAPTER_FAMILY:
        raise ValueError(f"not a compact six-digit List of Waste code: {low_code_compact!r}")
    return code


def family_of(low_code_compact: str | None, kind: str) -> Family:
    """The family of a material from its chapter; for heat, water, gas (or no code), the kind."""
    code = _code_of(low_code_compact, kind)
    return FAMILIES[kind] if code is None else FAMILIES[CHAPTER_FAMILY[code[:2]]]


def material_key(low_code_compact: str | None, kind: str, level: MaterialLevel) -> str:
    """What is published of a flow's material at ``level``: "100102", "1001", "10" or a family.

    Heat, water, gas and materials without a code have nothing finer than their kind, which is
    their key at every level.
    """
    code = _code_of(low_code_compact, kind)
    if code is None:
        return kind
    if level is MaterialLevel.CODE:
        return code
    if level is MaterialLevel.SUBCHAPTER:
        return code[:4]
    if level is MaterialLevel.CHAPTER:
        return code[:2]
    return CHAPTER_FAMILY[code[:2]]


# --- quantity classes ----------------------------------------------------------------------------

# Bands by powers of ten: below the first bound, between consecutive bounds, and above the last.
QUANTITY_BOUNDS: tuple[float, ...] = (10, 100, 1_000, 10_000, 100_000)
# A quantity's base unit (marketplace/flows/units.py) and its French and English labels. Each kind
# has its own, except a gas, metered in volume (m³) or in energy (MWh on the lower heating value).
UNIT_LABELS = {
    "t/yr": ("t/an", "t/yr"),
    "MWh/yr": ("MWh/an", "MWh/yr"),
    "m3/yr": ("m³/an", "m³/yr"),
}
KIND_BASE_UNITS = {"material": "t/yr", "heat": "MWh/yr", "water": "m3/yr", "gas": "m3/yr"}
# Heat is only usable by a taker who needs it at that temperature, so its class says so too.
TEMPERATURE_BOUNDS: tuple[float, ...] = (40, 90, 150)
TEMPERATURE_LABELS = ("< 40 °C", "40–90 °C", "90–150 °C", "> 150 °C")


@dataclass(frozen=True)
class QuantityClass:
    band: int  # 0 for "< 10", up to len(QUANTITY_BOUNDS) for "≥ 100 000"
    lower: float | None
    upper: float | None
    unit: str  # French unit, "t/an"
    label: str  # "100 – 1 000 t/an"
    label_en: str  # "100 – 1,000 t/yr"
    temperature_band: int | None = None
    temperature_label: str | None = None


def _number(value: float, thousands: str) -> str:
    return f"{int(value):,}".replace(",", thousands)


def temperature_class(temperature_c: float) -> tuple[int, str]:
    """The band index and label of a heat flow's temperature: 150 °C is still "90–150 °C"."""
    if math.isnan(temperature_c):
        raise ValueError("temperature is not a number")
    band = sum(
        1
        for i, bound in enumerate(TEMPERATURE_BOUNDS)
        if temperature_c > bound or (temperature_c == bound and i < len(TEMPERATURE_BOUNDS) - 1)
    )
    return band, TEMPERATURE_LABELS[band]


def quantity_class(
    kind: str,
    quantity_per_year: float,
    temperature_c: float | None = None,
    base_unit: str | None = None,
) -> QuantityClass:
    """The logarithmic band of a yearly quantity, in its base unit (t, MWh, m³ per year): the
    kind's unless ``base_unit`` says otherwise (a gas metered in energy, "MWh/yr")."""
    if kind not in KIND_BASE_UNITS:
        raise ValueError(f"unknown flow kind: {kind!r}")
    if math.isnan(quantity_per_year) or quantity_per_year < 0:
        raise ValueError(f"not a quantity: {quantity_per_year!r}")
    labels = UNIT_LABELS.get(base_unit or KIND_BASE_UNITS[kind])
    if labels is None:
        raise ValueError(f"unknown base unit: {base_unit!r}")
    unit, unit_en = labels
    band = sum(1 for bound in QUANTITY_BOUNDS if quantity_per_year >= bound)
    lower = QUANTITY_BOUNDS[band - 1] if band > 0 else None
    upper = QUANTITY_BOUNDS[band] if band < len(QUANTITY_BOUNDS) else None
    if lower is None:
        assert upper is not None
        label, label_en = f"< {_number(upper, ' ')} {unit}", f"< {_number(upper, ',')} {unit_en}"
    elif upper is None:
        label, label_en = f"≥ {_number(lower, ' ')} {unit}", f"≥ {_number(lower, ',')} {unit_en}"
    else:
        label = f"{_number(lower, ' ')} – {_number(upper, ' ')} {unit}"
        label_en = f"{_number(lower, ',')} – {_number(upper, ',')} {unit_en}"
    temperature_band: int | None = None
    temperature_label: str | None = None
    if kind == "heat" and temperature_c is not None:
        temperature_band, temperature_label = temperature_class(temperature_c)
    return QuantityClass(
        band, lower, upper, unit, label, label_en, temperature_band, temperature_label
    )


@lru_cache
def _quantity_labels_en() -> dict[str, str]:
    """Every French quantity class label → its English label (a handful of bands per unit)."""
    samples = (0.0, *QUANTITY_BOUNDS)
    # A label depends on its unit only, whichever kind it is asked for.
    classes = (
        quantity_class("gas", sample, base_unit=unit) for unit in UNIT_LABELS for sample in samples
    )
    return {q.label: q.label_en for q in classes}


def quantity_label_en(label_fr: str) -> str | None:
    """The English label of a public quantity class (public views store the French one); None
    for a label that is not a band (the dominance rule's « présent »)."""
    return _quantity_labels_en().get(label_fr)


# --- k-anonymity ---------------------------------------------------------------------------------

# The ladder a listing climbs until its cell holds k legal units: location first (a buyer cares
# more about the exact material than about the exact place), then material at région level.
MATERIAL_LADDER: tuple[tuple[MaterialLevel, LocationLevel], ...] = (
    (MaterialLevel.CODE, LocationLevel.CELL),
    (MaterialLevel.CODE, LocationLevel.DEPARTEMENT),
    (MaterialLevel.CODE, LocationLevel.REGION),
    (MaterialLevel.SUBCHAPTER, LocationLevel.REGION),
    (MaterialLevel.CHAPTER, LocationLevel.REGION),
)
# Heat, water, gas (and uncoded materials) have no material detail to give up.
KIND_LADDER: tuple[tuple[MaterialLevel, LocationLevel], ...] = (
    (MaterialLevel.FAMILY, LocationLevel.CELL),
    (MaterialLevel.FAMILY, LocationLevel.DEPARTEMENT),
    (MaterialLevel.FAMILY, LocationLevel.REGION),
)
DEFAULT_K = 3
DEFAULT_DOMINANCE = 0.85


@dataclass(frozen=True)
class ListingFacts:
    """What the generaliser needs of one flow: its site's cell (resolution 7) and areas, and the
    legal unit (SIREN) behind it: k counts legal units, never establishments."""

    id: Hashable
    legal_unit: Hashable
    kind: str  # material | heat | water | gas
    direction: str  # offer | request
    low_code: str | None  # compact, "100102"
    h3_cell: str
    departement_code: str
    region_code: str
    quantity_per_year: float
    temperature_c: float | None = None
    hazardous: bool = False
    base_unit: str | None = None  # of quantity_per_year; None: the kind's


@dataclass(frozen=True)
class Ghost:
    """A listing that left public view (withdrawn, paused, expired, fulfilled or edited away)
    lately: its legal unit still counts in the cell it was shown in, at the step it was shown at,
    so that one departure does not push the cell's other listings coarser at once."""

    step: int
    cell: str  # cell_key() of the cell it was shown in
    legal_unit: Hashable


@dataclass(frozen=True)
class Generalised:
    """How one listing may be shown. ``step`` indexes its ladder; None when brokered only."""

    step: int | None
    material_level: MaterialLevel
    material_key: str
    location_level: LocationLevel
    location_key: str
    family: Family
    brokered_only: bool
    quantity_class: QuantityClass | None


def ladder_of(entry: ListingFacts) -> tuple[tuple[MaterialLevel, LocationLevel], ...]:
    return KIND_LADDER if _code_of(entry.low_code, entry.kind) is None else MATERIAL_LADDER


def hazard_key(hazardous: bool) -> str:
    """The hazardous flag as it stands in a cell key."""
    return "hazardous" if hazardous else "non-hazardous"


def offers_step(entry: ListingFacts, step: int, resolution: int = PUBLIC_CELL_RESOLUTION) -> bool:
    """Whether ``step`` of ``entry``'s ladder may be used at all: not past the ladder's end, and a
    cell step only where the clipped cell is not a sliver (cell_mostly_in_departement); where it
    is, the listing starts at département level."""
    ladder = ladder_of(entry)
    if not 0 <= step < len(ladder):
        return False
    if ladder[step][1] is not LocationLevel.CELL:
        return True
    return cell_mostly_in_departement(entry.departement_code, cell_at(entry.h3_cell, resolution))


def cell_key(entry: ListingFacts, step: int, resolution: int = PUBLIC_CELL_RESOLUTION) -> str:
    """The published cell of ``entry`` at ``step``: every value that makes it look like others
    (kind, direction, material, the hazardous flag, location with their levels), as one string
    to store.

    The card shows the hazardous flag at every material level, and in the List of Waste a prefix
    and a flag often name a single code (1502 and hazardous: 15 02 02*). The flag is therefore
    part of the cell at every level, so whatever code the pair (prefix, flag) implies, the cell
    holds k legal units with that same pair."""
    material_level, location_level = ladder_of(entry)[step]
    return "|".join(
        (
            entry.kind,
            entry.direction,
            material_level.value,
            material_key(entry.low_code, entry.kind, material_level),
            hazard_key(entry.hazardous),
            location_level.value,
            location_key(
                entry.h3_cell, entry.departement_code, entry.region_code, location_level, resolution
            ),
        )
    )


def view_at(
    entry: ListingFacts, step: int | None, resolution: int = PUBLIC_CELL_RESOLUTION
) -> Generalised:
    """How ``entry`` shows at ``step`` (None: brokered only). A single listing's quantity class
    depends on its own quantity only: dominance belongs to aggregates (pools, statistics), and
    judged on a cell of single listings it would let a member learn its neighbours' tonnages by
    sweeping its own."""
    ladder = ladder_of(entry)
    # A brokered listing carries its coarsest description, never finer, should it be shown.
    material_level, location_level = ladder[len(ladder) - 1 if step is None else step]
    return Generalised(
        step=step,
        material_level=material_level,
        material_key=material_key(entry.low_code, entry.kind, material_level),
        location_level=location_level,
        location_key=location_key(
            entry.h3_cell, entry.departement_code, entry.region_code, location_level, resolution
        ),
        family=family_of(entry.low_code, entry.kind),
        brokered_only=step is None,
        quantity_class=None
        if step is None
        else quantity_class(
            entry.kind, entry.quantity_per_year, entry.temperature_c, entry.base_unit
        ),
    )


def generalise(
    entries: Iterable[ListingFacts],
    k: int = DEFAULT_K,
    resolution: int = PUBLIC_CELL_RESOLUTION,
    pinned: Mapping[Any, int] | None = None,
    ghosts: Iterable[Ghost] = (),
) -> dict[Hashable, Generalised]:
    """Choose for every listing the finest (material, location) it can be published at.

    Step by step along the ladder, the listings not yet placed are grouped by their cell at that
    step (a sliver cell step is skipped, see offers_step); a group holding at least ``k``
    distinct legal units is published there. Listings placed at a finer step are not counted
    again at a coarser one: if they were, a lone listing could take a coarse cell "shared" with
    companies whose own listings all show finer detail, and anyone who knows this algorithm
    would single it out. Listings left after the last step are
    brokered only.

    ``pinned`` maps listings already public to the step they are shown at: a pinned listing never
    moves finer (it takes part from its own step on), so a publication run never shows it more
    precisely than before. A cell holding a pinned listing at its step also counts the legal units
    of the ``ghosts`` that left it lately (the hysteresis); a cell nobody is shown in yet counts
    live listings only, so a new listing never gets a cell from ghosts alone. Hence every
    published cell, as the public sees it, holds at least ``k`` legal units, counting those that
    were shown in it within the hysteresis.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    listings = list(entries)
    if len({e.id for e in listings}) != len(listings):
        raise ValueError("listing ids must be unique")
    pins = pinned or {}
    departed: dict[tuple[int, str], set[Hashable]] = defaultdict(set)
    for ghost in ghosts:
        departed[(ghost.step, ghost.cell)].add(ghost.legal_unit)
    pending = listings
    chosen: dict[Hashable, int] = {}
    step = 0
    while any(step < len(ladder_of(e)) for e in pending):
        groups: dict[str, list[ListingFacts]] = defaultdict(list)
        for entry in pending:
            if pins.get(entry.id, 0) <= step and offers_step(entry, step, resolution):
                groups[cell_key(entry, step, resolution)].append(entry)
        for cell, group in groups.items():
            units = {e.legal_unit for e in group}
            if any(pins.get(e.id) == step for e in group):
                units |= departed.get((step, cell), set())
            if len(units) >= k:
                for entry in group:
                    chosen[entry.id] = step
        pending = [e for e in pending if e.id not in chosen]
        step += 1
    return {e.id: view_at(e, chosen.get(e.id), resolution) for e in listings}


# --- aggregates: classes of sums of classes ------------------------------------------------------


def class_representative(band: int) -> float:
    """A fixed quantity standing for every quantity of a band: its geometric middle (316 for
    "100 – 1 000"). The open bands take the middle of the decade next to their bound (3.16 for
    "< 10", 316 228 for "≥ 100 000"), as if they were one decade wide like the others."""
    if not 0 <= band <= len(QUANTITY_BOUNDS):
        raise ValueError(f"not a quantity band: {band!r}")
    lower = QUANTITY_BOUNDS[band - 1] if band > 0 else QUANTITY_BOUNDS[0] / 10
    return lower * math.sqrt(10)


def aggregate_class(
    kind: str,
    quantities: Mapping[Any, float],
    dominance: float = DEFAULT_DOMINANCE,
    temperature_c: float | None = None,
    base_unit: str | None = None,
) -> QuantityClass | None:
    """The public quantity class of an aggregate (a pool, a statistic) of legal units'
    quantities, all in one ``base_unit``, or None when one legal unit dominates (more than
    ``dominance`` of the total).

    Each legal unit's quantity is first replaced by its class's representative, then the sum and
    the dominance test use the representatives: a contributor moving its own quantity inside its
    class changes nothing, and crossing one of its class edges tells only about the others'
    classes, never their exact quantities."""
    representatives = {
        unit: class_representative(quantity_class(kind, quantity).band)
        for unit, quantity in quantities.items()
    }
    total = sum(representatives.values())
    if not representatives or max(representatives.values()) > dominance * total:
        return None
    return quantity_class(kind, total, temperature_c, base_unit)


# --- distances -----------------------------------------------------------------------------------

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)
DISTANCE_BANDS: tuple[tuple[float, str], ...] = (
    (10, "< 10 km"),
    (30, "10–30 km"),
    (80, "30–80 km"),
    (200, "80–200 km"),
)
FARTHEST_BAND = "> 200 km"


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres between two points in degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def distance_band(km: float) -> str:
    """The band shown instead of a distance, so that no one can trilaterate a site.

    Each band holds its lower bound: 10 km is "10–30 km", 200 km is "> 200 km".
    """
    if math.isnan(km) or km < 0:
        raise ValueError(f"not a distance: {km!r}")
    for upper, label in DISTANCE_BANDS:
        if km < upper:
            return label
    return FARTHEST_BAND
