"""The substitution knowledge base (marketplace/matching/data) and material compatibility: the
files hold what the reference lists know, cover PRODUCT.md's pairs and the common residues, and
requests written as plants write them (no code, a sector and a use) meet the right offers."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from marketplace.matching import knowledge
from marketplace.matching.compatibility import MaterialSide, material_compatibility
from marketplace.matching.knowledge import (
    KnowledgeBaseError,
    archetypes,
    codes_for_words,
    disposal_route,
    factor,
    factors,
    max_distance_km,
    substitution_ratio,
    virgin_slug,
    words_of,
)

REFERENCE = Path(__file__).resolve().parents[1] / "core" / "reference" / "data"
HIGH = 0.8
LOW = 0.2


def _reference(name: str, column: str) -> set[str]:
    with (REFERENCE / name).open(encoding="utf-8", newline="") as handle:
        return {row[column] for row in csv.DictReader(handle)}


def offer(code: str | None, label: str = "", kind: str = "material") -> MaterialSide:
    return MaterialSide(kind=kind, low_code=code, label=label, description="")


def request(
    label: str,
    nace: str | None,
    *,
    kind: str = "material",
    description: str = "",
    virgin: str | None = None,
    code: str | None = None,
) -> MaterialSide:
    return MaterialSide(kind, code, label, description, virgin_material=virgin, nace=nace)


def score(offered: MaterialSide, asked: MaterialSide) -> float:
    return material_compatibility(offered, asked).score


# --------------------------------------------------------------------------- the data files


def test_the_knowledge_base_holds_at_least_120_sourced_bilingual_archetypes():
    found = archetypes()
    assert len(found) >= 120
    assert len({a.id for a in found}) == len(found)
    for archetype in found:
        assert archetype.source.strip(), archetype.id
        for text in (
            archetype.residue_fr,
            archetype.residue_en,
            archetype.use_fr,
            archetype.use_en,
            archetype.virgin_material_fr,
            archetype.virgin_material_en,
        ):
            assert text.strip(), archetype.id
        assert archetype.words_fr and archetype.words_en, archetype.id
    assert {a.kind for a in found} == {"material", "heat", "water", "gas"}


def test_every_code_sector_operation_and_act_is_in_the_reference_lists():
    low = _reference("list_of_waste.csv", "code_compact")
    naf = _reference("naf_rev2.csv", "code")
    operations = _reference("recovery_disposal_operations.csv", "code")
    acts = _reference("end_of_waste_acts.csv", "reference")
    for archetype in archetypes():
        assert all(code in low for code in archetype.residue_low_codes), archetype.id
        assert archetype.receiving_nace, archetype.id
        assert all(code in naf for code in archetype.receiving_nace), archetype.id
        if archetype.kind == "material":
            assert archetype.residue_low_codes, archetype.id
            assert archetype.recovery_operation in operations, archetype.id
            assert archetype.recovery_operation.startswith("R"), archetype.id
        else:
            assert not archetype.residue_low_codes, archetype.id
            assert archetype.regulatory_route == "outside-waste-law", archetype.id
        if archetype.end_of_waste_act:
            assert archetype.end_of_waste_act in acts, archetype.id
            assert archetype.regulatory_route == "end-of-waste", archetype.id


def test_every_end_of_waste_act_of_the_reference_list_is_used():
    used = {a.end_of_waste_act for a in archetypes()}
    assert _reference("end_of_waste_acts.csv", "reference") <= used


@pytest.fixture
def broken_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the data folder that a test may break; the module reads it instead."""
    copy = tmp_path / "data"
    shutil.copytree(knowledge.DATA, copy)
    monkeypatch.setattr(knowledge, "DATA", copy)
    caches = (knowledge.archetypes, knowledge.factors, knowledge._ranges)
    for cached in caches:
        cached.cache_clear()
    yield copy
    monkeypatch.undo()
    for cached in caches:
        cached.cache_clear()


