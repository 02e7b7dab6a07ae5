"""The matches pages: a member's matches as public cards with reasons in its language, the
facilitator's stored matches, suggestion and territory plan."""

from __future__ import annotations

import re
import uuid
from html import unescape

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from marketplace.accounts.models import Role, User
from marketplace.companies.models import Site
from marketplace.matching.models import Match
from tests.factories import create_user_row
from tests.members import Member, member, publication_run, publish
from tests.test_matching import DUNKERQUE, GRAVELINES, _published_pair
from tests.test_web import login, token_in
from web.i18n import translator
from web.matching_words import why_line
from web.templating import format_number

SCORE = re.compile(r"Score : (\d+) / 100")


def _email(session: Session, owner: Member) -> str:
    """The company administrator member() created for ``owner``."""
    site = session.get(Site, owner.site_id)
    assert site is not None
    user = session.exec(select(User).where(User.company_id == site.company_id)).first()
    assert user is not None
    return user.email


def _stored(session: Session, flow_id: uuid.UUID) -> list[Match]:
    session.expire_all()
    query = select(Match).where(
        (col(Match.offer_flow_id) == flow_id) | (col(Match.request_flow_id) == flow_id)
    )
    return list(session.exec(query).all())


def _text(html: str) -> str:
    """The page's text as a reader sees it: tags dropped, spaces collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def _km(match: Match) -> str:
    """The exact distance as the facilitator's page writes it."""
    return format_number(round(match.distance_km, 1), "fr")


def _as(client: TestClient, email: str) -> None:
    """Log in as another user on the same client (the previous session's cookies dropped)."""
    client.cookies.clear()
    login(client, email)


def _staff(client: TestClient, session: Session) -> None:
    _as(client, create_user_row(session, Role.FACILITATOR).email)


def test_a_member_sees_its_matches_as_cards_with_french_reasons(
    client: TestClient, session: Session
) -> None:
    cement, offers = _published_pair(client, session)
    login(client, _email(session, cement))
    flows = client.get("/flows")
    assert f'href="/flows/{cement.flow_id}/matches">Correspondances</a>' in flows.text

    page = client.get(f"/flows/{cement.flow_id}/matches")
    assert page.status_code == 200, page.text
    html = _text(page.text)
    assert "Cendres volantes pour ajout cimentier" in html  # the flow's own summary
    scores = [int(s) for s in SCORE.findall(html)]
    assert len(scores) == 3 and all(0 < s <= 100 for s in scores)
    assert scores == sorted(scores, reverse=True)
    assert "<meter" in page.text and 'class="listing-card offer"' in page.text
    # The reasons in French, from each criterion's code; the knowledge base's words as given.
    assert "Matière : same List of Waste code 10 01 02" in html
    assert "10–30 km de votre site, dans les" in html
    assert "des 12 mois demandés sont disponibles" in html
    assert "t CO₂e par an" in html and "€ par an" in html
    # Nothing the card does not show: no company, no exact distance, no counterpart's flow.
    stored = _stored(session, cement.flow_id)
    assert stored, "the facilitator's matches were computed"
    for match in stored:
        for exact in (format_number(match.distance_km, "fr"), _km(match)):
            assert f"{exact} km" not in html
    for offer in offers:
        assert "Centrale Lecture" not in html and str(offer.flow_id) not in html
    assert "km l'un de l'autre" not in html and "Hypothèses" not in html
    assert "Suggérer" not in html and "Prospects" not in html  # a request has no prospects


def test_another_companys_flow_page_is_not_found(client: TestClient, session: Session) -> None:
    cement, offers = _published_pair(client, session)
    login(client, _email(session, cement))
    theirs = client.get(f"/flows/{offers[0].flow_id}/matches")
    missing = client.get(f"/flows/{uuid.uuid4()}/matches")
    assert theirs.status_code == missing.status_code == 404
    assert "Centrale Lecture" not in theirs.text


def test_the_page_speaks_english(client: TestClient, session: Session) -> None:
    cement, _ = _published_pair(client, session)
    login(client, _email(session, cement))
    page = client.get(f"/flows/{cement.flow_id}/matches?lang=en").text
    assert '<html lang="en">' in page and '<span lang="en">' not in page
    html = _text(page)
    assert re.search(r"Score: \d+ / 100", html)
    assert (
        "Material: same List of Waste code" in html
        and "10–30 km from your site, within the" in html
    )
    assert "Why" in html and "Pourquoi" not in html


