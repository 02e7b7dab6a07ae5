"""Contract terms: every field validated with the field named, a hash that is stable and moves
with any field, default clauses in both languages, and a readable diff between versions."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from contracts.terms import CLAUSES, Terms, default_clauses, diff
from core.inputs import invalid_from
from tests.contracts_world import make_terms, terms_data


def _refused_field(**changes: Any) -> str:
    """The dotted field the refusal names, as the API's 422 will (core.inputs.invalid_from)."""
    with pytest.raises(ValidationError) as caught:
        Terms.model_validate(terms_data(**changes))
    refusal = invalid_from(caught.value)
    assert refusal.status_code == 422
    assert refusal.field is not None
    return refusal.field


def _party(index: int, **changes: Any) -> list[dict[str, Any]]:
    parties = terms_data()["parties"]
    parties[index] = {**parties[index], **changes}
    return parties


def test_valid_terms_are_normalised() -> None:
    terms = make_terms(low_code="100105", parties=_party(0, siret="7328 2932 0000 74"))
    assert terms.low_code == "10 01 05"
    assert terms.parties[0].siret == "73282932000074"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"low_code": "99 99 99"}, "low_code"),
        ({"low_code": "10 01"}, "low_code"),
        # 10 01 04* (oil fly ash) is always hazardous: the flag cannot say otherwise.
        ({"low_code": "10 01 04", "hazardous": False}, "hazardous"),
        ({"low_code": "10 01 05", "hazardous": True}, "hazardous"),
        ({"quantity_per_year": 0}, "quantity_per_year"),
        ({"quantity_per_year": -3}, "quantity_per_year"),
        ({"quantity_per_year": "nan"}, "quantity_per_year"),
        ({"unit": "kg"}, "unit"),
        ({"regularity": "sometimes"}, "regularity"),
        ({"end_date": "2025-06-01"}, "end_date"),
        ({"end_date": "2026-01-01"}, "end_date"),
        ({"start_date": "not a date"}, "start_date"),
        ({"material_label": ""}, "material_label"),
        ({"material_label": "x" * 201}, "material_label"),
        ({"termination": "x" * 8001}, "termination"),
        ({"dispute_resolution": "   "}, "dispute_resolution"),
        (
            {"price": {"kind": "price", "amount_cents": 0, "per_unit": "t", "payer": "taker"}},
            "price.amount_cents",
        ),
        (
            {"price": {"kind": "price", "amount_cents": -1, "per_unit": "t", "payer": "taker"}},
            "price.amount_cents",
        ),
        ({"price": {"kind": "gate_fee", "amount_cents": 900, "per_unit": "t"}}, "price.payer"),
        (
            {"price": {"kind": "free", "amount_cents": 0, "per_unit": "t", "payer": "giver"}},
            "price.payer",
        ),
        ({"price": {"kind": "free", "amount_cents": 5, "per_unit": "t"}}, "price.amount_cents"),
        (
            {
                "price": {
                    "kind": "price",
                    "amount_cents": 5,
                    "per_unit": "t",
                    "payer": "taker",
                    "currency": "USD",
                }
            },
            "price.currency",
        ),
        ({"price": {"kind": "barter", "per_unit": "t"}}, "price.kind"),
        ({"parties": _party(0, siret="73282932000075")}, "parties.0.siret"),
        ({"parties": _party(1, legal_name="")}, "parties.1.legal_name"),
        ({"parties": _party(1, role="buyer")}, "parties.1.role"),
        ({"parties": _party(1, role="giver")}, "parties"),
        ({"parties": terms_data()["parties"][:1]}, "parties"),
        ({"colour": "blue"}, "colour"),
        # What PostgreSQL cannot store, and what makes a name read differently than it is.
        ({"material_label": "Gypse\x00"}, "material_label"),
        ({"parties": _party(1, legal_name="Pl\u202eâtres")}, "parties.1.legal_name"),
        ({"delivery_point": "Quai 4\nQuai 5"}, "delivery_point"),
        ({"quantity_per_year": True}, "quantity_per_year"),
        (
            {"price": {"kind": "price", "amount_cents": True, "per_unit": "t", "payer": "taker"}},
            "price.amount_cents",
        ),
    ],
)
def test_bad_terms_are_refused_naming_the_field(changes: dict[str, Any], field: str) -> None:
    assert _refused_field(**changes) == field


def test_clauses_keep_their_paragraphs() -> None:
    terms = make_terms(termination="Premier alinéa.\r\n\r\nSecond alinéa.")
    assert terms.termination == "Premier alinéa.\n\nSecond alinéa."


def test_a_free_exchange_needs_no_payer() -> None:
    terms = make_terms(price={"kind": "free", "per_unit": "m3"})
    assert terms.price.payer is None and terms.price.amount_cents == 0


def test_a_mirror_entry_may_be_either_hazardous_or_not() -> None:
    # 10 01 18* / 10 01 19: gas-cleaning wastes, hazardous or not depending on the analysis.
    assert make_terms(low_code="10 01 18", hazardous=True).hazardous
    assert not make_terms(low_code="10 01 19", hazardous=False).hazardous


def test_hash_is_stable_and_independent_of_input_order() -> None:
    first = make_terms()
    reordered = Terms.model_validate(dict(reversed(list(terms_data().items()))))
    assert first.canonical_bytes() == reordered.canonical_bytes()
    assert first.sha256() == reordered.sha256()
    assert len(first.sha256()) == 64
    # Sorted keys, compact, UTF-8 (not \\u escapes): the same bytes anywhere.
    assert first.canonical_bytes().startswith(b'{"acceptance_tests":')
    assert "Plâtres".encode() in first.canonical_bytes()