def _rewrite(path: Path, change: dict[str, str], line: int = 2) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = list(reader.fieldnames or []), list(reader)
    rows[line - 2].update(change)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"residue_low_codes": "100102 999999"}, "'999999' is not in the List of Waste"),
        ({"receiving_nace": "23.58"}, "'23.58' is not in NAF"),
        ({"recovery_operation": "D 1"}, "is not a recovery (R) operation"),
        ({"end_of_waste_act": "Arrêté du 1er avril 2099"}, "is not in the reference list"),
        ({"source": ""}, "source is empty"),
        ({"words_en": ""}, "words_en is empty"),
        ({"regulatory_route": "maybe"}, "regulatory_route 'maybe'"),
        ({"virgin_material_en": "unobtainium"}, "no price.virgin.unobtainium"),
    ],
)
def test_a_bad_substitutions_file_is_refused_with_its_line(broken_copy, change, said):
    _rewrite(broken_copy / "substitutions.csv", change, line=3)
    with pytest.raises(KnowledgeBaseError) as refused:
        archetypes()
    assert said in str(refused.value)
    if "virgin" not in said:
        assert "line 3" in str(refused.value)


def test_bad_factor_and_range_files_are_refused(broken_copy):
    _rewrite(broken_copy / "economics.csv", {"value": "cheap"})
    with pytest.raises(KnowledgeBaseError, match="line 2: value 'cheap' is not a number"):
        factors()
    _rewrite(broken_copy / "transport_ranges.csv", {"low_codes": "100102 123456"}, line=6)
    with pytest.raises(KnowledgeBaseError, match="'123456' is not a List of Waste code"):
        max_distance_km("material", "100102")


def test_every_virgin_material_has_a_price_and_an_emission_factor():
    for archetype in archetypes():
        slug = virgin_slug(archetype)
        assert factor(f"price.virgin.{slug}") > 0, archetype.id
        assert factor(f"co2e.virgin.{slug}") >= 0, archetype.id
        assert 0 < substitution_ratio(archetype) <= 2, archetype.id
    assert virgin_slug(archetypes()[0]) == "clinker"


def test_the_documented_factor_keys_exist_with_units_and_sources():
    for mode in ("road", "rail", "barge"):
        assert 0 < factor(f"cost.transport.{mode}") < 1
        assert 0 < factor(f"co2e.transport.{mode}") < 0.2
    assert factor("cost.transport.road") > factor("cost.transport.rail")
    assert factor("co2e.transport.road") > factor("co2e.transport.rail")
    for utility in ("heat", "water", "gas"):
        assert factor(f"cost.pipe.{utility}") > 0
    routes = [
        disposal_route(op, hazardous, code)
        for op, hazardous, code in [
            ("D 1", False, "100102"),
            ("D 5", True, None),
            ("D 10", False, None),
            ("D 10", True, None),
            ("R 1", False, None),
            ("R 10", False, None),
            ("R 5", False, None),
            (None, False, "17 01 01"),
            (None, False, "020304"),
        ]
    ]
    assert routes == [
        "landfill_nonhazardous",
        "landfill_hazardous",
        "incineration",
        "incineration_hazardous",
        "energy_recovery",
        "land_spreading",
        "recovery",
        "landfill_inert",
        "landfill_nonhazardous_organic",
    ]
    for route in routes:
        assert factor(f"cost.disposal.{route}") > 0
        assert factor(f"co2e.disposal.{route}") >= 0
    assert factor("cost.disposal.landfill_hazardous") > factor("cost.disposal.landfill_inert")
    assert factor("co2e.heat.natural_gas_boiler") > factor("co2e.electricity.france")
    assert all(f.unit and f.source for f in factors().values())
    with pytest.raises(KeyError, match=r"no factor 'cost\.teleportation'"):
        factor("cost.teleportation")


