"""The introduction pages through a browser's eyes (TestClient with a login session): a member's
inbox and an introduction's page for both sides, in French and English, the forms that move it
on, nothing of the other side before the reveal and its identity after, nothing at all for a
third company, and the facilitator's console, closed to members."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session, select

from core.models import utcnow
from core.settings import get_settings
from marketplace.accounts.models import User
from marketplace.catalogue import explanations
from marketplace.introductions import service
from marketplace.introductions.models import Introduction, IntroductionMessage
from tests.factories import PASSWORD
from tests.introduction_world import Side, World, express, world
from tests.test_introduction_pools import Pool, pool_world
from tests.test_introduction_pools import express as express_pool
from tests.test_web import login, token_in

INTRO_URL = re.compile(r"/introductions/([0-9a-f-]{36})")


def _email(session: Session, side: Side) -> str:
    user = session.exec(select(User).where(User.company_id == side.company_id)).first()
    assert user is not None
    return user.email


def _facilitator_email(session: Session, w: World | Pool) -> str:
    # The world's facilitator is the only staff user.
    user = session.exec(select(User).where(User.company_id == None)).first()  # noqa: E711
    assert user is not None
    return user.email


Browse = Callable[[str], TestClient]


@pytest.fixture
def as_user(client: TestClient) -> Iterator[Browse]:
    """Log the client in as someone else (the session cookie replaced)."""

    def switch(email: str) -> TestClient:
        client.cookies.clear()
        login(client, email, PASSWORD)
        return client

    yield switch


def _secrets_in(text: str, of: Side) -> list[str]:
    """The other side's identity, or its site's position, in a page (dot or comma decimals)."""
    found = [s for s in of.secrets if s in text]
    for value in of.position:
        for shown in (f"{value:.4f}", f"{value:.4f}".replace(".", ",")):
            if shown in text:
                found.append(shown)
    return found


def _post(
    client: TestClient, page: str, action: str, data: dict[str, str] | None = None
) -> Response:
    """Submit a form of `page` (its CSRF token), without following the redirect."""
    token = token_in(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **(data or {})}, follow_redirects=False)


def _interest(client: TestClient, w: World) -> str:
    """The requester's « Exprimer un intérêt » on the listing's page; the new introduction's id."""
    page = client.get(f"/catalogue/{w.listing_id}")
    assert page.status_code == 200
    assert "Exprimer un intérêt" in page.text
    assert str(w.requester.member.flow_id) in page.text  # its own flow, to choose
    sent = _post(
        client,
        f"/catalogue/{w.listing_id}",
        "/introductions",
        {"listing_id": w.listing_id, "requester_flow_id": str(w.requester.member.flow_id)},
    )
    assert sent.status_code == 303, sent.text
    found = INTRO_URL.search(sent.headers["location"])
    assert found
    return found.group(1)


NAV_COUNT = re.compile(r'href="/introductions"[^>]*>[^<]*<span class="count">(\d+)</span>')


def _nav_count(html: str) -> str | None:
    found = NAV_COUNT.search(html)
    return found.group(1) if found else None


def _state(session: Session, intro_id: str) -> str:
    session.expire_all()
    intro = session.get(Introduction, uuid.UUID(intro_id))
    assert intro is not None
    return intro.state


