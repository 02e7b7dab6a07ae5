"""The contract pages through a browser's eyes (TestClient with login sessions): the facilitator
drafts from a revealed introduction, a party comments and proposes new terms, the diff shows the
change, the status wizard refuses a by-product with a condition unevidenced (naming it) then
accepts it complete, three signatures with the password asked again, deliveries and the
register's CSV; English pages; and a third company gets the same 404 as for no contract."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import date
from html import unescape
from typing import Any

from babel.dates import format_date
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session, select

from marketplace.accounts.models import Role, User
from marketplace.exchanges.models import Contract, ContractVersion, Delivery
from tests.exchange_world import API, Deal, ok, ready, revealed_deal, sign
from tests.factories import PASSWORD
from tests.test_web import login, token_in

CONTRACT_URL = re.compile(r"/contracts/([0-9a-f-]{36})")
LAWFUL_USE = "L'utilisation ultérieure est légale"


def _admin(session: Session, company_id: uuid.UUID) -> str:
    user = session.exec(
        select(User).where(User.company_id == company_id, User.role == Role.COMPANY_ADMIN)
    ).first()
    assert user is not None
    return user.email


def _facilitator(session: Session) -> str:
    user = session.exec(select(User).where(User.company_id == None)).first()  # noqa: E711
    assert user is not None
    return user.email


def _as(client: TestClient, email: str, password: str = PASSWORD) -> None:
    client.cookies.clear()
    login(client, email, password)


def _post(
    client: TestClient,
    page: str,
    action: str,
    data: dict[str, str] | None = None,
    files: dict[str, Any] | None = None,
) -> Response:
    """Submit a form of `page` with its CSRF token, without following the redirect."""
    token = token_in(_get(client, page))
    return client.post(
        action, data={"csrf_token": token, **(data or {})}, files=files, follow_redirects=False
    )


def _get(client: TestClient, url: str) -> str:
    """A page's text as read (entities such as &#39; decoded)."""
    return unescape(client.get(url).text)


def _contract(session: Session, contract_id: str) -> Contract:
    session.expire_all()
    found = session.get(Contract, uuid.UUID(contract_id))
    assert found is not None
    return found


def _terms_form(client: TestClient, deal: Deal, contract_id: str) -> dict[str, str]:
    """The terms form as the page fills it, from the contract's current terms."""
    terms = ok(client.get(f"{API}/{contract_id}", headers=deal.taker))["terms"]
    form = {
        name: str(terms[name] or "")
        for name in (
            "material_label",
            "low_code",
            "quality_specification",
            "acceptance_tests",
            "delivery_point",
            "transport",
            "start_date",
            "end_date",
            "termination",
            "liability",
            "confidentiality",
            "non_circumvention",
            "dispute_resolution",
            "unit",
            "regularity",
        )
    }
    form["quantity_per_year"] = str(terms["quantity_per_year"])
    form["price_kind"] = terms["price"]["kind"]
    form["price_amount"] = "0"
    if terms["hazardous"]:
        form["hazardous"] = "on"
    return form


BY_PRODUCT = {
    "is_utility": "no",
    "produced_as_integral_part": "yes",
    "further_use_certain": "yes",
    "used_without_further_processing": "yes",
    "lawful_use": "yes",
}
EVIDENCE = {
    "text-by_product.certain_further_use": "Contrat d'achat de la cimenterie pour 5 ans.",
    "text-by_product.no_further_processing": "Les cendres sont utilisées telles quelles.",
    "text-by_product.integral_part_of_production": "Produites par la combustion de la centrale.",
    "text-by_product.lawful_use": "Conformes à la norme NF EN 450-1.",
}


