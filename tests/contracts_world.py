"""Pure contract material for the tests: the terms of a fly-ash / FGD-gypsum deal, a document
ready to render, and a platform CA in a temporary directory."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from contracts.document import ContractDocument, PlannedSigner
from contracts.status import Answers, Evidence, obligations, qualify
from contracts.terms import Terms, default_clauses
from tests.factories import make_siret

FGD_GYPSUM = "10 01 05"
LAWFUL_USE_DOC = "3f" * 32


def terms_data(**changes: Any) -> dict[str, Any]:
    """The fields of valid terms, as a client would send them, with `changes` applied."""
    data: dict[str, Any] = {
        "parties": [
            {
                "role": "giver",
                "legal_name": "Centrale Thermique du Golfe SAS",
                "siret": make_siret(901),
                "address": "1 quai de la Darse, 13270 Fos-sur-Mer",
                "site_name": "Tranche 2",
                "site_address": "Zone industrielle du Caban",
                "representative": "Jeanne Dupré",
            },
            {
                "role": "taker",
                "legal_name": "Plâtres de Provence",
                "address": "2 route du Sud, 13800 Istres",
                "representative": "Paul Martin",
            },
            {
                "role": "facilitator",
                "legal_name": "Association EIT Fos-Étang de Berre",
                "address": "3 rue Centrale, 13270 Fos-sur-Mer",
            },
        ],
        "material_label": "Gypse de désulfuration (FGD)",
        "low_code": FGD_GYPSUM,
        "hazardous": False,
        "quantity_per_year": 12000,
        "unit": "t",
        "regularity": "continuous",
        "quality_specification": "CaSO4·2H2O ≥ 95 %, humidité ≤ 10 %, chlorures ≤ 0,01 %",
        "acceptance_tests": "Analyse d'un échantillon par lot de 500 t, laboratoire accrédité",
        "price": {"kind": "price", "amount_cents": 1250, "per_unit": "t", "payer": "taker"},
        "delivery_point": "Quai 4, port de Fos",
        "transport": "Camion benne bâché de 25 t, à la charge du preneur",
        "start_date": "2026-01-01",
        "end_date": "2028-12-31",
        **default_clauses("fr"),
    }
    data.update(changes)
    return data


def make_terms(**changes: Any) -> Terms:
    return Terms.model_validate(terms_data(**changes))


BY_PRODUCT_ANSWERS = Answers(
    further_use_certain=True,
    used_without_further_processing=True,
    produced_as_integral_part=True,
    lawful_use=True,
)

BY_PRODUCT_EVIDENCE = [
    Evidence(
        condition="by_product.certain_further_use",
        text="Contrat de reprise de toute la production sur trois ans.",
    ),
    Evidence(
        condition="by_product.no_further_processing",
        text="Le gypse est livré tel quel, seulement essoré.",
    ),
    Evidence(
        condition="by_product.integral_part_of_production",
        text="Produit en continu par l'unité de désulfuration de la tranche 2.",
    ),
    Evidence(
        condition="by_product.lawful_use",
        text="Enregistrement REACH et fiche technique conforme à la norme EN 520.",
        document_name="fiche-technique-gypse.pdf",
        document_sha256=LAWFUL_USE_DOC,
    ),
]


def make_document(terms: Terms | None = None, **changes: Any) -> ContractDocument:
    terms = terms or make_terms()
    qualification = qualify(BY_PRODUCT_ANSWERS)
    data: dict[str, Any] = {
        "reference": "SYM-2026-0001",
        "version": 1,
        "terms": terms,
        "route": qualification.route,
        "reasons": qualification.reasons,
        "reasons_en": qualification.reasons_en,
        "evidence": BY_PRODUCT_EVIDENCE,
        "obligations": obligations(qualification.route, hazardous=terms.hazardous),
        "terms_hash": terms.sha256(),
        "frozen_at": datetime(2025, 12, 15, 9, 30, tzinfo=UTC),
        "signers": [
            PlannedSigner(role="giver", name="Jeanne Dupré"),
            PlannedSigner(role="taker", name="Paul Martin"),
            PlannedSigner(role="facilitator", name="Élodie Roux"),
        ],
    }
    data.update(changes)
    return ContractDocument(**data)


START = date(2026, 1, 1)
