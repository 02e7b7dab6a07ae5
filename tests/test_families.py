"""Family names a practitioner accepts: each family is still a function of the chapter (a
privacy level), and its name is true of every code it holds, since it names the chapters'
activities and the chapters themselves."""

from __future__ import annotations

import csv
import re

import pytest

from core.reference.loader import DATA
from privacy.generalisation import CHAPTER_FAMILY, FAMILIES, family_of

# Well-known residues (codes from core/reference/data/list_of_waste.csv), the family they fall
# in, and a word of its name, in French and in English, that a practitioner looks for.
KNOWN = [
    ("070512", "chimie", "fermentation", "fermentation"),  # yeast slurry, biological sludge
    ("020704", "organiques", "agroalimentaire", "food industry"),  # yeast cream from a brewery
    ("190812", "organiques", "traitement des déchets et des eaux", "waste and water treatment"),
    ("200108", "divers", "municipaux", "municipal"),  # kitchen biowaste
    ("200138", "divers", "municipaux", "municipal"),  # wood from a waste collection centre
    ("170201", "mineraux", "chantiers", "building sites"),  # construction wood
    ("100102", "mineraux", "cendres", "ashes"),  # coal fly ash
    ("100105", "mineraux", "procédés thermiques", "thermal processes"),  # FGD gypsum
    ("030310", "bois_fibres", "papier", "paper"),  # fibre rejects of a paper mill
    ("150103", "emballages", "Emballages", "Packaging"),  # wooden pallets
    ("120105", "metaux", "plastiques", "plastics"),  # plastic shavings
    ("130205", "hydrocarbures", "huiles", "oils"),  # engine oil
    ("180104", "divers", "soins", "health care"),  # non-infectious health-care waste
    ("160103", "divers", "non décrits ailleurs", "not otherwise specified"),  # tyres
]
CHAPTERS_SAID = re.compile(r"\(ch\. ([0-9–, ]+)\)$")


def chapters_named(label: str) -> set[str]:
    """The chapters a label names at its end: "(ch. 06–09, 14)" → {06, 07, 08, 09, 14}."""
    match = CHAPTERS_SAID.search(label)
    assert match, f"no chapters named in {label!r}"
    named: set[str] = set()
    for part in match.group(1).split(","):
        first, _, last = part.strip().partition("–")
        named |= {f"{n:02d}" for n in range(int(first), int(last or first) + 1)}
    return named


def chapters_of_the_list() -> set[str]:
    with (DATA / "list_of_waste.csv").open(encoding="utf-8") as handle:
        return {row["code_compact"] for row in csv.DictReader(handle) if row["level"] == "chapter"}


@pytest.mark.parametrize("code, key, french, english", KNOWN)
def test_a_known_residue_lands_in_a_family_whose_name_fits_it(
    code: str, key: str, french: str, english: str
) -> None:
    family = family_of(code, "material")
    assert family.key == key
    assert french in family.label_fr and english in family.label_en
    assert code[:2] in chapters_named(family.label_fr) == chapters_named(family.label_en)


def test_every_chapter_has_a_family_that_names_it() -> None:
    chapters = chapters_of_the_list()
    assert chapters == {f"{n:02d}" for n in range(1, 21)}
    assert set(CHAPTER_FAMILY) == chapters
    for key, family in FAMILIES.items():
        held = {chapter for chapter, owner in CHAPTER_FAMILY.items() if owner == key}
        if not held:
            continue  # heat, water, gas, uncoded material: the family is the kind
        # Exactly its chapters, in both languages: a chapter moved to another family without
        # renaming both fails here.
        assert chapters_named(family.label_fr) == held, key
        assert chapters_named(family.label_en) == held, key


def test_families_stay_a_function_of_the_chapter() -> None:
    """Every code of a chapter has the chapter's family: showing the family next to a listing
    published at its chapter tells nothing more."""
    with (DATA / "list_of_waste.csv").open(encoding="utf-8") as handle:
        entries = [row["code_compact"] for row in csv.DictReader(handle) if row["level"] == "entry"]
    assert len(entries) > 800
    for code in entries:
        assert family_of(code, "material").key == CHAPTER_FAMILY[code[:2]], code
