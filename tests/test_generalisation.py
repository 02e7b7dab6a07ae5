"""Generalisation of listings: ladders, quantity classes, k-anonymity by legal unit with pinned
steps and ghosts, classes of sums of classes for aggregates, distances."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Hashable
from dataclasses import replace

import h3
import pytest

from privacy.generalisation import (
    CHAPTER_FAMILY,
    FAMILIES,
    KIND_LADDER,
    MATERIAL_LADDER,
    PUBLIC_CELL_RESOLUTION,
    SITE_CELL_RESOLUTION,
    Generalised,
    Ghost,
    ListingFacts,
    LocationLevel,
    MaterialLevel,
    aggregate_class,
    cell_at,
    cell_key,
    cell_mostly_in_departement,
    class_representative,
    distance_band,
    family_of,
    generalise,
    haversine_km,
    location_key,
    material_key,
    offers_step,
    quantity_class,
    quantity_label_en,
    temperature_class,
    view_at,
)

# Positions on the Dunkirk coast and inland, with their département and région.
DUNKERQUE = (51.035, 2.377, "59", "32")
DUNKERQUE_NEAR = (51.037, 2.381, "59", "32")  # a few hundred metres away: same coarse cell
GRAVELINES = (50.986, 2.128, "59", "32")
LILLE = (50.629, 3.057, "59", "32")
CALAIS = (50.951, 1.858, "62", "32")
AMIENS = (49.894, 2.296, "80", "32")
LE_HAVRE = (49.494, 0.108, "76", "28")


def site(position: tuple[float, float, str, str]) -> dict[str, str]:
    lat, lon, departement, region = position
    return {
        "h3_cell": h3.latlng_to_cell(lat, lon, SITE_CELL_RESOLUTION),
        "departement_code": departement,
        "region_code": region,
    }


def listing(
    id: Hashable,
    company: Hashable,
    position: tuple[float, float, str, str] = DUNKERQUE,
    low_code: str | None = "100102",
    kind: str = "material",
    direction: str = "offer",
    quantity: float = 1_000.0,
    temperature_c: float | None = None,
    hazardous: bool = False,
) -> ListingFacts:
    where = site(position)
    return ListingFacts(
        id=id,
        legal_unit=company,
        kind=kind,
        direction=direction,
        low_code=low_code if kind == "material" else None,
        quantity_per_year=quantity,
        temperature_c=temperature_c,
        hazardous=hazardous,
        h3_cell=where["h3_cell"],
        departement_code=where["departement_code"],
        region_code=where["region_code"],
    )


# --- location ladder ---------------------------------------------------------------------------


def test_cell_at_gives_the_parent_at_the_public_resolution() -> None:
    cell = site(DUNKERQUE)["h3_cell"]
    parent = cell_at(cell)
    assert PUBLIC_CELL_RESOLUTION == 6
    assert h3.get_resolution(parent) == 6
    assert parent == h3.cell_to_parent(cell, 6)
    assert cell_at(cell, SITE_CELL_RESOLUTION) == cell
    assert h3.get_resolution(cell_at(cell, 5)) == 5
    # Two plants a few hundred metres apart share their public cell.
    assert cell_at(site(DUNKERQUE_NEAR)["h3_cell"]) == parent
    assert cell_at(site(LILLE)["h3_cell"]) != parent


def test_cell_at_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        cell_at("not-a-cell")
    with pytest.raises(ValueError):
        cell_at(cell_at(site(DUNKERQUE)["h3_cell"], 6), SITE_CELL_RESOLUTION)


def test_location_key_at_each_level() -> None:
    where = site(CALAIS)
    args = (where["h3_cell"], where["departement_code"], where["region_code"])
    assert location_key(*args, LocationLevel.CELL) == "62:" + cell_at(where["h3_cell"])
    assert location_key(*args, LocationLevel.CELL, resolution=7) == "62:" + cell_at(
        where["h3_cell"], 7
    )
    assert location_key(*args, LocationLevel.DEPARTEMENT) == "62"
    assert location_key(*args, LocationLevel.REGION) == "32"


# --- material ladder ---------------------------------------------------------------------------


def test_material_key_climbs_code_subchapter_chapter_family() -> None:
    assert material_key("100102", "material", MaterialLevel.CODE) == "100102"
    assert material_key("100102", "material", MaterialLevel.SUBCHAPTER) == "1001"
    assert material_key("100102", "material", MaterialLevel.CHAPTER) == "10"
    assert material_key("100102", "material", MaterialLevel.FAMILY) == "mineraux"


@pytest.mark.parametrize("kind", ["heat", "water", "gas"])
def test_non_material_kinds_are_their_own_key_at_every_level(kind: str) -> None:
    for level in MaterialLevel:
        assert material_key(None, kind, level) == kind
    assert family_of(None, kind).key == kind


def test_material_without_code_is_just_material() -> None:
    assert material_key(None, "material", MaterialLevel.CODE) == "material"
    assert family_of(None, "material").key == "material"


@pytest.mark.parametrize("code", ["10010", "1001020", "10 01 02", "ab0102", "990102", "000000"])
def test_material_key_rejects_what_is_not_a_compact_code(code: str) -> None:
    with pytest.raises(ValueError):
        material_key(code, "material", MaterialLevel.CODE)


def test_unknown_kind_is_rejected() -> None:
    with pytest.raises(ValueError):
        material_key(None, "plasma", MaterialLevel.CODE)
    with pytest.raises(ValueError):
        quantity_class("plasma", 10)


def test_every_chapter_has_a_family_with_both_labels() -> None:
    assert sorted(CHAPTER_FAMILY) == [f"{n:02d}" for n in range(1, 21)]
    material_families = set(CHAPTER_FAMILY.values())
    assert 6 <= len(material_families) <= 10
    for key in material_families | {"heat", "water", "gas", "material"}:
        family = FAMILIES[key]
        assert family.key == key and family.label_fr and family.label_en


@pytest.mark.parametrize(
    ("code", "family"),
    [
        ("100102", "mineraux"),  # fly ash
        ("100105", "mineraux"),  # FGD gypsum
        ("100202", "mineraux"),  # blast-furnace slag
        ("170504", "mineraux"),  # soil and stones
        ("020304", "organiques"),  # starch plant co-products
        ("190805", "organiques"),  # urban waste water sludge
        ("030305", "bois_fibres"),  # de-inking sludge
        ("070512", "chimie"),  # pharmaceutical plant sludge
        ("130205", "hydrocarbures"),  # engine oil
        ("120101", "metaux"),  # ferrous filings
        ("150103", "emballages"),  # wooden pallets
        ("160601", "divers"),  # lead batteries
    ],
)
def test_family_of_the_products_examples(code: str, family: str) -> None:
    assert family_of(code, "material").key == family


# --- quantity classes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "band", "label"),
    [
        (0, 0, "< 10 t/an"),
        (9.99, 0, "< 10 t/an"),
        (10, 1, "10 – 100 t/an"),
        (99.9, 1, "10 – 100 t/an"),
        (100, 2, "100 – 1 000 t/an"),
        (999, 2, "100 – 1 000 t/an"),
        (1_000, 3, "1 000 – 10 000 t/an"),
        (50_000, 4, "10 000 – 100 000 t/an"),
        (100_000, 5, "≥ 100 000 t/an"),
        (3e7, 5, "≥ 100 000 t/an"),
    ],
)
def test_quantity_bands_are_powers_of_ten(quantity: float, band: int, label: str) -> None:
    result = quantity_class("material", quantity)
    assert (result.band, result.label, result.unit) == (band, label, "t/an")
    assert result.temperature_label is None
    if result.lower is not None:
        assert quantity >= result.lower
    if result.upper is not None:
        assert quantity < result.upper


def test_quantity_units_per_kind_and_english_labels() -> None:
    assert quantity_class("heat", 25_000).label == "10 000 – 100 000 MWh/an"
    assert quantity_class("water", 500).label == "100 – 1 000 m³/an"
    assert quantity_class("gas", 2e6).label == "≥ 100 000 m³/an"
    assert quantity_class("material", 1_500).label_en == "1,000 – 10,000 t/yr"
    assert quantity_class("heat", 5).label_en == "< 10 MWh/yr"


def test_a_gas_metered_in_energy_is_classed_in_mwh() -> None:
    energy = quantity_class("gas", 2e6, base_unit="MWh/yr")
    assert (energy.band, energy.unit, energy.label) == (5, "MWh/an", "≥ 100 000 MWh/an")
    assert energy.label_en == "≥ 100,000 MWh/yr"
    assert quantity_class("gas", 2e6, base_unit="m3/yr").label == "≥ 100 000 m³/an"
    assert quantity_label_en("100 – 1 000 m³/an") == "100 – 1,000 m³/yr"
    assert quantity_label_en("100 – 1 000 MWh/an") == "100 – 1,000 MWh/yr"
    with pytest.raises(ValueError):
        quantity_class("gas", 10, base_unit="furlong/yr")
    facts = replace(listing(1, "u1", kind="gas", quantity=500.0), base_unit="MWh/yr")
    shown = view_at(facts, 0).quantity_class
    assert shown is not None and shown.label == "100 – 1 000 MWh/an"
    pooled = aggregate_class("gas", {"a": 500.0, "b": 600.0}, base_unit="MWh/yr")
    assert pooled is not None and pooled.unit == "MWh/an"


@pytest.mark.parametrize(
    ("temperature", "label"),
    [
        (-5, "< 40 °C"),
        (39.9, "< 40 °C"),
        (40, "40–90 °C"),
        (89.9, "40–90 °C"),
        (90, "90–150 °C"),
        (150, "90–150 °C"),
        (150.1, "> 150 °C"),
        (450, "> 150 °C"),
    ],
)
def test_heat_carries_a_temperature_class(temperature: float, label: str) -> None:
    result = quantity_class("heat", 12_000, temperature_c=temperature)
    assert result.temperature_label == label
    assert temperature_class(temperature)[1] == label
    # Only heat is classed by temperature.
    assert quantity_class("water", 12_000, temperature_c=temperature).temperature_label is None


def test_heat_without_temperature_has_no_temperature_class() -> None:
    assert quantity_class("heat", 12_000).temperature_band is None


@pytest.mark.parametrize("quantity", [-1.0, math.nan])
def test_quantity_class_rejects_what_is_not_a_quantity(quantity: float) -> None:
    with pytest.raises(ValueError):
        quantity_class("material", quantity)


# --- k-anonymity -------------------------------------------------------------------------------


def test_three_companies_in_one_cell_publish_the_exact_code_and_cell() -> None:
    result = generalise(
        [listing(1, "a"), listing(2, "b", DUNKERQUE_NEAR), listing(3, "c", DUNKERQUE_NEAR)]
    )
    for entry in result.values():
        assert entry.step == 0
        assert (entry.material_level, entry.material_key) == (MaterialLevel.CODE, "100102")
        assert entry.location_level is LocationLevel.CELL
        assert entry.location_key == "59:" + cell_at(site(DUNKERQUE)["h3_cell"])
        assert not entry.brokered_only
        assert entry.family.key == "mineraux"
        assert entry.quantity_class is not None


def test_location_is_coarsened_before_material() -> None:
    # Two companies share a cell, a third is elsewhere in the département: all go to "59".
    result = generalise([listing(1, "a"), listing(2, "b", DUNKERQUE_NEAR), listing(3, "c", LILLE)])
    assert {(g.step, g.material_key, g.location_key) for g in result.values()} == {
        (1, "100102", "59")
    }
    # Spread over the région: code kept, location "32".
    result = generalise([listing(1, "a"), listing(2, "b", CALAIS), listing(3, "c", AMIENS)])
    assert {(g.step, g.material_key, g.location_key) for g in result.values()} == {
        (2, "100102", "32")
    }


def test_material_is_coarsened_at_region_level() -> None:
    result = generalise(
        [
            listing(1, "a", low_code="100102"),
            listing(2, "b", CALAIS, low_code="100105"),
            listing(3, "c", AMIENS, low_code="100107"),
        ]
    )
    assert {(g.material_level, g.material_key, g.location_key) for g in result.values()} == {
        (MaterialLevel.SUBCHAPTER, "1001", "32")
    }
    result = generalise(
        [
            listing(1, "a", low_code="100102"),
            listing(2, "b", CALAIS, low_code="100202"),
            listing(3, "c", AMIENS, low_code="101201"),
        ]
    )
    assert {(g.step, g.material_key, g.location_key) for g in result.values()} == {(4, "10", "32")}


def test_too_few_companies_means_brokered_only() -> None:
    result = generalise([listing(1, "a"), listing(2, "b"), listing(3, "c", LE_HAVRE)])
    for entry in result.values():
        assert entry.brokered_only
        assert entry.step is None
        assert entry.quantity_class is None
        # Should it ever be shown, it says no more than its coarsest step.
        assert entry.material_level is MaterialLevel.CHAPTER
        assert entry.location_level is LocationLevel.REGION


def test_legal_units_are_counted_not_listings() -> None:
    # Three establishments of one legal unit (one SIREN) are one company to whoever reads.
    result = generalise([listing(i, "siren-a") for i in range(5)] + [listing(9, "b")])
    assert all(g.brokered_only for g in result.values())


def test_offers_and_requests_and_kinds_are_never_pooled() -> None:
    entries = [
        listing(1, "a"),
        listing(2, "b", direction="request"),
        listing(3, "c", kind="heat"),
    ]
    assert all(g.brokered_only for g in generalise(entries).values())


def test_heat_water_gas_only_climb_the_location_ladder() -> None:
    entries = [
        listing(1, "a", kind="heat", temperature_c=95),
        listing(2, "b", CALAIS, kind="heat", temperature_c=60),
        listing(3, "c", AMIENS, kind="heat", temperature_c=200),
    ]
    result = generalise(entries)
    for entry in result.values():
        assert (entry.step, entry.material_level, entry.material_key) == (
            2,
            MaterialLevel.FAMILY,
            "heat",
        )
        assert entry.location_key == "32"
        assert entry.family.key == "heat"
    assert result[1].quantity_class is not None
    assert result[1].quantity_class.temperature_label == "90–150 °C"
    assert len(KIND_LADDER) == 3 and len(MATERIAL_LADDER) == 5


def test_a_lone_listing_cannot_hide_behind_companies_published_finer() -> None:
    # a, b, d publish 100102 in the Nord. c alone has 100105: its subchapter cell in the région
    # holds four companies, but the three others all show finer detail, so the public would see
    # one single listing at "1001, région 32", singling c out. It must stay brokered.
    entries = [
        listing(1, "a"),
        listing(2, "b", DUNKERQUE_NEAR),
        listing(3, "d", DUNKERQUE_NEAR),
        listing(4, "c", AMIENS, low_code="100105"),
    ]
    result = generalise(entries)
    assert [result[i].step for i in (1, 2, 3)] == [0, 0, 0]
    assert result[4].brokered_only


def test_a_single_listings_class_depends_on_its_own_quantity_only() -> None:
    # One company holds 90 % of the cell: dominance is for aggregates, a single listing still shows
    # its own class (a « présent » that flips with the neighbours' tonnages would be an oracle).
    entries = [
        listing(1, "a", quantity=90_000),
        listing(2, "b", DUNKERQUE_NEAR, quantity=5_000),
        listing(3, "c", DUNKERQUE_NEAR, quantity=5_000),
    ]
    result = generalise(entries)
    labels = {i: g.quantity_class.label for i, g in result.items() if g.quantity_class}
    assert labels == {
        1: "10 000 – 100 000 t/an",
        2: "1 000 – 10 000 t/an",
        3: "1 000 – 10 000 t/an",
    }
    for tonnage in (5, 5_001, 9_999, 80_000):
        swept = [entries[0], entries[1], listing(3, "c", DUNKERQUE_NEAR, quantity=tonnage)]
        assert generalise(swept)[1] == result[1]


def test_class_representatives_are_the_geometric_middles_of_the_bands() -> None:
    assert class_representative(2) == pytest.approx(316.23, rel=1e-4)
    assert class_representative(0) == pytest.approx(3.1623, rel=1e-4)  # "< 10"
    assert class_representative(5) == pytest.approx(316_227.8, rel=1e-4)  # "≥ 100 000"
    for band in range(6):
        assert quantity_class("material", class_representative(band)).band == band
    with pytest.raises(ValueError):
        class_representative(6)


def test_an_aggregate_is_a_class_of_the_sum_of_its_legal_units_classes() -> None:
    # 3 × 316 = 949: "100 – 1 000", although the exact sum 2 700 is in the next band.
    pool = aggregate_class("material", {"a": 900, "b": 900, "c": 900})
    assert pool is not None and pool.label == "100 – 1 000 t/an"
    # One legal unit far above the others (on representatives: 3 162 of 3 257): « présent ».
    assert aggregate_class("material", {"a": 5_000, "b": 15, "c": 15, "d": 15}) is None
    # 3 162 of 4 111 (77 %): a class, whatever the exact tonnages inside those classes.
    assert aggregate_class("material", {"a": 9_999, "b": 100, "c": 100, "d": 100}) is not None
    assert aggregate_class("material", {"a": 5_000}) is None
    assert aggregate_class("material", {}) is None


def test_moving_ones_share_inside_its_class_changes_no_aggregate() -> None:
    others = {"b": 420.0, "c": 7_300.0}
    cards = {aggregate_class("material", others | {"a": share}) for share in range(100, 1000, 7)}
    assert len(cards) == 1
    # Whatever the others' exact tonnages within their classes, the same answers.
    for b, c in ((101.0, 1_000.0), (999.0, 9_999.0)):
        swept = [aggregate_class("material", {"a": x, "b": b, "c": c}) for x in (5, 50, 500, 5e3)]
        expected = [aggregate_class("material", others | {"a": x}) for x in (5, 50, 500, 5e3)]
        assert swept == expected


def test_k_is_a_parameter() -> None:
    entries = [listing(1, "a"), listing(2, "b", DUNKERQUE_NEAR)]
    assert all(g.brokered_only for g in generalise(entries).values())
    assert all(g.step == 0 for g in generalise(entries, k=2).values())
    assert all(g.step == 0 for g in generalise([listing(1, "a")], k=1).values())
    with pytest.raises(ValueError):
        generalise(entries, k=0)


def test_duplicate_ids_are_rejected() -> None:
    with pytest.raises(ValueError):
        generalise([listing(1, "a"), listing(1, "b")])


def test_no_listings_no_result() -> None:
    assert generalise([]) == {}


# --- property: every published cell holds k companies ------------------------------------------

POSITIONS = [DUNKERQUE, DUNKERQUE_NEAR, GRAVELINES, LILLE, CALAIS, AMIENS, LE_HAVRE]
CODES = ["100102", "100105", "100107", "100202", "100201", "030305", "030310", "150103", None]


def random_listings(rng: random.Random, count: int, companies: int) -> list[ListingFacts]:
    entries = []
    for i in range(count):
        lat, lon, departement, region = rng.choice(POSITIONS)
        # Jitter within a few hundred metres: distinct site cells, often the same public cell.
        position = (lat + rng.uniform(-0.004, 0.004), lon + rng.uniform(-0.004, 0.004))
        kind = rng.choices(["material", "heat", "water", "gas"], weights=[6, 2, 1, 1])[0]
        entries.append(
            listing(
                id=f"flow-{i}",
                company=f"company-{rng.randrange(companies)}",
                position=(*position, departement, region),
                low_code=rng.choice(CODES),
                kind=kind,
                direction=rng.choice(["offer", "request"]),
                quantity=rng.choice([0, 1, 50, 800, 12_000, 2e5]) * rng.uniform(0.5, 1.5),
                temperature_c=rng.uniform(20, 300) if kind == "heat" else None,
            )
        )
    return entries


def published_groups(
    entries: list[ListingFacts], result: dict[Hashable, Generalised], with_levels: bool
) -> dict[tuple[str, ...], set[Hashable]]:
    groups: dict[tuple[str, ...], set[Hashable]] = defaultdict(set)
    for entry in entries:
        g = result[entry.id]
        if g.brokered_only:
            continue
        key: tuple[str, ...] = (entry.kind, entry.direction, g.material_key, g.location_key)
        if with_levels:
            key += (g.material_level.value, g.location_level.value)
        groups[key].add(entry.legal_unit)
    return groups


@pytest.mark.parametrize("seed", range(40))
def test_every_published_cell_holds_at_least_k_companies(seed: int) -> None:
    rng = random.Random(seed)
    k = rng.choice([2, 3, 3, 3, 4, 5])
    entries = random_listings(rng, count=rng.randrange(5, 150), companies=rng.randrange(2, 25))
    result = generalise(entries, k=k)
    assert set(result) == {e.id for e in entries}

    # As the public sees it: listings showing the same material and place, level included or not
    # (a département and a région may share a code; merging them can only raise the count).
    for with_levels in (True, False):
        for key, companies in published_groups(entries, result, with_levels).items():
            assert len(companies) >= k, (seed, key, companies)

    for entry in entries:
        g = result[entry.id]
        ladder = MATERIAL_LADDER if g.material_level is not MaterialLevel.FAMILY else KIND_LADDER
        if g.brokered_only:
            assert g.step is None and g.quantity_class is None
            continue
        assert g.step is not None
        # The published keys are exactly the listing's own values at its step.
        assert (g.material_level, g.location_level) == ladder[g.step]
        assert g.material_key == material_key(entry.low_code, entry.kind, g.material_level)
        assert g.location_key == location_key(
            entry.h3_cell, entry.departement_code, entry.region_code, g.location_level
        )
        assert g.quantity_class == quantity_class(
            entry.kind, entry.quantity_per_year, entry.temperature_c
        )


@pytest.mark.parametrize("seed", range(30))
def test_runs_with_pins_and_ghosts_never_refine_and_keep_k_with_ghosts(seed: int) -> None:
    """Publication runs over churn: listings come and go between runs; a listing public at a run
    is never finer at the next, and every published cell holds k legal units counting the ghosts
    of the listings that left it (the hysteresis)."""
    rng = random.Random(3_000 + seed)
    k = rng.choice([2, 3, 3, 4])
    pool = random_listings(rng, count=120, companies=rng.randrange(3, 20))
    live = {e.id: e for e in rng.sample(pool, 40)}
    pinned: dict[Hashable, int] = {}
    ghosts: list[Ghost] = []
    for _run in range(8):
        result = generalise(live.values(), k=k, pinned=pinned, ghosts=ghosts)
        cells: dict[tuple[int, str], set[Hashable]] = defaultdict(set)
        for entry in live.values():
            g = result[entry.id]
            if entry.id in pinned:
                # Never finer than before: brokered only, or the same step or a coarser one.
                assert g.step is None or g.step >= pinned[entry.id], (seed, entry.id)
            if g.step is not None:
                cells[(g.step, cell_key(entry, g.step))].add(entry.legal_unit)
        departed: dict[tuple[int, str], set[Hashable]] = defaultdict(set)
        for ghost in ghosts:
            departed[(ghost.step, ghost.cell)].add(ghost.legal_unit)
        for cell, units in cells.items():
            assert len(units | departed[cell]) >= k, (seed, cell)
        pinned = {i: g.step for i, g in result.items() if g.step is not None}
        # Between runs: some leave (ghosts of their cells), some arrive (waiting).
        for entry in rng.sample(list(live.values()), min(len(live), rng.randrange(0, 8))):
            del live[entry.id]
            step = pinned.pop(entry.id, None)
            if step is not None:
                ghosts.append(Ghost(step, cell_key(entry, step), entry.legal_unit))
        for entry in rng.sample(pool, rng.randrange(0, 8)):
            live.setdefault(entry.id, entry)
        # The hysteresis ends: the oldest ghosts are forgotten.
        ghosts = ghosts[rng.randrange(0, len(ghosts) + 1) :]


def test_a_pinned_listing_stays_with_ghosts_and_moves_only_coarser() -> None:
    a, b = listing(1, "a"), listing(2, "b", DUNKERQUE_NEAR)
    c = listing(3, "c", DUNKERQUE_NEAR)
    first = generalise([a, b, c])
    assert {g.step for g in first.values()} == {0}
    # c withdraws: with its ghost, a and b keep their cell; without it, they climb, never finer.
    ghost = Ghost(0, cell_key(c, 0), "c")
    kept = generalise([a, b], pinned={1: 0, 2: 0}, ghosts=[ghost])
    assert {g.step for g in kept.values()} == {0}
    alone = generalise([a, b, listing(4, "d", LILLE)], pinned={1: 0, 2: 0})
    assert {g.step for g in alone.values()} == {1}
    assert all(g.brokered_only for g in generalise([a, b], pinned={1: 0, 2: 0}).values())
    # Pinned at the département, a and b never come back to their cell, even were c back: c,
    # alone there without them, joins their département.
    coarse = generalise([a, b, c, listing(4, "d", LILLE)], pinned={1: 1, 2: 1, 4: 1})
    assert {g.step for g in coarse.values()} == {1}


def test_ghosts_alone_never_open_a_cell_for_a_new_listing() -> None:
    ghosts = [Ghost(0, cell_key(listing(i, u), 0), u) for i, u in ((8, "x"), (9, "y"))]
    # Two departed units and one newcomer: no listing is shown there any more, so no cell.
    assert generalise([listing(1, "a")], ghosts=ghosts)[1].brokered_only
    # A newcomer may join a cell a pinned listing still holds (with its ghosts).
    joined = generalise([listing(1, "a"), listing(2, "b")], pinned={2: 0}, ghosts=ghosts)
    assert joined[1].step == 0 and joined[2].step == 0


@pytest.mark.parametrize("seed", range(5))
def test_the_result_does_not_depend_on_the_order_of_listings(seed: int) -> None:
    rng = random.Random(2_000 + seed)
    entries = random_listings(rng, count=100, companies=10)
    shuffled = entries[:]
    rng.shuffle(shuffled)
    assert generalise(entries) == generalise(shuffled)


# --- distances ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("km", "band"),
    [
        (0, "< 10 km"),
        (9.99, "< 10 km"),
        (10, "10–30 km"),
        (29.9, "10–30 km"),
        (30, "30–80 km"),
        (80, "80–200 km"),
        (199.9, "80–200 km"),
        (200, "> 200 km"),
        (950, "> 200 km"),
    ],
)
def test_distance_bands(km: float, band: str) -> None:
    assert distance_band(km) == band


@pytest.mark.parametrize("km", [-1.0, math.nan])
def test_distance_band_rejects_what_is_not_a_distance(km: float) -> None:
    with pytest.raises(ValueError):
        distance_band(km)


def test_haversine_km() -> None:
    paris, lyon = (48.8566, 2.3522), (45.7640, 4.8357)
    assert haversine_km(*paris, *lyon) == pytest.approx(392, abs=2)
    assert haversine_km(*lyon, *paris) == pytest.approx(haversine_km(*paris, *lyon))
    assert haversine_km(*paris, *paris) == 0
    dunkerque_lille = haversine_km(DUNKERQUE[0], DUNKERQUE[1], LILLE[0], LILLE[1])
    assert distance_band(dunkerque_lille) == "30–80 km"
    # Antipodes: half the Earth's circumference, no domain error from rounding.
    assert haversine_km(0, 0, 0, 180) == pytest.approx(math.pi * 6371.0088)


# --- the hazardous flag and sliver cells (red team findings) ------------------------------------


def test_the_hazardous_flag_is_part_of_the_cell_at_every_level() -> None:
    # 15 02 02* and 15 02 03 share subchapter and chapter: the flag alone would tell them apart.
    hazardous = listing(1, "a", low_code="150202", hazardous=True)
    other = listing(2, "b", low_code="150203")
    for step in range(len(MATERIAL_LADDER)):
        assert cell_key(hazardous, step).split("|")[4] == "hazardous"
        assert cell_key(hazardous, step) != cell_key(other, step)


def test_a_lone_hazardous_code_is_not_hidden_among_non_hazardous_neighbours() -> None:
    entries = [
        listing(1, "victim", LILLE, low_code="150202", hazardous=True),
        listing(2, "b", LILLE, low_code="150203"),
        listing(3, "c", CALAIS, low_code="150203"),
    ]
    views = generalise(entries, k=3)
    assert views[1].brokered_only
    # Three hazardous ones of the same subchapter make a cell of their own.
    entries += [
        listing(4, "d", AMIENS, low_code="150202", hazardous=True),
        listing(5, "e", CALAIS, low_code="150202", hazardous=True),
    ]
    views = generalise(entries, k=3)
    assert views[1].step is not None and not views[1].brokered_only


def test_a_sliver_cell_is_skipped_for_the_departement() -> None:
    # Gravelines' resolution-6 cell keeps under a fifth of its hexagon in the Nord (sea and the
    # Pas-de-Calais take the rest); Lille's lies whole in it.
    gravelines, lille = site(GRAVELINES), site(LILLE)
    assert not cell_mostly_in_departement("59", cell_at(gravelines["h3_cell"]))
    assert cell_mostly_in_departement("59", cell_at(lille["h3_cell"]))
    assert not cell_mostly_in_departement("unknown", cell_at(lille["h3_cell"]))
    assert not offers_step(listing(1, "a", GRAVELINES), 0)
    assert offers_step(listing(1, "a", GRAVELINES), 1)
    assert offers_step(listing(1, "a", LILLE), 0)
    entries = [listing(i, f"c{i}", GRAVELINES) for i in range(3)]
    views = generalise(entries, k=3)
    assert {v.location_level for v in views.values()} == {LocationLevel.DEPARTEMENT}
    # A listing pinned at the cell step before the rule moves to the département, never finer.
    views = generalise(entries, k=3, pinned={0: 0, 1: 0, 2: 0})
    assert {v.location_level for v in views.values()} == {LocationLevel.DEPARTEMENT}
