"""A contract in headless Chromium: the facilitator opens the contract drafted from a revealed
introduction, answers the status wizard (waste: an authorised receiving facility with its order
attached, the registers, R5) and makes it ready; the taker and the giver sign with their password,
the association countersigns. The signed PDF's pages are then rendered to PNG (pypdfium2) into
tests/artifacts/, for a human to look at, and checked not blank."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from marketplace.accounts.models import Role, User
from tests.browser.conftest import ARTIFACTS, CHROMIUM, BrowserPage
from tests.exchange_world import API, draft, ok, revealed_deal
from tests.factories import PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]

FACILITY = "L'installation de réception est autorisée à recevoir ce code déchet."
ORDER = b"%PDF-1.4 arrete prefectoral d'autorisation ICPE de la cimenterie"


def _email(session: Session, company_id: object | None) -> str:
    query = select(User).where(User.company_id == company_id)
    if company_id is not None:
        query = query.where(User.role == Role.COMPANY_ADMIN)
    user = session.exec(query).first()
    assert user is not None
    return user.email


def _log_in(browser_page: BrowserPage, url: str, email: str, target: str) -> None:
    page = browser_page.page
    page.context.clear_cookies()
    page.goto(f"{url}{target}")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{url}{target}")


def _sign(browser_page: BrowserPage, url: str, contract_page: str, button: str, shot: str) -> None:
    from playwright.sync_api import expect

    page = browser_page.page
    page.goto(f"{url}{contract_page}")
    page.locator(".actions").get_by_role("link", name=button, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(button)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    browser_page.shot(shot)
    page.get_by_role("button", name=button, exact=True).click()
    expect(page.get_by_role("status")).to_have_text(
        "Votre signature est apposée sur le PDF du contrat."
    )


def test_a_contract_is_qualified_and_signed_in_the_browser(
    live_server: str,
    browser_page: BrowserPage,
    client: TestClient,
    session: Session,
) -> None:
    from playwright.sync_api import expect

    deal = revealed_deal(client, session)
    contract = draft(client, deal)
    ok(client.post(f"{API}/{contract['id']}/review", headers=deal.staff))
    contract_page = f"/contracts/{contract['id']}"
    page = browser_page.page

    # The facilitator opens the contract from the list.
    _log_in(browser_page, live_server, _email(session, None), "/contracts")
    page.get_by_role("link", name=contract["reference"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Contrat {contract['reference']}")
    expect(page.get_by_text("En relecture")).to_be_visible()
    browser_page.shot("contract-01-review")

    # The wizard: every by-product question answered no, not recovered → waste.
    page.get_by_role("link", name="Qualification du statut réglementaire").click()
    page.get_by_role("group", name="Le flux est-il une utilité").get_by_label("non").check()
    for question in (
        "produite en faisant partie intégrante",
        "utilisation ultérieure est-elle certaine",
        "utilisée directement",
        "respecte-t-il toutes les prescriptions",
        "subi une opération de valorisation",
    ):
        page.get_by_role("group", name=re.compile(question)).get_by_label("non").check()
    browser_page.shot("contract-02-wizard-questions")
    page.get_by_role("button", name="Qualifier le statut").click()
    expect(page.get_by_role("status").first).to_have_text("Le statut réglementaire est enregistré.")
    evidence = page.locator("#evidence")
    expect(evidence.get_by_text("Déchet", exact=True)).to_be_visible()
    expect(evidence.get_by_text("Justificatif encore manquant pour")).to_be_visible()

    # The evidence: the facility's order attached, the registers, the operation R5.
    page.get_by_label(f"Justificatif : {FACILITY}").fill(
        "Arrêté préfectoral d'autorisation de la cimenterie, rubrique 2771."
    )
    page.get_by_label(f"Document pour : {FACILITY}").set_input_files(
        files=[{"name": "arrete.pdf", "mimeType": "application/pdf", "buffer": ORDER}]
    )
    page.get_by_label("Opération de valorisation ou d'élimination (code R/D)").select_option("R5")
    page.get_by_label(re.compile("^Justificatif : Le producteur et l'installation")).fill(
        "Registres chronologiques tenus sur Trackdéchets."
    )
    page.get_by_label(re.compile("^Justificatif : Le code de l'opération")).fill(
        "R5 : recyclage de matières inorganiques (cimenterie)."
    )
    browser_page.shot("contract-03-wizard-evidence")
    page.get_by_role("button", name="Enregistrer les justificatifs").click()
    expect(page.get_by_text("Chaque condition a son justificatif.")).to_be_visible()
    expect(page.get_by_text(hashlib.sha256(ORDER).hexdigest()).first).to_be_visible()

    # Ready for signature: the terms frozen.
    page.get_by_role("link", name="Retour au contrat").click()
    page.get_by_role("button", name="Prêt à signer").click()
    expect(page.get_by_role("status")).to_have_text(
        "Les conditions sont figées : le contrat est prêt à signer."
    )
    browser_page.shot("contract-04-ready")

    # The taker, then the giver, sign; the association countersigns.
    taker = _email(session, deal.w.requester.company_id)
    giver = _email(session, deal.w.owner.company_id)
    _log_in(browser_page, live_server, taker, contract_page)
    _sign(browser_page, live_server, contract_page, "Signer", "contract-05-sign")
    _log_in(browser_page, live_server, giver, contract_page)
    _sign(browser_page, live_server, contract_page, "Signer", "contract-06-sign-giver")
    _log_in(browser_page, live_server, _email(session, None), contract_page)
    _sign(browser_page, live_server, contract_page, "Contre-signer", "contract-07-countersign")
    expect(page.locator(".facts").first.get_by_text("En vigueur")).to_be_visible()
    expect(page.locator("#signatures li")).to_have_count(3)
    browser_page.shot("contract-08-active")
    page.get_by_role("link", name="Vérification des signatures").click()
    expect(page.get_by_role("status")).to_contain_text("Chaque signature est valide")
    browser_page.shot("contract-09-verification")
    assert browser_page.console_errors == []

    # The signed PDF, as the browser downloads it, rendered page by page.
    response = page.request.get(f"{live_server}{contract_page}/pdf")
    assert response.ok and response.headers["content-type"] == "application/pdf"
    _render_pages(response.body())


def _dark_pixels(image: Any) -> int:
    return sum(image.histogram()[:128])


def _render_pages(pdf: bytes) -> None:
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    # The signatures' stamps are form widgets: drawn only once the forms are initialised.
    document.init_forms()
    bare = pypdfium2.PdfDocument(pdf)
    try:
        count = len(document)
        assert count >= 2  # the clauses, then the evidence page with the signature boxes
        for index in range(count):
            path = ARTIFACTS / f"contract-pdf-page-{index + 1}.png"
            path.unlink(missing_ok=True)
            image = document[index].render(scale=1.5).to_pil().convert("L")
            image.save(path)
            assert path.is_file() and path.stat().st_size > 0
            # Not blank: a page of text has many pixels far from white.
            assert _dark_pixels(image) > 1000, path
        # The last page's boxes carry the three signatures' stamps: more ink than the same page
        # drawn without its signature widgets.
        last = count - 1
        stamped = _dark_pixels(document[last].render(scale=1.5).to_pil().convert("L"))
        unsigned = _dark_pixels(bare[last].render(scale=1.5).to_pil().convert("L"))
        assert stamped > unsigned + 500, (stamped, unsigned)
    finally:
        bare.close()
        document.close()
