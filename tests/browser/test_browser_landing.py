"""A visitor in headless Chromium at 1280 px and 375 px: the landing page with nothing running
off the screen, then « Mot de passe oublié ? » from the login form, and a reset through a link
(the server and the page: tests/browser/conftest.py)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlmodel import Session

from core.models import utcnow
from marketplace.accounts.models import PasswordReset, Role
from tests.browser.conftest import CHROMIUM, BrowserPage
from tests.factories import create_user_row

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]

NEW_PASSWORD = "une-phrase-toute-neuve"
WIDER_THAN_SCREEN = "document.documentElement.scrollWidth > window.innerWidth"


@pytest.mark.parametrize("width", [1280, 375])
def test_a_visitor_reads_the_landing_page_and_resets_a_password(
    live_server: str, browser_page: BrowserPage, session: Session, width: int
) -> None:
    from playwright.sync_api import expect

    user = create_user_row(session, Role.FACILITATOR)
    # A link as the e-mail carries it (the mail itself is tested in tests/test_password_reset.py).
    token = f"lien-de-test-{width}"
    session.add(
        PasswordReset(
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            user_id=user.id,
            expires_at=utcnow() + timedelta(minutes=30),
        )
    )
    session.commit()
    page, shot = browser_page.page, browser_page.shot
    page.set_viewport_size({"width": width, "height": 800})

    page.goto(f"{live_server}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Le résidu de l'un est la ressource de l'autre"
    )
    expect(page.get_by_role("heading", name="Comment adhérer")).to_be_visible()
    assert not page.evaluate(WIDER_THAN_SCREEN)
    shot(f"landing-{width}")

    page.get_by_role("main").get_by_role("link", name="Se connecter").first.click()
    page.get_by_role("link", name="Mot de passe oublié ?").click()
    page.get_by_label("E-mail").fill("quelquun@ailleurs.example")
    page.get_by_role("button", name="Envoyer le lien").click()
    expect(page.get_by_role("status")).to_contain_text("Si un compte utilise cette adresse")
    assert not page.evaluate(WIDER_THAN_SCREEN)
    shot(f"password-forgot-{width}")

    page.goto(f"{live_server}/password/reset/{token}")
    page.get_by_label("Nouveau mot de passe", exact=False).first.fill(NEW_PASSWORD)
    page.get_by_label("Nouveau mot de passe, à nouveau").fill(NEW_PASSWORD)
    assert not page.evaluate(WIDER_THAN_SCREEN)
    shot(f"password-reset-{width}")
    page.get_by_role("button", name="Changer le mot de passe").click()
    expect(page.get_by_role("status")).to_contain_text("toutes les sessions sont fermées")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Mot de passe").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(f"{live_server}/companies")
    assert browser_page.console_errors == []