def test_both_sides_follow_the_path_in_their_pages_and_learn_each_other_only_at_the_reveal(
    client: TestClient, session: Session, as_user: Browse
) -> None:
    w = world(client, session)
    requester, owner, third = (_email(session, s) for s in (w.requester, w.owner, w.third))

    as_user(requester)
    intro_id = _interest(client, w)
    detail = f"/introductions/{intro_id}"
    page = client.get(detail)
    assert page.status_code == 200
    assert "Proposée au titulaire" in page.text and "Retirer" in page.text
    # The listing's page now leads to the introduction instead of a second interest.
    assert detail in client.get(f"/catalogue/{w.listing_id}").text
    said = _post(client, detail, f"{detail}/messages", {"body": "Environ 400 t par an, en vrac."})
    assert said.status_code == 303
    # A message naming its author's company is refused in place, and nothing is relayed.
    named = _post(client, detail, f"{detail}/messages", {"body": f"Ici {w.requester.secrets[0]}"})
    assert named.status_code == 422 and "field-error" in named.text
    seen = {"requester": [page.text, client.get("/introductions").text, client.get(detail).text]}

    as_user(owner)
    inbox = client.get("/introductions")
    assert inbox.status_code == 200
    assert detail in inbox.text and "En attente de votre réponse" in inbox.text
    # The navigation counts the company's own unread notice (the proposal), nothing else's.
    assert _nav_count(inbox.text) == "1"
    page = client.get(detail)
    assert "Environ 400 t par an" in page.text
    assert "L'entreprise demandeuse" in page.text and "23" in page.text  # its sector division
    # The requester card says why its sector (and band, when the requester named a flow) is
    # shown as it is, in the words every page and mail uses.
    assert explanations.requester_sector_note("fr").text in html.unescape(page.text)
    assert 'aria-describedby="why-requester-sector"' in page.text
    assert "Accepter" in page.text and "Décliner" in page.text
    seen["owner"] = [inbox.text, page.text]

    # Before the reveal neither side's pages carry the other's identity or position.
    for text in seen["requester"]:
        assert _secrets_in(text, w.owner) == []
    for text in seen["owner"]:
        assert _secrets_in(text, w.requester) == []

    # A third company: every introduction page is "not found", every form refused alike.
    as_user(third)
    assert intro_id not in client.get("/introductions").text
    assert client.get(detail).status_code == 404
    for action in ("accept", "decline", "withdraw", "messages"):
        refused = _post(client, "/introductions", f"{detail}/{action}", {"body": "Bonjour"})
        assert refused.status_code == 404, action
    assert _state(session, intro_id) == "proposed"
    assert len(session.exec(select(IntroductionMessage)).all()) == 1

    as_user(owner)
    accepted = _post(client, detail, f"{detail}/accept")
    assert accepted.status_code == 303
    assert _state(session, intro_id) == "revealed"
    revealed = client.get(accepted.headers["location"]).text
    assert "Levée de l'anonymat" in revealed
    assert w.requester.secrets[0] in revealed and w.requester.secrets[1] in revealed
    assert w.requester.secrets[3] in revealed  # its exact site's name

    as_user(requester)
    revealed = client.get(detail).text
    assert w.owner.secrets[0] in revealed and w.owner.secrets[3] in revealed
    inbox = client.get("/introductions").text
    assert "Anonymat levé" in inbox and _nav_count(inbox) == "1"  # the reveal's notice

    as_user(third)
    assert client.get(detail).status_code == 404
    inbox = client.get("/introductions").text
    assert _secrets_in(inbox, w.owner) == [] and _nav_count(inbox) is None


def test_the_pages_speak_english_for_both_sides(
    client: TestClient, session: Session, as_user: Browse
) -> None:
    w = world(client, session)
    intro_id = express(client, w).json()["id"]
    as_user(_email(session, w.requester))
    page = client.get(f"/introductions/{intro_id}?lang=en")
    assert '<html lang="en">' in page.text
    assert "Proposed to the owner" in page.text and "Withdraw" in page.text
    assert "My interests" in client.get("/introductions?lang=en").text
    assert "See my introduction" in client.get(f"/catalogue/{w.listing_id}?lang=en").text
    as_user(_email(session, w.owner))
    page = client.get(f"/introductions/{intro_id}?lang=en")
    assert "Awaiting your answer" in page.text and "Accept" in page.text
    assert "Proposed to my company" in client.get("/introductions?lang=en").text


