"""A contract document rendered to PDF with WeasyPrint: every clause, then the evidence page
with one empty signature field per signing role, placed in the page's drawn boxes."""

from __future__ import annotations

from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import SigFieldSpec, append_signature_field
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from contracts.document import SIGNATURE_FIELDS, ContractDocument
from contracts.status import CONDITIONS, obligations
from contracts.terms import CLAUSES, PartyRole, low_description

TEMPLATES = Path(__file__).resolve().parent / "templates"
# CSS pixels (what WeasyPrint lays out in) to PDF points.
PX_TO_PT = 0.75

# The package's own words (it may not use the web's catalogues): French first, English on
# request. A key missing from English is a bug the tests catch (same keys in both).
WORDS: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Contrat d'échange de matière",
        "reference": "Référence",
        "version": "version",
        "frozen_at": "Termes arrêtés le",
        "page": "Page",
        "sep": " : ",
        "parties": "Parties",
        "legal_name": "Raison sociale",
        "address": "Adresse",
        "site": "Site",
        "representative": "Représentant",
        "material": "Matière",
        "material_label": "Désignation",
        "low_code": "Code de la liste des déchets",
        "hazardous": "Dangereux",
        "yes": "oui",
        "no": "non",
        "none": "aucun",
        "quantities": "Quantités et régularité",
        "quantity_per_year": "Quantité annuelle",
        "per_year": "par an",
        "regularity": "Régularité",
        "quality": "Qualité",
        "quality_specification": "Spécification de qualité",
        "acceptance_tests": "Contrôles d'acceptation",
        "price": "Prix",
        "price_free": "L'échange est gratuit.",
        "price_price": "Prix de {amount} par {unit}, payé par {payer}.",
        "price_gate_fee": "Redevance de prise en charge de {amount} par {unit}, payée par {payer}.",
        "delivery": "Livraison et transport",
        "delivery_point": "Point de livraison",
        "transport": "Transport",
        "duration": "Durée",
        "from": "Du",
        "to": "au",
        "termination": "Résiliation",
        "liability": "Responsabilité",
        "confidentiality": "Confidentialité",
        "non_circumvention": "Non-contournement",
        "dispute_resolution": "Règlement des litiges",
        "status": "Statut réglementaire",
        "obligations": "Obligations qui en découlent",
        "no_obligation": "Aucune obligation au titre de la réglementation des déchets.",
        "evidence_page": "Page de preuve",
        "terms_hash": "Empreinte des termes (SHA-256)",
        "signers_planned": "Signataires prévus",
        "r_code": "Opération de valorisation ou d'élimination",
        "end_of_waste_act": "Acte fixant les critères",
        "case_by_case_decision": "Décision au cas par cas",
        "document": "Document",
        "unnamed": "sans nom",
        "no_evidence": "Preuve manquante.",
        "signatures": "Signatures",
    },
    "en": {
        "title": "Material exchange contract",
        "reference": "Reference",
        "version": "version",
        "frozen_at": "Terms frozen on",
        "page": "Page",
        "sep": ": ",
        "parties": "Parties",
        "legal_name": "Legal name",
        "address": "Address",
        "site": "Site",
        "representative": "Representative",
        "material": "Material",
        "material_label": "Description",
        "low_code": "List of Waste code",
        "hazardous": "Hazardous",
        "yes": "yes",
        "no": "no",
        "none": "none",
        "quantities": "Quantities and regularity",
        "quantity_per_year": "Yearly quantity",
        "per_year": "per year",
        "regularity": "Regularity",
        "quality": "Quality",
        "quality_specification": "Quality specification",
        "acceptance_tests": "Acceptance tests",
        "price": "Price",
        "price_free": "The exchange is free of charge.",
        "price_price": "Price of {amount} per {unit}, paid by {payer}.",
        "price_gate_fee": "Gate fee of {amount} per {unit}, paid by {payer}.",
        "delivery": "Delivery and transport",
        "delivery_point": "Delivery point",
        "transport": "Transport",
        "duration": "Duration",
        "from": "From",
        "to": "to",
        "termination": "Termination",
        "liability": "Liability",
        "confidentiality": "Confidentiality",
        "non_circumvention": "Non-circumvention",
        "dispute_resolution": "Dispute resolution",
        "status": "Regulatory status",
        "obligations": "Resulting obligations",
        "no_obligation": "No obligation under waste law.",
        "evidence_page": "Evidence page",
        "terms_hash": "Terms fingerprint (SHA-256)",
        "signers_planned": "Signers planned",
        "r_code": "Recovery or disposal operation",
        "end_of_waste_act": "Act setting the criteria",
        "case_by_case_decision": "Case-by-case decision",
        "document": "Document",
        "unnamed": "unnamed",
        "no_evidence": "Evidence missing.",
        "signatures": "Signatures",
    },
}