def test_the_facilitator_suggests_a_match_the_member_then_hears_of(
    client: TestClient, session: Session
) -> None:
    cement = member(
        session,
        "Cimenterie Suggestion SAS",
        DUNKERQUE,
        direction="request",
        label="Cendres volantes",
        low_code="10 01 02",
    )
    lone = member(session, "Centrale Suggestion SAS", GRAVELINES, label="Cendres de charbon")
    publish(client, lone)  # alone in its cell: brokered only, no card in the catalogue
    publication_run(session)
    url = f"/flows/{cement.flow_id}/matches"
    login(client, _email(session, cement))
    before = client.get(url).text
    assert "contrepartie possible" not in before and "Cendres de charbon" not in before

    _staff(client, session)
    page = client.get(url)
    assert page.status_code == 200, page.text
    [match] = _stored(session, cement.flow_id)
    html = _text(page.text)
    assert "Cendres de charbon" in html and f"À {_km(match)} km l'un de l'autre" in html
    assert "<details" in page.text and "Hypothèses" in page.text and "ADEME" in page.text
    action = f"/flows/{cement.flow_id}/matches/{match.id}/suggest"
    assert f'action="{action}"' in page.text

    refused = client.post(action, data={}, follow_redirects=False)
    assert refused.status_code == 403  # no CSRF token
    done = client.post(action, data={"csrf_token": token_in(page.text)})
    assert done.status_code == 200 and "La correspondance est suggérée" in done.text
    assert "Suggérée le" in done.text and f'action="{action}"' not in done.text
    assert _stored(session, cement.flow_id)[0].suggested_at is not None

    _as(client, _email(session, cement))
    told_page = client.get(url).text
    told = _text(told_page)
    assert "L'animateur a une contrepartie possible" in told
    assert "Cendres de charbon" not in told and "Centrale Suggestion" not in told
    # A member cannot suggest, even with its own valid token.
    again = client.post(action, data={"csrf_token": token_in(told_page)}, follow_redirects=False)
    assert again.status_code == 403

    # « Exprimer un intérêt » on what the facilitator suggested: an introduction from the match,
    # and the page leads to it afterwards; still nothing of the other side.
    assert f'name="match_id" value="{match.id}"' in told_page
    interest = client.post(
        "/introductions",
        data={"csrf_token": token_in(told_page), "match_id": str(match.id)},
        follow_redirects=False,
    )
    assert interest.status_code == 303, interest.text
    intro_page = client.get(interest.headers["location"]).text
    assert "Une correspondance suggérée par l'animateur" in unescape(intro_page)
    assert "Centrale Suggestion" not in intro_page and "Cendres de charbon" not in intro_page
    after = client.get(url).text
    assert "Voir ma mise en relation" in after and 'name="match_id"' not in after


def test_an_offer_shows_prospect_sectors_and_the_facilitator_the_companies(
    client: TestClient, session: Session
) -> None:
    power = member(session, "Centrale Prospect SAS", GRAVELINES, label="Cendres volantes")
    member(session, "Cimenterie Voisine SAS", DUNKERQUE, direction="request", label="Sable")
    url = f"/flows/{power.flow_id}/matches"
    login(client, _email(session, power))
    own = client.get(url).text
    assert "Prospects" in own and "23.5" in own
    assert "Entreprises membres de ces secteurs" not in own

    _staff(client, session)
    staff = client.get(url).text
    assert "Entreprises membres de ces secteurs à portée" in staff
    assert re.search(r"<td [^>]*class=\"num\">\d+,\d</td>", staff)  # a distance in km, not a name
    assert "Cimenterie Voisine" not in staff


def test_the_plan_is_the_facilitators_and_lists_the_exchanges(
    client: TestClient, session: Session
) -> None:
    cement, _ = _published_pair(client, session)
    login(client, _email(session, cement))
    refused = client.get("/plan", follow_redirects=False)
    assert refused.status_code == 403
    assert "Plan du territoire" not in client.get("/flows").text

    _staff(client, session)
    home = client.get("/companies").text
    assert '<a href="/plan"' in home and "Plan du territoire" in home
    page = client.get("/plan")
    assert page.status_code == 200, page.text
    assert "Cendres volantes pour ajout cimentier" in page.text
    assert page.text.count(f'href="/flows/{cement.flow_id}/matches"') >= 1
    assert "t/an" in page.text and "Total" in page.text
    by_eur = client.get("/plan?objective=eur")
    assert by_eur.status_code == 200 and 'aria-current="true" class="tag offer">€' in by_eur.text
    assert client.get("/plan?objective=tonnes").status_code == 400


def test_reasons_follow_their_code_and_an_unknown_code_keeps_the_engines_words() -> None:
    french = translator("fr")
    one_off = why_line(
        {
            "criterion": "timing",
            "score": 0.7,
            "code": "timing",
            "params": {"common": 12, "needed": 12},
        },
        "fr",
        french,
    )
    assert one_off.text.endswith("l'un des deux flux est ponctuel") and one_off.score == 70
    heat = why_line(
        {"criterion": "quality", "score": 0.6, "code": "t_short", "params": {"gap": 20}},
        "fr",
        french,
    )
    assert heat.criterion == "Qualité" and "20 °C en dessous" in heat.text
    unknown = why_line(
        {"criterion": "novel", "score": 1, "code": "novel", "reason": "a new reason"}, "fr", french
    )
    assert (unknown.criterion, unknown.text, unknown.lang) == ("novel", "a new reason", "en")