def test_the_owner_declines_and_the_requester_is_not_told_so(
    client: TestClient, session: Session, as_user: Browse
) -> None:
    w = world(client, session)
    intro_id = express(client, w).json()["id"]
    detail = f"/introductions/{intro_id}"
    as_user(_email(session, w.owner))
    assert _post(client, detail, f"{detail}/decline").status_code == 303
    assert _state(session, intro_id) == "declined"
    assert "Déclinée" in client.get(detail).text
    as_user(_email(session, w.requester))
    page = client.get(detail).text
    # Still what it saw before, until a random moment; never "declined".
    assert "Proposée au titulaire" in page
    assert "Déclinée" not in page and "Declined" not in client.get(f"{detail}?lang=en").text


def test_the_requester_withdraws_from_its_inbox(
    client: TestClient, session: Session, as_user: Browse
) -> None:
    w = world(client, session)
    intro_id = express(client, w).json()["id"]
    as_user(_email(session, w.requester))
    inbox = client.get("/introductions").text
    assert f'action="/introductions/{intro_id}/withdraw"' in inbox
    withdrawn = _post(client, "/introductions", f"/introductions/{intro_id}/withdraw")
    assert withdrawn.status_code == 303
    assert _state(session, intro_id) == "withdrawn"
    page = client.get(f"/introductions/{intro_id}").text
    assert "Mise en relation retirée" in page and "Écrire un message" not in page


def test_bad_input_is_refused_naming_the_field_and_changes_nothing(
    client: TestClient, session: Session, as_user: Browse
) -> None:
    w = world(client, session)
    as_user(_email(session, w.requester))
    page = "/introductions"
    bad = _post(client, page, "/introductions", {"listing_id": "not-a-uuid"})
    assert bad.status_code == 422 and "listing_id" in bad.text
    neither = _post(client, page, "/introductions", {})
    assert neither.status_code == 422
    gone = _post(client, page, "/introductions", {"listing_id": str(uuid.uuid4())})
    assert gone.status_code == 404
    assert session.exec(select(Introduction)).all() == []
    intro_id = express(client, w).json()["id"]
    empty = _post(client, page, f"/introductions/{intro_id}/messages", {"body": "  "})
    assert empty.status_code == 422 and "field-error" in empty.text
    unknown = _post(client, page, f"/introductions/{intro_id}/reveal")
    assert unknown.status_code == 404
    # The requester cannot decline (its word is "withdraw"): refused, nothing changes.
    declined = _post(client, page, f"/introductions/{intro_id}/decline")
    assert declined.status_code == 403
    assert _state(session, intro_id) == "proposed"
    assert session.exec(select(IntroductionMessage)).all() == []
    # A form without its CSRF token changes nothing either.
    forged = client.post(f"/introductions/{intro_id}/withdraw", follow_redirects=False)
    assert forged.status_code == 403 and _state(session, intro_id) == "proposed"


