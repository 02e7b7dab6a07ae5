"""Scrubbing of public free text: what is masked, and what must stay readable."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.text import fold
from privacy.scrubbing import find, identifying_kinds, normalise

M = "[masqué]"


@dataclass(frozen=True)
class Masked:
    """What ``find`` reports, shown as the text with each span masked (a name takes its whole
    word), and the kind of each span in reading order."""

    text: str
    removed: list[str]


def scrub(text: str, deny: Iterable[str] = ()) -> Masked:
    pieces, removed, cursor = [], [], 0
    for span in find(text, deny):
        start, end = span.start, span.end
        if span.kind == "name":
            while start > cursor and text[start - 1].isalnum():
                start -= 1
            while end < len(text) and text[end].isalnum():
                end += 1
        pieces += [text[cursor:start], M]
        removed.append(span.kind)
        cursor = end
    return Masked("".join([*pieces, text[cursor:]]), removed)


DENY = ["Papeterie du Canal", "Dunor", "Cimenterie Valdune SAS", "Gravelines"]


def masked(text: str, deny: list[str] | None = None) -> str:
    return scrub(text, deny or []).text


# --- SIREN, SIRET, VAT ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("732829320", "siren"),
        ("732 829 320", "siren"),
        ("732.829.320", "siren"),
        ("732-829-320", "siren"),
        ("732\u00a0829\u00a0320", "siren"),  # non-breaking spaces
        ("732\u202f829\u202f320", "siren"),  # narrow non-breaking spaces
        ("7 3 2 8 2 9 3 2 0", "siren"),
        ("73282932000074", "siret"),
        ("732 829 320 00074", "siret"),
        ("732.829.320 00074", "siret"),
        ("732 829 320 000 74", "siret"),
        ("732829320-00074", "siret"),
        # La Poste: SIREN 356000000, SIRETs checked by digit sum, not Luhn.
        ("356 000 000 00001", "siret"),
        ("35600000000048", "siret"),
        ("FR44732829320", "vat"),
        ("FR 44 732 829 320", "vat"),
        ("FR40303265045", "vat"),
        ("FR 40 303 265 045", "vat"),
        ("fr40 303265045", "vat"),
        ("FR-40-303.265.045", "vat"),
    ],
)
def test_valid_identifiers_are_masked_in_any_spacing(text: str, kind: str) -> None:
    result = scrub(f"Notre n° : {text}, merci.")
    assert result.text == f"Notre n° : {M}, merci."
    assert result.removed == [kind]


def test_identifiers_next_to_labels_and_other_numbers() -> None:
    text = "SIRET:73282932000074 ; lot 12 732 829 320 00074 ; siren 732829320."
    assert masked(text) == f"SIRET:{M} ; lot 12 {M} ; siren {M}."


@pytest.mark.parametrize(
    "text",
    [
        "732829320 t",
        "732 829 320 Tél.",
        "732 829 320 l'usine",
        "732 829 320 tonnes-km",
        "73 28 29 320 t",
    ],
)
def test_a_unit_after_a_siren_spares_it_only_when_written_as_a_quantity(text: str) -> None:
    # "125 000 000 t" is a quantity; an unbroken or oddly grouped SIREN before "t" is not.
    spared = text == "732 829 320 tonnes-km"
    assert (masked(text) == text) is spared


def test_siren_with_a_mistyped_nic_is_masked_whole() -> None:
    # 00075 breaks the SIRET checksum but the SIREN alone still names the company.
    result = scrub("SIRET 732 829 320 00075")
    assert result.text == f"SIRET {M}"
    assert result.removed == ["siren"]


@pytest.mark.parametrize(
    "text",
    [
        "123456780",  # nine digits failing Luhn: a quantity or an order number
        "123 456 780",
        "732829321",
        "12345678900000",  # fourteen digits failing, and no valid SIREN at the start
        "12345678900000",
        "125 000 000 kWh",  # Luhn-valid, but a unit follows: a quantity
        "125 000 000 t",
    ],
)
def test_checksum_invalid_numbers_and_quantities_stay(text: str) -> None:
    assert masked(text) == text


def test_vat_with_a_wrong_key_still_loses_its_siren() -> None:
    result = scrub("TVA FR00732829320")
    assert result.text == f"TVA {M}"
    assert result.removed == ["siren"]


# --- e-mails -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "jean.dupont@papeterie-du-canal.fr",
        "j.dupont+eit@dunor.co.uk",
        "JEAN@DUNOR.FR",
        "jean @ dunor.fr",
        "josé.martin@société.fr",
        "jean at dunor dot fr",
        "jean AT dunor DOT com",
        "jean [at] dunor [dot] com",
        "jean[at]dunor[dot]com",
        "jean (at) dunor (point) fr",
        "jean arobase dunor point fr",
        "jean (arobase) dunor (point) fr",
        "jean {at} dunor {dot} fr",
        "jean dot dupont at dunor dot fr",
        "jean@dunor[dot]fr",
        "jean @ dunor . fr",
        "jean at dunor . com",
        "a.b.c.d.e.f.g.h@x.y.z.fr",
    ],
)
def test_emails_and_obfuscated_emails_are_masked(address: str) -> None:
    result = scrub(f"Écrire à {address}. Merci")
    assert result.text == f"Écrire à {M}. Merci"
    assert result.removed == ["email"]


def test_prose_with_at_and_point_is_not_an_email() -> None:
    for text in [
        "Livraison at the gate, point de livraison au quai 3.",
        "Le point fort : format 20 pieds, chat interne.",
        "Rendez-vous à 10 h au point de collecte.",
    ]:
        assert masked(text) == text


# --- phones ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone",
    [
        "03 28 12 34 56",
        "03.28.12.34.56",
        "03-28-12-34-56",
        "0328123456",
        "06 12 34 56 78",
        "03\u00a028\u00a012\u00a034\u00a056",
        "+33 3 28 12 34 56",
        "+33328123456",
        "+33 (0)3 28 12 34 56",
        "+33(0)328123456",
        "0033 3 28 12 34 56",
        "0 800 123 456",
        "+44 20 7946 0958",
        "+1 415 555 2671",
        "+1 (415) 555-2671",
        "0044 20 7946 0958",
        "+49 30 901820",
    ],
)
def test_phones_are_masked(phone: str) -> None:
    result = scrub(f"Tél. {phone} (standard)")
    assert result.text == f"Tél. {M} (standard)"
    assert result.removed == ["phone"]


# --- URLs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://www.dunor.fr/produits?id=3",
        "http://dunor.fr",
        "www.example.fr",
        "WWW.EXAMPLE.COM/fiche",
        "papeterie-du-canal.fr",
        "extranet.groupe-dunor.com/eit",
        "www point dunor point fr",
        "dunor [dot] com",
    ],
)
def test_urls_and_bare_domains_are_masked(url: str) -> None:
    result = scrub(f"Voir {url}.")
    assert result.text == f"Voir {M}."
    assert result.removed == ["url"]


def test_url_in_brackets_keeps_the_bracket() -> None:
    assert masked("(voir https://dunor.fr/x)") == f"(voir {M})"


# --- IBANs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "account",
    [
        "FR7630006000011234567890189",
        "FR76 3000 6000 0112 3456 7890 189",
        "fr76 3000 6000 0112 3456 7890 189",
        "GB82 WEST 1234 5698 7654 32",
        "DE89 3704 0044 0532 0130 00",
    ],
)
def test_ibans_are_masked(account: str) -> None:
    result = scrub(f"IBAN {account} pour le paiement")
    assert result.text == f"IBAN {M} pour le paiement"
    assert result.removed == ["iban"]


def test_iban_with_a_bad_checksum_is_not_an_iban() -> None:
    text = "réf. FR76 3000 6000 0112 3456 7890 188 pour le paiement"
    assert scrub(text).removed.count("iban") == 0


# --- deny-list ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("La Papeterie du Canal produit", f"La {M} produit"),
        ("LA PAPETERIE DU CANAL PRODUIT", f"LA {M} PRODUIT"),
        ("la papèterie du canal", f"la {M}"),  # an accent added
        ("Papeterie-du-Canal", M),
        ("papeterie_du_canal", M),
        ("PapeterieDuCanal", M),
        ("Papeterie  du\ncanal", M),
        ("Groupe Dunor", f"Groupe {M}"),
        ("ex-Dunor", f"ex-{M}"),
        ("Dunorgaz et DUNORGAZ", f"{M} et {M}"),
        ("ancien site dunor.", f"ancien site {M}."),
        ("Dünor", M),  # an accent the name does not have
        ("Valdune", M),  # a distinctive word of "Cimenterie Valdune SAS"
        ("les ciments VALDUNE", f"les ciments {M}"),
        ("ValduneBéton", M),
        ("Valdune-Nord", f"{M}-Nord"),
        ("près de Gravelines (59)", f"près de {M} (59)"),
    ],
)
def test_deny_terms_are_masked_across_case_accents_punctuation_and_words(
    text: str, expected: str
) -> None:
    result = scrub(text, DENY)
    assert result.text == expected
    assert set(result.removed) == {"name"}


def test_common_words_of_the_legal_name_do_not_name_it_alone() -> None:
    # "Cimenterie" is everyday vocabulary: alone it names no one, and masking it would give the
    # name away (« [masqué] Valdune »). The distinctive word and the whole name do name it.
    assert masked("une cimenterie voisine", DENY) == "une cimenterie voisine"
    assert masked("la cimenterie Valdune", DENY) == f"la {M}"
    assert masked("Valdune", DENY) == M
    assert masked("Cimenterie Valdune SAS", DENY) == M
    # Legal forms and short words are never masked on their own.
    assert masked("SAS du port, canal", ["Cimenterie Valdune SAS"]) == "SAS du port, canal"


def test_site_and_town_boilerplate_words_are_not_masked_alone() -> None:
    deny = ["Usine de Mardyck", "Saint-Pol-sur-Mer", "Loon-Plage"]
    text = "Usine de Mardyck à Saint-Pol-sur-Mer, livrée par l'usine voisine de Loon-Plage."
    assert masked(text, deny) == f"{M} à {M}, livrée par l'usine voisine de {M}."
    assert masked("Mardyck", deny) == M
    assert masked("Saint-Omer, plage", deny) == "Saint-Omer, plage"


def test_short_deny_terms_match_whole_words_only_and_tiny_ones_are_ignored() -> None:
    assert masked("EDF et les sols, edfx", ["EDF"]) == f"{M} et les sols, edfx"
    assert masked("Zyl et zylinder", ["Zyl"]) == f"{M} et zylinder"
    # A one-word name that is an everyday word ("Sol", a site called "Serres") names nothing.
    assert masked("Sol et solide", ["Sol"]) == "Sol et solide"
    assert masked("Eu, le Tréport", ["Eu", "", "  "]) == "Eu, le Tréport"


def test_deny_term_near_but_not_in_text_stays() -> None:
    # "Dunor" must not match across the words of "du Nord".
    text = "Port du Nord, dunes, Canal de Bourbourg"
    assert masked(text, ["Dunor"]) == text


def test_normalise_makes_digits_ascii_and_points_back() -> None:
    for text in ["  Papèterie--du Canal!  ", "Œuvre d'Ÿ", "ﬁbre ²", "７３２​٨٢٩", "", "…"]:
        normal, source = normalise(text)
        assert len(source) == len(normal)
        for char, index in zip(normal, source, strict=True):
            assert fold(char) in fold(text[index]) or char.isdigit()
    assert normalise("７３２​٨٢٩")[0] == "732829"


# --- negatives: ordinary numbers stay ----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Cendres volantes 10 01 02 et gypse 10 01 05, 10 01 07",
        "Code 100102, boues 07 05 12 et 03 03 05",
        "1 200 t/an, 12 000 t, 1.200 t, 3,5 t/j",
        "Depuis 2024, en 2019-2023",
        "Eau à 35 °C, vapeur 180°C, -20 °C",
        "le 12/03/2024, le 12.03.2024 à 14 h 30",
        "Palettes 120 x 80 cm, lot 1 200",
        "Puissance 12,5 MW, 25 000 MWh/an",
        "12 000 000 m³/an",
        "R5, D10, opération R 13",
        "ISO 14001, norme NF EN 197-1",
        "+12 000 t/an",
    ],
)
def test_ordinary_numbers_stay(text: str) -> None:
    result = scrub(text)
    assert result.text == text
    assert result.removed == []


def test_scrubbing_twice_changes_nothing_more() -> None:
    once = scrub("Dunor, 03 28 12 34 56, jean@dunor.fr, SIREN 732 829 320", DENY).text
    assert scrub(once, DENY).text == once


def test_nothing_to_mask_returns_the_same_text() -> None:
    text = "Boues de désencrage, 3 000 t/an, siccité 45 %, livrées en benne."
    assert scrub(text, DENY) == scrub(text)
    assert scrub(text).text == text
    assert scrub("").text == ""


# --- several detectors in one text -------------------------------------------------------------


def test_overlapping_spans_become_one_placeholder_named_after_the_longest() -> None:
    result = scrub("Écrire à contact@papeterie-du-canal.fr", DENY)
    assert result.text == f"Écrire à {M}"
    assert result.removed == ["email"]
    result = scrub("TVA FR 40 303 265 045")
    assert result.removed == ["vat"]


def test_a_realistic_description() -> None:
    text = (
        "La Papeterie du Canal (SIRET 732 829 320 00074, TVA FR44732829320) cède 3 000 t/an de "
        "boues de désencrage (03 03 05) à 45 % de siccité, site de Gravelines (59820). "
        "Contact : m.durand [at] papeterie-du-canal [dot] fr ou 03 28 12 34 56, "
        "fiche sur www.papeterie-du-canal.fr. Règlement : FR76 3000 6000 0112 3456 7890 189."
    )
    result = scrub(text, DENY)
    assert result.text == (
        f"La {M} (SIRET {M}, TVA {M}) cède 3 000 t/an de "
        f"boues de désencrage (03 03 05) à 45 % de siccité, site de {M} ({M}). "
        f"Contact : {M} ou {M}, "
        f"fiche sur {M}. Règlement : {M}."
    )
    kinds = ["name", "siret", "vat", "name", "postcode", "email", "phone", "url", "iban"]
    assert result.removed == kinds
    for leaked in ("732", "829", "durand", "canal", "Canal", "28 12", "3000 6000"):
        assert leaked not in result.text


# --- the adversarial corpus ----------------------------------------------------------------------

CORPUS = json.loads((Path(__file__).parent / "data" / "scrub_corpus.json").read_text("utf-8"))


def _deny(company: dict[str, Any]) -> list[str]:
    sites = company["sites"]
    names = [s["name"] for s in sites] + [s["commune"] for s in sites]
    return [company["legal_name"], *company["brands"], *company["contacts"], *names]


@pytest.mark.parametrize(
    "entry", CORPUS["texts"], ids=[f"{e['expect'] or 'clean'}:{e['text']}" for e in CORPUS["texts"]]
)
def test_corpus_texts_are_refused_for_what_they_carry_or_pass(entry: dict[str, Any]) -> None:
    kinds = identifying_kinds(entry["text"], _deny(CORPUS["companies"][entry["company"]]))
    if entry["expect"] is None:
        assert kinds == []
    else:
        assert entry["expect"] in kinds


def test_a_common_word_of_a_name_alone_is_no_name_but_the_whole_name_is() -> None:
    deny = ["Chaleur Urbaine SA", "Serres de Kervella SAS"]
    for text in ("Chaleur fatale industrielle", "Chauffage des serres", "en zone urbaine"):
        assert identifying_kinds(text, deny) == []
    for text in ("Chaleur Urbaine", "CHALEUR-URBAINE", "Kervella", "Kerv3lla", "SDK"):
        assert identifying_kinds(text, deny) == ["name"]
    # A near miss that is itself a word is that word: "comme" is not "Colme".
    assert identifying_kinds("Frass comme amendement", ["EARL de la Basse-Colme"]) == []