def test_transport_ranges_heat_and_water_a_few_km_bulk_minerals_far_metals_farther():
    assert max_distance_km("heat", None) <= 15
    assert max_distance_km("water", None) <= 15
    assert max_distance_km("gas", None) <= 50
    fly_ash, soil = max_distance_km("material", "100102"), max_distance_km("material", "170504")
    sludge = max_distance_km("material", "19 08 05")
    steel, copper = max_distance_km("material", "170405"), max_distance_km("material", "170401")
    assert soil < sludge < fly_ash < steel < copper
    assert fly_ash >= 200 and steel >= 500
    assert max_distance_km("material", "16 08 01*") > copper
    assert max_distance_km("material", None) == max_distance_km("material", "180101")
    with pytest.raises(ValueError, match="unknown kind"):
        max_distance_km("plasma", None)


# ------------------------------------------------------------------------- the residues


COMMON_RESIDUES = {
    "ashes": "100102",
    "slags": "100202",
    "gypsum": "100105",
    "foundry sands": "100908",
    "paper sludge": "030305",
    "sewage sludge": "190805",
    "spent grains": "020799",
    "whey": "020501",
    "bran": "020399",
    "beet pulp": "020499",
    "shells": "020202",
    "animal by-products": "020203",
    "sawdust": "030105",
    "wood packaging": "150103",
    "paper and board": "150101",
    "plastics": "150102",
    "rubber": "160103",
    "ferrous metals": "120101",
    "copper": "170401",
    "aluminium": "170402",
    "glass cullet": "150107",
    "textiles": "200111",
    "solvents": "140603",
    "oils": "130205",
    "acids": "060101",
    "bases": "060204",
}


@pytest.mark.parametrize(("family", "code"), sorted(COMMON_RESIDUES.items()))
def test_each_common_residue_has_an_archetype(family, code):
    assert knowledge.archetypes_for_code(code), family


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("heat", "chaleur fatale"),
        ("heat", "vapeur"),
        ("water", "eau de refroidissement"),
        ("gas", "CO2"),
        ("gas", "gaz de haut fourneau"),
        ("gas", "biogaz"),
        ("gas", "hydrogène"),
    ],
)
def test_each_utility_has_an_archetype(kind, words):
    named = knowledge.named_residues(words_of(words))
    assert any(archetypes()[i].kind == kind for i in named)


# ------------------------------------------------------------------ PRODUCT.md's real pairs

MATERIAL_PAIRS = [
    # (offer codes, taker's NACE, request in French, request in English)
    (["100102"], "23.51Z", "matière première pour ciment", "raw material for cement"),
    (["100102"], "23.63Z", "cendres pour béton", "concrete addition"),
    (["100105", "100107"], "23.62Z", "remplace le gypse naturel", "replaces natural gypsum"),
    (["070512"], "01.46Z", "aliment pour porcs", "pig feed"),
    (["070512"], "01.11Z", "engrais organique", "organic fertiliser"),
    (["030305", "030310"], "23.32Z", "agent porogène pour briques", "pore-former for bricks"),
    (["030305", "030310"], "23.32Z", "combustible pour le four", "kiln fuel"),
    (["100202"], "42.11Z", "granulats routiers", "road aggregate"),
    (["020304", "020399"], "01.49Z", "alimentation des larves", "larvae feed"),
    (["020106"], "01.13Z", "fertilisant (frass)", "insect frass as fertiliser"),
    (["150103"], "31.09Z", "bois de palettes pour meubles", "pallet wood for furniture"),
    (["150103"], "16.24Z", "palettes d'occasion à réparer", "used pallets to repair"),
]


@pytest.mark.parametrize(("codes", "nace", "french", "english"), MATERIAL_PAIRS)
def test_every_material_pair_of_product_md_meets_high(codes, nace, french, english):
    for code in codes:
        for words in (french, english):
            found = material_compatibility(offer(code), request(words, nace))
            assert found.score >= HIGH, (code, words, found)
            assert found.archetype_id is not None