def test_a_contract_goes_from_draft_to_force_through_its_pages(
    client: TestClient, session: Session
) -> None:
    deal = revealed_deal(client, session)
    w = deal.w
    giver, taker = _admin(session, w.owner.company_id), _admin(session, w.requester.company_id)
    staff = _facilitator(session)

    # The facilitator drafts from the console's revealed introduction.
    _as(client, staff)
    console = f"/console/introductions/{deal.introduction_id}"
    assert "Rédiger le contrat" in _get(client, console)
    drafted = _post(client, console, "/contracts", {"introduction_id": deal.introduction_id})
    assert drafted.status_code == 303, drafted.text
    found = CONTRACT_URL.search(drafted.headers["location"])
    assert found
    contract_id = found.group(1)
    page = f"/contracts/{contract_id}"
    html = _get(client, page)
    assert "Brouillon" in html and "Cédant" in html and "Preneur" in html
    assert "Ouvrir le contrat" in _get(client, console)
    # A second draft of the same introduction is refused, nothing written.
    again = _post(client, console, "/contracts", {"introduction_id": deal.introduction_id})
    assert again.status_code == 409
    assert len(session.exec(select(Contract)).all()) == 1

    # The taker sees it in its list, with the giver as counterpart, comments and proposes a price.
    _as(client, taker)
    assert f"/contracts/{contract_id}" in _get(client, f"/introductions/{deal.introduction_id}")
    listing = _get(client, "/contracts")
    assert contract_id in listing and w.owner.secrets[0] in listing
    assert "Brouillon" in listing
    commented = _post(
        client, page, f"{page}/comments", {"body": "Nous proposons 12,50 € la tonne."}
    )
    assert commented.status_code == 303
    assert "Nous proposons 12,50 € la tonne." in _get(client, page)
    empty = _post(client, page, f"{page}/comments", {"body": "   "})
    assert empty.status_code == 422 and 'id="error-body"' in empty.text

    form = _terms_form(client, deal, contract_id)
    refused = _post(
        client,
        f"{page}/terms",
        f"{page}/terms",
        {**form, "price_amount": "douze", "base_version": "1"},
    )
    assert refused.status_code == 422
    assert 'id="error-price_amount"' in refused.text
    assert _contract(session, contract_id).current_version == 1
    proposed = _post(
        client,
        f"{page}/terms",
        f"{page}/terms",
        {
            **form,
            "price_kind": "price",
            "price_amount": "12,50",
            "price_payer": "taker",
            "note": "Prix à la tonne",
            "base_version": "1",
        },
    )
    assert proposed.status_code == 303, proposed.text
    assert _contract(session, contract_id).current_version == 2
    html = _get(client, page)
    assert "Modifications de la version 1 à la version 2" in html
    assert "Montant (EUR)" in html and "12,50" in html and "Prix à la tonne" in html
    # The diff between two chosen versions, the same way round.
    assert "Qui paie" in _get(client, f"{page}?from=1&to=2")
    assert "Aucune modification" in _get(client, f"{page}?from=2&to=2")

    # The facilitator qualifies it as a by-product, one document missing, and submits it.
    _as(client, staff)
    status = f"{page}/status"
    answered = _post(client, status, status, {"step": "answers", **BY_PRODUCT})
    assert answered.status_code == 303, answered.text
    wizard = _get(client, status)
    assert "Sous-produit" in wizard and LAWFUL_USE in wizard
    saved = _post(client, status, status, {"step": "evidence", **EVIDENCE})
    assert saved.status_code == 303, saved.text
    wizard = _get(client, status)
    assert "Justificatif encore manquant pour" in wizard and LAWFUL_USE in wizard
    assert _post(client, page, f"{page}/submit").status_code == 303
    refusal = _post(client, page, f"{page}/ready")
    assert refusal.status_code == 422
    assert "Justificatif manquant pour une condition" in refusal.text
    assert LAWFUL_USE in unescape(refusal.text)
    assert _contract(session, contract_id).state == "review"

    # The missing document attached: its SHA-256 shown, the wizard complete, the contract ready.
    document = b"%PDF-1.4 rapport d'essais NF EN 450-1"
    digest = hashlib.sha256(document).hexdigest()
    completed = _post(
        client,
        status,
        status,
        {"step": "evidence", **EVIDENCE},
        files={"file-by_product.lawful_use": ("essais.pdf", document, "application/pdf")},
    )
    assert completed.status_code == 303, completed.text
    wizard = _get(client, status)
    assert digest in wizard and "Chaque condition a son justificatif." in wizard
    frozen = _post(client, page, f"{page}/ready")
    assert frozen.status_code == 303, frozen.text
    html = _get(client, page)
    assert "Prêt à signer" in html and digest in html
    # A by-product's derived obligation: each lot traced.
    assert "Chaque lot livré est tracé" in html

    # Three signatures: the taker's wrong password refused next to the field, nothing signed.
    _as(client, taker)
    wrong = _post(client, f"{page}/sign", f"{page}/sign", {"password": "not-it", "version": "2"})
    assert wrong.status_code == 403
    assert 'id="error-password"' in wrong.text and "mot de passe" in wrong.text
    assert _contract(session, contract_id).state == "ready"
    signed = _post(client, f"{page}/sign", f"{page}/sign", {"password": PASSWORD, "version": "2"})
    assert signed.status_code == 303, signed.text
    assert "En attente de la signature de l'autre partie" in _get(client, page)
    _as(client, giver)
    assert "Votre signature est attendue" in _get(client, "/contracts")
    signed = _post(client, f"{page}/sign", f"{page}/sign", {"password": PASSWORD, "version": "2"})
    assert signed.status_code == 303, signed.text
    assert _contract(session, contract_id).state == "signed"
    _as(client, staff)
    assert "Contre-signer" in _get(client, page)
    signed = _post(client, f"{page}/sign", f"{page}/sign", {"password": PASSWORD, "version": "2"})
    assert signed.status_code == 303, signed.text
    assert _contract(session, contract_id).state == "active"
    signed_page = _get(client, page)
    assert f"Cédant · {w.owner.secrets[0]}" in signed_page
    assert f"Preneur · {w.requester.secrets[0]}" in signed_page
    report = _get(client, f"{page}/verification")
    assert "Chaque signature est valide" in report
    pdf = client.get(f"{page}/pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    english = client.get(f"{page}/pdf?lang=en")
    assert english.status_code == 200 and english.content.startswith(b"%PDF")

    # Deliveries: a refused one names its field, a good one counts against the quantity.
    _as(client, taker)
    deliveries = f"{page}/deliveries"
    bad = _post(
        client, deliveries, deliveries, {"delivered_on": date.today().isoformat(), "quantity": "-3"}
    )
    assert bad.status_code == 422 and 'id="error-quantity"' in bad.text
    recorded = _post(
        client,
        deliveries,
        deliveries,
        {"delivered_on": date.today().isoformat(), "quantity": "12,5", "lot": "LOT-0001"},
    )
    assert recorded.status_code == 303, recorded.text
    html = _get(client, deliveries)
    assert "LOT-0001" in html and "12,5" in html
    # The delivery's date as a French reader writes it, not ISO.
    day = re.escape(format_date(date.today(), "medium", locale="fr"))
    assert re.search(rf"<td[^>]*>{day}</td>", html)
    session.expire_all()
    assert len(session.exec(select(Delivery)).all()) == 1

    # The page in English.
    english_page = _get(client, f"{page}?lang=en")
    assert "By-product" in english_page and "Regulatory status" in english_page
    assert "Further use is lawful" in english_page


def test_a_waste_contract_exports_its_registers_from_the_deliveries_page(
    client: TestClient, session: Session
) -> None:
    deal = revealed_deal(client, session)
    contract = ready(client, deal)
    for headers in (deal.taker, deal.giver, deal.staff):
        assert sign(client, headers, contract).status_code == 200
    _as(client, _admin(session, deal.w.requester.company_id))
    page = f"/contracts/{contract['id']}"
    deliveries = f"{page}/deliveries"
    assert "Registre des déchets sortants (CSV)" in _get(client, deliveries)
    recorded = _post(
        client,
        deliveries,
        deliveries,
        {"delivered_on": date.today().isoformat(), "quantity": "30", "lot": "B-17"},
    )
    assert recorded.status_code == 303, recorded.text
    csv = client.get(f"{page}/registers/outgoing")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("date_expedition;code_dechet")
    assert date.today().isoformat() in lines[1] and "B-17" in lines[1] and "R 5" in lines[1]
    # No end-of-waste register for a waste.
    assert client.get(f"{page}/registers/end_of_waste").status_code == 409


def test_a_third_company_gets_the_same_404_for_a_contract_as_for_none(
    client: TestClient, session: Session
) -> None:
    deal = revealed_deal(client, session)
    contract = ready(client, deal)
    _as(client, _admin(session, deal.w.third.company_id))
    token = token_in(client.get("/contracts").text)
    assert contract["id"] not in _get(client, "/contracts")
    nobody = str(uuid.uuid4())
    pages = ("", "/status", "/sign", "/terms", "/deliveries", "/pdf", "/verification")
    for suffix in (*pages, "/registers/outgoing"):
        mine = client.get(f"/contracts/{contract['id']}{suffix}")
        none = client.get(f"/contracts/{nobody}{suffix}")
        assert mine.status_code == 404, suffix
        assert mine.text.replace(contract["id"], nobody) == none.text, suffix
    for suffix in ("/comments", "/sign", "/status", "/terms", "/deliveries", "/terminate"):
        posted = client.post(
            f"/contracts/{contract['id']}{suffix}",
            data={"csrf_token": token, "body": "Bonjour", "password": PASSWORD, "version": "1"},
        )
        assert posted.status_code == 404, suffix
        for secret in (*deal.w.owner.secrets, *deal.w.requester.secrets):
            assert secret not in posted.text
    # Nothing changed: still ready, one version, no comment.
    row = _contract(session, contract["id"])
    assert (row.state, row.current_version) == ("ready", 1)
    versions = session.exec(select(ContractVersion).where(ContractVersion.contract_id == row.id))
    assert len(versions.all()) == 1


RECOVERY = "Le déchet a subi une opération de valorisation dans une installation autorisée."


def test_an_end_of_waste_hazardous_contract_shows_its_obligations_and_asks_each_lot_s_statement(
    client: TestClient, session: Session
) -> None:
    """A mirror entry declared hazardous, recovered under an act of the reference list: the page
    shows the tracking slip and the statement of conformity per lot; a delivery without its
    statement is refused naming the field; the end-of-waste register is the one exported."""
    deal = revealed_deal(client, session)
    contract = ok(
        client.post(API, headers=deal.staff, json={"introduction_id": deal.introduction_id}), 201
    )
    page = f"/contracts/{contract['id']}"
    staff = _facilitator(session)
    _as(client, staff)
    form = _terms_form(client, deal, contract["id"])
    changed = _post(
        client,
        f"{page}/terms",
        f"{page}/terms",
        {**form, "low_code": "10 01 16", "hazardous": "on", "base_version": "1"},
    )
    assert changed.status_code == 303, changed.text
    # A code that is never hazardous cannot be declared so: refused naming the field.
    refused = _post(
        client,
        f"{page}/terms",
        f"{page}/terms",
        {**form, "low_code": "10 01 02", "hazardous": "on", "base_version": "2"},
    )
    assert refused.status_code == 422 and 'id="error-hazardous"' in refused.text
    assert "Ce code déchet n’est jamais dangereux" in refused.text
    assert _contract(session, contract["id"]).current_version == 2

    status = f"{page}/status"
    answers = {
        "is_utility": "no",
        "recovered": "yes",
        "end_of_waste_act": "Arrêté du 29 juillet 2014",
    }
    assert _post(client, status, status, {"step": "answers", **answers}).status_code == 303
    # An act that is not on the reference list is refused naming its field, nothing saved.
    bad = _post(client, status, status, {"step": "answers", "end_of_waste_act": "Arrêté inventé"})
    assert bad.status_code == 422 and 'id="error-end_of_waste_act"' in bad.text
    evidence = {
        "text-end_of_waste.recovery_operation": "Criblage et maturation sur la plateforme.",
        "text-end_of_waste.criteria": "Critères de l'arrêté du 29 juillet 2014 respectés.",
        "text-end_of_waste.conformity_statement": "Attestation établie pour chaque lot.",
    }
    saved = _post(
        client,
        status,
        status,
        {"step": "evidence", **evidence},
        files={
            "file-end_of_waste.recovery_operation": (
                "arrete.pdf",
                b"%PDF-1.4 ICPE",
                "application/pdf",
            )
        },
    )
    assert saved.status_code == 303, saved.text
    html = _get(client, page)
    assert "Sortie du statut de déchet (SSD)" in html
    assert "bordereau de suivi des déchets dangereux" in html
    assert "attestation de conformité est établie pour chaque lot" in html
    assert "Arrêté du 29 juillet 2014" in html
    assert "hazardous waste tracking slip" in _get(client, f"{page}?lang=en")
    assert "Has the waste undergone a recovery operation" in _get(client, f"{status}?lang=en")

    assert _post(client, page, f"{page}/submit").status_code == 303
    assert _post(client, page, f"{page}/ready").status_code == 303
    frozen = ok(client.get(f"{API}/{contract['id']}", headers=deal.staff))
    for headers in (deal.giver, deal.taker, deal.staff):
        assert sign(client, headers, frozen).status_code == 200

    _as(client, _admin(session, deal.w.owner.company_id))
    deliveries = f"{page}/deliveries"
    today = date.today().isoformat()
    missing = _post(client, deliveries, deliveries, {"delivered_on": today, "quantity": "8"})
    assert missing.status_code == 422 and 'id="error-conformity_statement"' in missing.text
    session.expire_all()
    assert session.exec(select(Delivery)).all() == []
    recorded = _post(
        client,
        deliveries,
        deliveries,
        {
            "delivered_on": today,
            "quantity": "8",
            "lot": "SSD-3",
            "conformity_statement": "Lot SSD-3 conforme aux critères.",
        },
    )
    assert recorded.status_code == 303, recorded.text
    assert "Registre des lots sortis du statut de déchet (CSV)" in _get(client, deliveries)
    csv = client.get(f"{page}/registers/end_of_waste")
    assert csv.status_code == 200
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert "SSD-3" in lines[1] and "Arrêté du 29 juillet 2014" in lines[1]
    assert client.get(f"{page}/registers/outgoing").status_code == 409