ROLES = {
    "fr": {
        "giver": "Cédant",
        "taker": "Preneur",
        "carrier": "Transporteur",
        "facilitator": "Association (tiers de confiance)",
    },
    "en": {
        "giver": "Giver",
        "taker": "Taker",
        "carrier": "Carrier",
        "facilitator": "Association (trusted third party)",
    },
}
ROUTES = {
    "fr": {
        "waste": "Déchet",
        "by_product": "Sous-produit",
        "end_of_waste": "Sortie du statut de déchet",
        "outside_waste_law": "Hors réglementation des déchets",
    },
    "en": {
        "waste": "Waste",
        "by_product": "By-product",
        "end_of_waste": "End-of-waste",
        "outside_waste_law": "Outside waste law",
    },
}
PAYERS = {
    "fr": {"giver": "le cédant", "taker": "le preneur"},
    "en": {"giver": "the giver", "taker": "the taker"},
}
UNITS = {"fr": {"t": "t", "MWh": "MWh", "m3": "m³"}, "en": {"t": "t", "MWh": "MWh", "m3": "m³"}}
REGULARITIES = {
    "fr": {
        "continuous": "continue",
        "batch": "par lots",
        "seasonal": "saisonnière",
        "one-off": "ponctuelle",
    },
    "en": {
        "continuous": "continuous",
        "batch": "in batches",
        "seasonal": "seasonal",
        "one-off": "one-off",
    },
}
# The three boxes of the evidence page, in signing order: the association signs last.
SIGNING_ROLES = (PartyRole.GIVER, PartyRole.TAKER, PartyRole.FACILITATOR)
BABEL_LOCALES = {"fr": "fr_FR", "en": "en_GB"}


@lru_cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _context(doc: ContractDocument, locale: str) -> dict[str, Any]:
    words = WORDS[locale]
    terms = doc.terms
    babel = BABEL_LOCALES[locale]
    price = terms.price
    if price.kind == "free":
        price_text = words["price_free"]
    else:
        price_text = words[f"price_{price.kind}"].format(
            amount=format_currency(price.amount_cents / 100, price.currency, locale=babel),
            unit=UNITS[locale][price.per_unit.value],
            payer=PAYERS[locale][price.payer or "taker"],
        )
    evidence_of: dict[str, list[Any]] = {}
    for item in doc.evidence:
        evidence_of.setdefault(item.condition, []).append(item)
    conditions = [
        {
            "label": c.label_fr if locale == "fr" else c.label_en,
            "basis": c.legal_basis,
            "evidence": evidence_of.get(c.id, []),
        }
        for c in CONDITIONS[doc.route]
    ]
    # The obligations stated by the document; recomputed when it carries none, so a document
    # built without them still shows what the route requires.
    stated = doc.obligations or obligations(
        doc.route,
        hazardous=terms.hazardous,
        r_code=doc.r_code,
        end_of_waste_act=doc.end_of_waste_act,
    )
    planned = {signer.role: signer.name for signer in doc.signers}
    boxes = []
    for role in SIGNING_ROLES:
        party = terms.party(role)
        boxes.append(
            {
                "label": ROLES[locale][role.value],
                "name": planned.get(role) or (party.legal_name if party else ""),
                "anchor": SIGNATURE_FIELDS[role],
            }
        )
    first_clause = 8
    return {
        "doc": doc,
        "terms": terms,
        "locale": locale,
        "t": words,
        "roles": ROLES[locale],
        "routes": ROUTES[locale],
        "units": UNITS[locale],
        "regularities": REGULARITIES[locale],
        "low_description": low_description(terms.low_code, locale) if terms.low_code else "",
        "quantity": format_decimal(terms.quantity_per_year, locale=babel),
        "price_text": price_text,
        "start_date": format_date(terms.start_date, format="long", locale=babel),
        "end_date": format_date(terms.end_date, format="long", locale=babel),
        "frozen_at": format_datetime(doc.frozen_at, format="long", locale=babel),
        "clauses": [(first_clause + i, key) for i, key in enumerate(CLAUSES)],
        "status_number": first_clause + len(CLAUSES),
        "reasons": doc.reasons_en if locale == "en" and doc.reasons_en else doc.reasons,
        "conditions": conditions,
        "obligations": [o.label_en if locale == "en" else o.label_fr for o in stated],
        "boxes": boxes,
    }


def render_html(doc: ContractDocument, locale: str = "fr") -> str:
    """The contract as the HTML WeasyPrint lays out (French unless locale is "en")."""
    locale = "en" if locale == "en" else "fr"
    return _environment().get_template("contract.html").render(**_context(doc, locale))


def render_pdf(doc: ContractDocument, locale: str = "fr") -> bytes:
    """The PDF in French (or English with locale="en"), with the empty signature fields of
    SIGNATURE_FIELDS placed in the evidence page's boxes."""
    # Nothing is fetched while rendering: the template needs no resource, and refusing every
    # URL keeps a contract's text from ever making the server read a file or a host.
    rendered = HTML(
        string=render_html(doc, locale),
        base_url=str(TEMPLATES),
        url_fetcher=URLFetcher(allowed_protocols=()),
    ).render()
    fields: list[SigFieldSpec] = []
    for index, page in enumerate(rendered.pages):
        for role in SIGNING_ROLES:
            name = SIGNATURE_FIELDS[role]
            if name not in page.anchors:
                continue
            x1, y1, x2, y2 = page.anchors[name]
            height = page.height
            # CSS measures down from the page's top, PDF up from its bottom.
            box = (
                round(x1 * PX_TO_PT),
                round((height - y2) * PX_TO_PT),
                round(x2 * PX_TO_PT),
                round((height - y1) * PX_TO_PT),
            )
            fields.append(SigFieldSpec(sig_field_name=name, on_page=index, box=box))
    pdf = rendered.write_pdf()
    assert pdf is not None
    # The empty fields are added as the first incremental update, before anyone signs: each
    # signer then fills its own box, and the signatures before it stay valid.
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    for spec in fields:
        append_signature_field(writer, spec)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()