def test_the_facilitator_screens_proposes_and_relays_from_its_console(
    client: TestClient,
    session: Session,
    as_user: Browse,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(get_settings(), "introduction_screening", True)
    w = world(client, session)
    intro_id = express(client, w).json()["id"]
    console = "/console/introductions"
    detail = f"{console}/{intro_id}"

    # Members: no console, whatever the introduction.
    for side in (w.requester, w.owner, w.third):
        as_user(_email(session, side))
        assert client.get(console).status_code == 403
        assert client.get(detail).status_code == 403
    as_user(_email(session, w.owner))
    assert intro_id not in client.get("/introductions").text  # not proposed yet

    as_user(_facilitator_email(session, w))
    queue = client.get(console)
    assert queue.status_code == 200 and detail in queue.text
    assert "À examiner" in queue.text
    assert "Intérêt exprimé" in queue.text
    assert "Screening and decision" in client.get(f"{detail}?lang=en").text
    page = client.get(detail)
    # The facilitator reads both names (each read an audit entry).
    assert w.requester.secrets[0] in page.text and w.owner.secrets[0] in page.text
    # One note, sent with whichever decision is pressed.
    assert f'formaction="{detail}/screen"' in page.text
    assert f'formaction="{detail}/propose"' in page.text
    screened = _post(client, detail, f"{detail}/screen", {"note": "Vérifier le permis."})
    assert screened.status_code == 303
    assert _state(session, intro_id) == "screening"
    assert "Vérifier le permis." in client.get(detail).text
    relayed = _post(client, detail, f"{detail}/messages", {"body": "Pouvez-vous préciser ?"})
    assert relayed.status_code == 303
    too_long = _post(client, detail, f"{detail}/propose", {"note": "x" * 2001})
    assert too_long.status_code == 422 and _state(session, intro_id) == "screening"
    proposed = _post(client, detail, f"{detail}/propose", {"note": "Autorisation vue."})
    assert proposed.status_code == 303
    assert _state(session, intro_id) == "proposed"
    assert detail in client.get(f"{console}?queue=proposed").text
    assert detail not in client.get(console).text

    as_user(_email(session, w.owner))
    page = client.get(f"/introductions/{intro_id}").text
    assert "Pouvez-vous préciser ?" in page and "Autorisation vue." not in page
    assert _secrets_in(page, w.requester) == []


def test_a_pooled_introduction_in_the_pages_of_each_contributor_the_requester_and_the_console(
    client: TestClient, session: Session, as_user: Browse
) -> None:
    """Each contributor answers its own share from its page and sees the requester's card,
    never the other contributors; the console names every contributor with its answer; after
    the deadline the requester's page reveals only the contributor who accepted."""
    pool = pool_world(client, session)
    alpha, bravo, charlie = pool.contributors
    intro_id = express_pool(client, pool).json()["id"]
    page_url = f"/introductions/{intro_id}"

    as_user(_email(session, alpha))
    page = client.get(page_url)
    assert page.status_code == 200
    assert "Permits of the site" in client.get(f"{page_url}?lang=en").text
    for other in (bravo, charlie, pool.requester):
        assert _secrets_in(page.text, other) == []
    assert _post(client, page_url, f"{page_url}/accept", {}).status_code == 303
    as_user(_email(session, bravo))
    assert _post(client, page_url, f"{page_url}/decline", {}).status_code == 303
    inbox = client.get("/introductions").text
    assert "Déclinée" in inbox  # its own answer, in its own list

    as_user(_facilitator_email(session, pool))
    console = client.get(f"/console/introductions/{intro_id}")
    assert console.status_code == 200
    for contributor, answer in (
        (alpha, "A accepté sa part"),
        (bravo, "A décliné sa part"),
        (charlie, "En attente de sa réponse"),
    ):
        assert contributor.secrets[0] in console.text
        row = console.text.split(contributor.secrets[0], 1)[1].split("</dd>", 1)[0]
        assert answer in row
    assert pool.requester.secrets[0] in console.text

    as_user(_email(session, pool.requester))
    before = client.get(page_url).text
    for contributor in pool.contributors:
        assert _secrets_in(before, contributor) == []
    assert service.expire_due(session, utcnow() + timedelta(days=16)) == 0
    session.commit()
    after = client.get(page_url).text
    assert alpha.secrets[0] in after and alpha.secrets[1] in after
    for hidden in (bravo, charlie):
        assert _secrets_in(after, hidden) == []
    # The console drafts one contract per contributor who accepted.
    as_user(_facilitator_email(session, pool))
    console = client.get(f"/console/introductions/{intro_id}").text
    assert console.count('name="contributor_company_id"') == 1  # alpha only: bravo declined
    assert f'value="{alpha.company_id}"' in console
    drafted = _post(
        client,
        f"/console/introductions/{intro_id}",
        "/contracts",
        {"introduction_id": intro_id, "contributor_company_id": str(alpha.company_id)},
    )
    assert drafted.status_code == 303 and "/contracts/" in drafted.headers["location"]
    console = client.get(f"/console/introductions/{intro_id}").text
    assert 'name="contributor_company_id"' not in console
    assert drafted.headers["location"].split("?")[0] in console