@pytest.mark.parametrize(
    "changes",
    [
        {"quantity_per_year": 12000.5},
        {"hazardous": False, "low_code": "10 01 19"},
        {"low_code": None},
        {"price": {"kind": "price", "amount_cents": 1251, "per_unit": "t", "payer": "taker"}},
        {"price": {"kind": "price", "amount_cents": 1250, "per_unit": "t", "payer": "giver"}},
        {"end_date": "2028-12-30"},
        {"liability": default_clauses("fr")["liability"] + " Sauf faute lourde."},
        {"parties": _party(1, site_name="Usine d'Istres")},
        {"regularity": "batch"},
    ],
)
def test_hash_changes_with_any_field(changes: dict[str, Any]) -> None:
    assert make_terms(**changes).sha256() != make_terms().sha256()


def test_default_clauses_in_french_and_english() -> None:
    french, english = default_clauses("fr"), default_clauses("en")
    assert set(french) == set(english) == set(CLAUSES)
    assert "préavis" in french["termination"]
    assert "notice" in english["termination"]
    assert all(french[key] != english[key] for key in CLAUSES)
    # An unknown locale falls back to French, the contract's own language.
    assert default_clauses("de") == french
    # A facilitator's edit of the returned texts never changes the defaults.
    french["termination"] = "edited"
    assert default_clauses("fr")["termination"] != "edited"


def test_diff_lists_each_change_readably_in_field_order() -> None:
    old = make_terms()
    parties = _party(1, site_name="Usine d'Istres")
    new = make_terms(
        parties=parties,
        quantity_per_year=15000,
        price={"kind": "price", "amount_cents": 1100, "per_unit": "t", "payer": "taker"},
        end_date="2029-06-30",
    )
    changes = [(c.field, c.before, c.after) for c in diff(old, new)]
    assert changes == [
        ("parties[1].site_name", "", "Usine d'Istres"),
        ("quantity_per_year", "12000", "15000"),
        ("price.amount_cents", "1250", "1100"),
        ("end_date", "2028-12-31", "2029-06-30"),
    ]
    assert diff(old, make_terms()) == []


def test_diff_shows_a_party_added_or_removed() -> None:
    old = make_terms()
    carrier = {"role": "carrier", "legal_name": "Transports Rhodaniens", "address": "Arles"}
    new = make_terms(parties=[*terms_data()["parties"], carrier])
    [added] = diff(old, new)
    assert (added.field, added.before, added.after) == (
        "parties[3]",
        "",
        "carrier: Transports Rhodaniens",
    )
    [removed] = diff(new, old)
    assert removed.before == "carrier: Transports Rhodaniens" and removed.after == ""


def test_diff_of_flags_and_enums_reads_as_words() -> None:
    old = make_terms(low_code="10 01 19", hazardous=False)
    new = make_terms(low_code="10 01 18", hazardous=True, regularity="one-off", unit="m3")
    assert [(c.field, c.before, c.after) for c in diff(old, new)] == [
        ("low_code", "10 01 19", "10 01 18"),
        ("hazardous", "false", "true"),
        ("unit", "t", "m3"),
        ("regularity", "continuous", "one-off"),
    ]


# Frozen versions keep the hash computed when they were frozen: the canonical form may never
# change, or every stored hash would stop matching its terms. Spelled out here, field by field.
GOLDEN_TERMS = {
    "parties": [
        {"role": "giver", "legal_name": "A", "address": "1 rue A"},
        {"role": "taker", "legal_name": "B", "address": "2 rue B"},
    ],
    "material_label": "Gypse",
    "low_code": "10 01 05",
    "hazardous": False,
    "quantity_per_year": 1000,
    "unit": "t",
    "regularity": "continuous",
    "quality_specification": "q",
    "acceptance_tests": "a",
    "price": {"kind": "free", "per_unit": "t"},
    "delivery_point": "d",
    "transport": "t",
    "start_date": "2026-01-01",
    "end_date": "2027-01-01",
    "termination": "r",
    "liability": "l",
    "confidentiality": "c",
    "non_circumvention": "n",
    "dispute_resolution": "é",
}
GOLDEN_CANONICAL = (
    '{"acceptance_tests":"a","confidentiality":"c","delivery_point":"d",'
    '"dispute_resolution":"é","end_date":"2027-01-01","hazardous":false,"liability":"l",'
    '"low_code":"10 01 05","material_label":"Gypse","non_circumvention":"n",'
    '"parties":[{"address":"1 rue A","legal_name":"A","representative":null,"role":"giver",'
    '"siret":null,"site_address":null,"site_name":null},{"address":"2 rue B","legal_name":"B",'
    '"representative":null,"role":"taker","siret":null,"site_address":null,"site_name":null}],'
    '"price":{"amount_cents":0,"currency":"EUR","kind":"free","payer":null,"per_unit":"t"},'
    '"quality_specification":"q","quantity_per_year":1000.0,"regularity":"continuous",'
    '"start_date":"2026-01-01","termination":"r","transport":"t","unit":"t"}'
)


def test_the_canonical_form_never_changes() -> None:
    import hashlib

    terms = Terms.model_validate(GOLDEN_TERMS)
    assert terms.canonical_bytes() == GOLDEN_CANONICAL.encode()
    assert terms.sha256() == hashlib.sha256(GOLDEN_CANONICAL.encode()).hexdigest()