UTILITY_PAIRS = [
    ("heat", "Chaleur fatale des eaux de refroidissement", "03.22Z", "chauffage des bassins"),
    ("heat", "Waste heat from cooling water", "35.30Z", "heat for the district heating network"),
    ("water", "Eau de refroidissement tiède", "03.21Z", "eau tiède pour pisciculture"),
    ("heat", "Chaleur de process d'une usine agroalimentaire", "01.13Z", "chauffage de serre"),
    ("water", "Eau de process tiède", "01.13Z", "eau d'irrigation"),
    ("gas", "CO2 de fermentation", "01.13Z", "CO2 pour la fertilisation des serres"),
    ("gas", "Gaz de haut fourneau", "35.11Z", "combustible gazeux pour la centrale"),
    ("gas", "Blast-furnace gas", "35.11Z", "fuel gas for power generation"),
]


@pytest.mark.parametrize(("kind", "offered", "nace", "asked"), UTILITY_PAIRS)
def test_every_utility_pair_of_product_md_meets_high(kind, offered, nace, asked):
    found = material_compatibility(offer(None, offered, kind), request(asked, nace, kind=kind))
    assert found.score >= HIGH, found
    assert found.reasons[0] == f"both are {kind}"


# ------------------------------------------------------- requests as plants write them


def test_gypse_naturel_from_a_plasterboard_maker_meets_fgd_gypsum():
    found = material_compatibility(
        offer("100105", "Gypse de désulfuration"),
        request("gypse naturel pour plaques de plâtre", "23.62Z"),
    )
    assert found.score >= HIGH
    assert found.archetype_id == "fgd-gypsum-plasterboard"
    assert "NACE 23.62" in found.reasons[0]
    assert "[archetype fgd-gypsum-plasterboard]" in found.reasons[0]
    assert any("« gypse naturel »" in reason for reason in found.reasons)


@pytest.mark.parametrize("code", ["100102", "100202"])
def test_ajouts_cimentaires_from_a_cement_plant_meets_fly_ash_and_slag(code):
    found = material_compatibility(offer(code), request("ajouts cimentaires", "23.51Z"))
    assert found.score >= HIGH
    assert any("« ajouts cimentaires »" in reason for reason in found.reasons)


@pytest.mark.parametrize("code", ["030305", "030310"])
def test_raw_material_for_bricks_from_a_brick_works_meets_paper_sludge(code):
    found = material_compatibility(offer(code), request("raw material for bricks", "23.32Z"))
    assert found.score >= HIGH
    assert found.archetype_id == "paper-sludge-bricks"


@pytest.mark.parametrize(
    ("offered", "asked"),
    [
        (offer("150103", "Palettes"), request("ajouts cimentaires", "23.51Z")),
        (offer("100102"), request("combustible de substitution", "23.51Z")),
        (offer("100102"), request("fish meal for aquafeed", "10.91Z")),
        (offer("020501", "Lactosérum"), request("gypse naturel", "23.62Z")),
        (offer("120101", "Chutes d'acier"), request("aliment pour porcs", "01.46Z")),
        (
            offer(None, "Hydrogène coproduit", "gas"),
            request("CO2 pour serres", "01.13Z", kind="gas"),
        ),
        (offer(None, "Chaleur fatale", "heat"), request("eau tiède", "03.22Z", kind="water")),
    ],
)
def test_unrelated_pairs_score_low(offered, asked):
    assert score(offered, asked) < LOW


def test_sector_alone_or_words_alone_give_a_partial_score_both_a_high_one():
    fgd = offer("100105")
    both = score(fgd, request("gypse naturel", "23.62Z"))
    words = score(fgd, request("gypse naturel", None))
    sector = score(fgd, request("Matière première", "23.62Z"))
    nothing = score(fgd, request("Matière première", "10.11Z"))
    assert both >= HIGH
    assert LOW < words < both and LOW < sector < both
    assert nothing == 0


def test_codes_compare_exactly_by_subchapter_and_by_chapter():
    asked = request("", None, code="10 01 02")
    assert score(offer("100102"), asked) == 1.0
    assert score(offer("100101"), asked) == pytest.approx(0.6)
    assert 0 < score(offer("100202"), asked) <= 0.3
    found = material_compatibility(offer("100101"), asked)
    assert found.reasons[0] == "same subchapter 10 01"


