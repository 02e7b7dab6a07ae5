"""The contract PDF: WeasyPrint renders every clause in French (English on request), then an
evidence page with the terms hash, the signers planned, the status with each evidence's hash and
the obligations, and three empty signature fields in their drawn boxes."""

from __future__ import annotations

from io import BytesIO

import pytest
from pypdf import PdfReader

from contracts.document import SIGNATURE_FIELDS, ContractDocument
from contracts.pdf import WORDS, render_pdf
from contracts.status import Route, obligations
from contracts.terms import default_clauses
from tests.contracts_world import LAWFUL_USE_DOC, make_document, make_terms


def _pages(pdf: bytes) -> list[str]:
    reader = PdfReader(BytesIO(pdf))
    # Text extraction breaks long lines where the layout does: compare without line ends.
    return [" ".join((page.extract_text() or "").split()) for page in reader.pages]


@pytest.fixture(scope="module")
def document() -> ContractDocument:
    return make_document()


@pytest.fixture(scope="module")
def french(document: ContractDocument) -> bytes:
    return render_pdf(document)


@pytest.fixture(scope="module")
def english(document: ContractDocument) -> bytes:
    return render_pdf(document, locale="en")


def test_the_french_pdf_carries_every_clause(french: bytes, document: ContractDocument) -> None:
    assert french.startswith(b"%PDF-")
    text = " ".join(_pages(french))
    for heading in (
        "Contrat d'échange de matière",
        "Parties",
        "Matière",
        "Quantités et régularité",
        "Spécification de qualité",
        "Contrôles d'acceptation",
        "Prix",
        "Livraison et transport",
        "Durée",
        "Résiliation",
        "Responsabilité",
        "Confidentialité",
        "Non-contournement",
        "Règlement des litiges",
        "Statut réglementaire",
    ):
        assert heading in text, heading
    terms = document.terms
    for value in (
        "Centrale Thermique du Golfe SAS",
        "Plâtres de Provence",
        str(terms.parties[0].siret),
        "10 01 05",
        "désulfuration",
        "12 000",
        "12,50",
        "payé par le preneur",
        "Quai 4, port de Fos",
        "1 janvier 2026",
        "31 décembre 2028",
        "Sous-produit",
    ):
        assert value in text, value
    # The clauses' own words, start to finish.
    assert " ".join(default_clauses("fr")["liability"].split()) in text


def test_the_evidence_page_holds_hash_signers_evidence_and_obligations(
    french: bytes, document: ContractDocument
) -> None:
    pages = _pages(french)
    evidence = " ".join(p for p in pages if "Page de preuve" in p or "Signatures" in p)
    start = evidence.index("Page de preuve")
    evidence = evidence[start:]
    assert document.terms_hash in evidence.replace(" ", "")
    for name in ("Jeanne Dupré", "Paul Martin", "Élodie Roux"):
        assert name in evidence
    assert "Cédant" in evidence and "Preneur" in evidence and "Association" in evidence
    assert LAWFUL_USE_DOC in evidence.replace(" ", "")
    assert "fiche-technique-gypse.pdf" in evidence
    assert "L541-4-2" in evidence
    assert "Enregistrement REACH" in evidence
    assert "Chaque lot livré est tracé" in evidence


def test_three_empty_signature_fields_sit_in_the_evidence_page_boxes(french: bytes) -> None:
    reader = PdfReader(BytesIO(french))
    fields = reader.get_fields() or {}
    names = set(SIGNATURE_FIELDS.values())
    assert names <= set(fields)
    for name in names:
        assert fields[name].get("/FT") == "/Sig"
        assert fields[name].get("/V") is None
    # Visible: each widget has a real box on the last page, side by side, none overlapping.
    last = reader.pages[-1]
    boxes = sorted(
        [float(v) for v in annot.get_object()["/Rect"]]
        for annot in last.get("/Annots", [])
        if annot.get_object().get("/T") in names
    )
    assert len(boxes) == 3
    for x1, y1, x2, y2 in boxes:
        assert 100 < x2 - x1 < 200 and 40 < y2 - y1 < 120
    assert boxes[0][2] <= boxes[1][0] and boxes[1][2] <= boxes[2][0]


def test_the_english_pdf_on_request(english: bytes, document: ContractDocument) -> None:
    text = " ".join(_pages(english))
    for heading in (
        "Material exchange contract",
        "Quality specification",
        "Termination",
        "Non-circumvention",
        "Dispute resolution",
        "Evidence page",
        "Terms fingerprint (SHA-256)",
        "By-product",
        "paid by the taker",
        "Calcium-based reaction wastes",
        "The four by-product conditions are met",
        "Each lot delivered is traced",
    ):
        assert heading in text, heading
    assert "Contrat d'échange" not in text
    assert document.terms_hash in text.replace(" ", "")


def test_both_languages_have_the_same_words() -> None:
    assert set(WORDS["fr"]) == set(WORDS["en"])


def test_a_hazardous_waste_contract_states_the_tracking_slip() -> None:
    terms = make_terms(low_code="10 01 04", hazardous=True)
    doc = make_document(
        terms,
        route=Route.WASTE,
        reasons=["Déchet."],
        reasons_en=["Waste."],
        evidence=[],
        obligations=obligations(Route.WASTE, hazardous=True, r_code="R 5"),
        r_code="R 5",
    )
    text = " ".join(_pages(render_pdf(doc)))
    assert "10 01 04*" in text
    assert "BSDD" in text and "Trackdéchets" in text
    assert "R 5" in text
    # Every waste condition shows, unevidenced ones as missing.
    assert "Preuve manquante" in text


def test_a_document_whose_hash_is_not_its_terms_is_refused() -> None:
    with pytest.raises(ValueError, match="terms hash"):
        make_document(terms_hash="0" * 64)


def test_signers_are_one_per_signing_role() -> None:
    from contracts.document import PlannedSigner

    twice = [PlannedSigner(role="giver", name="A"), PlannedSigner(role="giver", name="B")]
    with pytest.raises(ValueError, match="one signer per role"):
        make_document(signers=twice)
    with pytest.raises(ValueError, match="giver, the taker and the association"):
        make_document(signers=[PlannedSigner(role="carrier", name="C")])


def test_text_is_escaped_not_interpreted() -> None:
    terms = make_terms(material_label="<b>Gypse</b> & <script>x</script>")
    text = " ".join(_pages(render_pdf(make_document(terms))))
    assert "<b>Gypse</b> & <script>x</script>" in text