def test_a_request_code_in_the_same_archetype_with_the_sector_is_high_but_below_the_same_code():
    asked = request("", "23.62Z", code="100105")
    assert HIGH <= score(offer("100107"), asked) < score(offer("100105"), asked)


def test_words_are_folded_accents_plurals_and_case():
    fly_ash = offer("100102")
    plain = score(fly_ash, request("ajouts cimentaires", "23.51Z"))
    assert score(fly_ash, request("AJOUT CIMENTAIRE", "2351Z")) == plain
    assert score(fly_ash, request("Ajouts Cimentaires", "23.51")) == plain
    assert score(fly_ash, request("supplementary cementitious materials", "23.51")) == plain
    assert words_of("Plaques de plâtre") == words_of("plaque platre")
    assert words_of("métaux") == words_of("metal")
    assert words_of("fly ashes") == words_of("fly ash")
    assert words_of("raw material for bricks") == {"raw", "brick"}


def test_the_virgin_material_and_description_count_as_the_request_words():
    fgd = offer("100105")
    assert score(fgd, request("Matière première", "23.62Z", virgin="gypse naturel")) >= HIGH
    assert score(fgd, request("Besoin", "23.62Z", description="pour nos plaques")) >= HIGH


def test_kinds_compare_and_a_utility_without_evidence_scores_half():
    heat = offer(None, "Chaleur", "heat")
    assert score(heat, request("Besoin de chaleur", None, kind="heat")) == 0.5
    assert score(heat, request("chaleur", None, kind="material")) == 0
    assert score(offer("100102"), request("", None, kind="heat")) == 0


# ------------------------------------------------------------------ practitioners' words


@pytest.mark.parametrize(
    ("words", "first"),
    [
        ("palettes", "150103"),
        ("gypse de désulfuration", "100105"),
        ("fly ash", "100102"),
        ("cendres volantes", "100102"),
        ("lactosérum", "020501"),
        ("pneus usagés", "160103"),
        ("sables de fonderie", "100908"),
        ("boues de désencrage", "030305"),
    ],
)
def test_practitioners_words_find_their_codes_first(words, first):
    found = codes_for_words(words)
    assert found[0][0] == first
    assert all(0 < weight <= 1 for _, weight in found)
    assert [w for _, w in found] == sorted((w for _, w in found), reverse=True)


def test_levure_finds_brewery_and_pharmaceutical_yeast():
    top = [code for code, _ in codes_for_words("levure")[:5]]
    assert "020704" in top and "070512" in top


def test_words_that_name_nothing_find_nothing():
    assert codes_for_words("") == []
    assert codes_for_words("de la pour les") == []
    assert codes_for_words("xylophone") == []


def test_a_sector_of_one_use_and_words_of_another_use_of_the_same_residue_meet_fairly_high():
    found = material_compatibility(offer("100102"), request("addition pour béton", "23.51Z"))
    both_on_one = score(offer("100102"), request("ajouts cimentaires", "23.51Z"))
    assert 0.6 < found.score < both_on_one
    assert found.archetype_id == "fly-ash-cement"
    assert "[archetype fly-ash-concrete]" in found.reasons[1]


def test_a_sector_whose_words_ask_for_another_use_says_so():
    found = material_compatibility(offer("100102"), request("combustible de substitution", "23.51"))
    assert found.reasons[-1] == "but the request's words name another use"


def test_a_request_naming_another_residue_scores_lower_than_the_residue_it_names():
    asked = request("Cendres volantes pour ajout cimentier", "23.51Z")
    fly_ash, slag = (
        material_compatibility(offer("100102"), asked),
        material_compatibility(offer("100202"), asked),
    )
    assert fly_ash.score >= HIGH
    assert LOW < slag.score < fly_ash.score
    assert slag.reasons[-1].startswith("but the request names")
    bricks = request("Boues de papeterie comme agent porogène", "23.32Z")
    assert score(offer("030305"), bricks) > score(offer("100102"), bricks)
