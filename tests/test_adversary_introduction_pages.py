"""Red team, second round: the introduction pages, pooled introductions and the requester's card.
The attacker is a competing member company with several accounts that writes its own data (its
company's sector, its sites' permits, its interests, its answers as a pool's contributor) and
reads back, through the JSON API and the pages, comparing each answer with the answer to a case it
must not tell apart. The attacks of tests/test_adversary_introductions.py are not repeated.

Each test is an attack; those that worked were fixed and stay as tests of the defence:
- the owner of a listing could pass the requester card's k-checks with its own company: it
  changed its own sector to the requester's hidden one (or declared on its own site of the
  requester's région the permits it wanted to test) and read the card again; the division (or
  the permits) then showed, telling it that only k - 1 legal units besides itself shared them,
  and, swept over the forty permit combinations, which permits the requester holds. The same
  from a pool's contributor. The card's counts now leave out the reader's own legal unit
  (marketplace/introductions/views.py);
- between a pool's deadline and the hourly beat, a pool every contributor had declined (its
  silent moment drawn past the deadline) read "expired" to its requester while one nobody
  answered still read "proposed": the requester learnt it had been declined. A pool nobody
  accepted now expires at its deadline for every reader, as a plain introduction does; a
  contributor's share left unanswered reads "expired" from the deadline whether another
  accepted or not, and a late answer is refused (marketplace/introductions/service.py).

Not defended, by the product's own terms: a pool revealed before its deadline tells its
requester that every contributor answered (a reveal at the deadline, that one did not); a pool
still "proposed" past its deadline, until the beat reveals it, that a contributor accepted.

Left to a product decision (no test here): an owner controlling other legal units of the
requester's région pads the card's counts with them (the card cannot tell which companies one
owner controls); the card's sector and permits, checked in the région, narrow the requester's
own published request (linked by its quantity class) below k in its cell; the card stays live
after the introduction ends, so an owner keeps watching the requester's later changes.
"""

from __future__ import annotations

import difflib
import itertools
import re
import socket
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from core.models import utcnow
from core.settings import get_settings
from marketplace.introductions import service
from marketplace.introductions.models import Introduction, IntroductionMessage
from marketplace.introductions.outbox import SUBJECTS
from tests.introduction_world import Side, leaks, side, world
from tests.members import NORD_ELSEWHERE, Member, member
from tests.test_alerts import SmtpServer
from tests.test_introduction_pages import _email
from tests.test_introduction_pools import _everything, pool_world
from tests.test_introduction_pools import express as express_pool
from tests.test_web import login, token_in

API = "/api/v1/introductions"
PERMITS = {
    "icpe_regime": "enregistrement",
    "receives_non_hazardous_waste": True,
    "receives_hazardous_waste": False,
    "animal_by_products_approved": True,
}
ICPE_REGIMES = (None, "authorisation", "enregistrement", "declaration", "none")
# What differs between any two answers whatever they are about.
VOLATILE_HEADERS = {"date", "x-request-id", "content-length", "set-cookie"}
IDS = {"id", "introduction_id", "listing_id", "match_id", "created_at", "expires_at", "request_id"}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CSRF = re.compile(r'name="csrf_token" value="[^"]*"|"X-CSRF-Token": "[^"]*"')
# The reader's own login shown in the header.
LOGIN = re.compile(r"user\d+@example\.fr")
MOMENT = re.compile(r"(\d{1,2} \S+ \d{4}|\w{3} \d{1,2}, \d{4}),? (à )?\d{1,2}:\d{2}:\d{2}( [AP]M)?")


def _interest(client: TestClient, requester: Side, listing_id: str) -> str:
    created = client.post(
        API,
        headers=requester.headers,
        json={"listing_id": listing_id, "requester_flow_id": str(requester.member.flow_id)},
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _card(client: TestClient, reader: Side, intro_id: str) -> dict[str, Any]:
    read = client.get(f"{API}/{intro_id}", headers=reader.headers)
    assert read.status_code == 200, read.text
    card: dict[str, Any] = read.json()["requester"]
    return card


def _rare_chemist(session: Session, name: str = "Chimie Rare SAS") -> Side:
    """A requester of a trade rare in its région (NACE 20, the territory's members of the Nord
    otherwise make cement and glass)."""
    return side(
        session,
        member(session, name, NORD_ELSEWHERE[2], nace="20.12Z", direction="request", quantity=400),
    )


def _set_nace(client: TestClient, who: Side, nace: str) -> None:
    changed = client.patch(
        f"/api/v1/companies/{who.company_id}", headers=who.headers, json={"nace": nace}
    )
    assert changed.status_code == 200, changed.text


# --- the requester's card: the k-checks against the reader's own data -------------------------


def test_the_owner_cannot_pass_the_sector_check_by_joining_the_requesters_trade(
    client: TestClient, session: Session
) -> None:
    """Two chemicals plants in the Nord's région, one of them the requester: its division is
    hidden (k = 3). The owner declares its own company a chemicals maker and reads the card
    again: the division must stay hidden, or the owner knows the requester is one of two."""
    w = world(client, session)
    rare = _rare_chemist(session)
    member(session, "Chimie Voisine SAS", NORD_ELSEWHERE[1], nace="20.13B")
    intro_id = _interest(client, rare, w.listing_id)
    before = _card(client, w.owner, intro_id)
    assert before["sector_division"] is None

    _set_nace(client, w.owner, "20.12Z")
    after = _card(client, w.owner, intro_id)
    assert after == before, after
    # Nor on its pages: the introduction's and its inbox.
    browser = _browser(client, session, w.owner)
    for page in (f"/introductions/{intro_id}", "/introductions"):
        for lang in ("fr", "en"):
            shown = browser.get(f"{page}?lang={lang}")
            assert shown.status_code == 200 and "chimi" not in shown.text.lower()
    # A third chemicals maker of the région, not the reader: now k legal units besides it.
    member(session, "Chimie Tierce SAS", NORD_ELSEWHERE[0], nace="20.14Z")
    assert _card(client, w.owner, intro_id)["sector_division"] == "20"
    assert "chimi" in browser.get(f"/introductions/{intro_id}?lang=fr").text.lower()
    assert leaks(str(_card(client, w.owner, intro_id)), rare) == []


def _permit_sweep(client: TestClient, reader: Side, intro_id: str) -> list[dict[str, Any]]:
    """The reader declares each of the forty permit combinations on its own site (a site of the
    requester's région) and reads the card after each: the combinations it was shown with."""
    url = f"/api/v1/sites/{reader.member.site_id}"
    shown = []
    for regime, non_hazardous, hazardous, animal in itertools.product(
        ICPE_REGIMES, (False, True), (False, True), (False, True)
    ):
        flags = {
            "icpe_regime": regime,
            "receives_non_hazardous_waste": non_hazardous,
            "receives_hazardous_waste": hazardous,
            "animal_by_products_approved": animal,
        }
        assert client.patch(url, headers=reader.headers, json=flags).status_code == 200
        card = _card(client, reader, intro_id)
        if card["permits"] is not None:
            shown.append(card["permits"])
    return shown


def test_the_owner_cannot_read_the_requesters_permits_by_declaring_them_itself(
    client: TestClient, session: Session
) -> None:
    """The requester and one other cement maker of its région declare the same permits: two
    legal units, below k, so the card shows none. The owner (a cement maker of the région too)
    sweeps the permit combinations over its own site: no combination may make them show, or it
    learns the requester's permits and that one company besides it shares them."""
    w = world(client, session)
    for who in (w.requester.member, w.neighbours[0]):
        url = f"/api/v1/sites/{who.site_id}"
        assert client.patch(url, headers=who.headers, json=PERMITS).status_code == 200
    intro_id = _interest(client, w.requester, w.listing_id)
    assert _card(client, w.owner, intro_id)["permits"] is None
    assert _permit_sweep(client, w.owner, intro_id) == []


def test_a_pools_contributor_cannot_pass_the_card_checks_with_its_own_data(
    client: TestClient, session: Session
) -> None:
    p = pool_world(client, session)
    alpha = p.contributors[0]
    rare = _rare_chemist(session)
    member(session, "Chimie Voisine SAS", NORD_ELSEWHERE[1], nace="20.13B")
    url = f"/api/v1/sites/{rare.member.site_id}"
    assert client.patch(url, headers=rare.headers, json=PERMITS).status_code == 200
    intro_id = _interest(client, rare, p.listing_id)
    before = _card(client, alpha, intro_id)
    assert before["sector_division"] is None and before["permits"] is None
    _set_nace(client, alpha, "20.12Z")
    assert _card(client, alpha, intro_id) == before
    assert _permit_sweep(client, alpha, intro_id) == []


# --- pooled introductions: what one party learns of the others' answers -----------------------


def _same(body: Any) -> Any:
    """An answer with its ids and moments left out: what must not differ between two cases."""
    if isinstance(body, list):
        return [_same(item) for item in body]
    if isinstance(body, dict):
        return {k: _same(v) for k, v in body.items() if k not in IDS}
    return body


def _browser(client: TestClient, session: Session, who: Side) -> TestClient:
    """A browser of its own for `who`, logged in (its session cookie kept)."""
    browser = TestClient(client.app)
    login(browser, _email(session, who))
    return browser


def _normal(html: str) -> str:
    """A page with what differs between any two introductions left out: ids, CSRF tokens and
    moments (French and English medium dates)."""
    html = UUID.sub("<id>", html)
    html = CSRF.sub("<csrf>", html)
    html = LOGIN.sub("<login>", html)
    return MOMENT.sub("<moment>", html)


def _reads(client: TestClient, browser: TestClient, who: Side, intro_id: str) -> list[Any]:
    """Everything `who` can read of an introduction, through the API and the pages, each made
    comparable across introductions."""
    url = f"{API}/{intro_id}"
    answers = [
        client.get(url, headers=who.headers),
        client.get(API, headers=who.headers),
        client.get(f"{url}/messages", headers=who.headers),
        client.get(f"{API}/notices", headers=who.headers),
    ]
    found: list[Any] = [(a.status_code, _headers(a), _same(a.json())) for a in answers]
    # The language asked is kept for the next pages: each page names its own.
    pages = (f"/introductions/{intro_id}?lang=fr", f"/introductions/{intro_id}?lang=en")
    for page in (*pages, "/introductions?lang=fr"):
        shown = browser.get(page)
        assert shown.status_code == 200, shown.text
        found.append((shown.status_code, _headers(shown), _normal(shown.text)))
    return found


def _headers(response: Any) -> dict[str, str]:
    """A response's headers but those that differ between any two answers."""
    return {k: v for k, v in response.headers.items() if k.lower() not in VOLATILE_HEADERS}


def _assert_reads_alike(reads: list[list[Any]]) -> None:
    for other in reads[1:]:
        for a, b in zip(reads[0], other, strict=True):
            assert a == b, "\n".join(difflib.unified_diff(str(a).splitlines(), str(b).splitlines()))


def _answer(client: TestClient, who: Side | Member, intro_id: str, action: str) -> Any:
    answer = client.post(f"{API}/{intro_id}/{action}", headers=who.headers)
    assert answer.status_code == 200, answer.text
    return answer


def test_a_contributor_reads_nothing_of_another_contributors_answer(
    client: TestClient, session: Session
) -> None:
    """Three pools alike; in each, Bravo accepts, declines or stays silent. Alpha, a contributor
    of each, reads its introduction (API, notices, its pages in French and English) alike in the
    three, and its own acceptance is answered alike."""
    pools = [pool_world(client, session, tag=f" {i}") for i in range(3)]
    intro_ids = [express_pool(client, p).json()["id"] for p in pools]
    _answer(client, pools[0].contributors[1], intro_ids[0], "accept")
    _answer(client, pools[1].contributors[1], intro_ids[1], "decline")
    browsers = [_browser(client, session, p.contributors[0]) for p in pools]
    reads = [
        _reads(client, browser, p.contributors[0], intro_id)
        for p, browser, intro_id in zip(pools, browsers, intro_ids, strict=True)
    ]
    _assert_reads_alike(reads)
    accepted = [
        _same(_answer(client, p.contributors[0], intro_id, "accept").json())
        for p, intro_id in zip(pools, intro_ids, strict=True)
    ]
    assert accepted[0] == accepted[1] == accepted[2]
    assert accepted[0]["state"] == "accepted" and accepted[0]["counterpart"] is None
    reads = [
        _reads(client, browser, p.contributors[0], intro_id)
        for p, browser, intro_id in zip(pools, browsers, intro_ids, strict=True)
    ]
    _assert_reads_alike(reads)


def test_the_requester_reads_nothing_of_a_contributors_decline(
    client: TestClient, session: Session
) -> None:
    """Three pools alike: one contributor declines, none answers, all three decline (silent, its
    moment not come). The requester reads the three alike, through the API and its pages, its
    messages and a second interest are answered alike, and no notice comes."""
    pools = [pool_world(client, session, tag=f" {i}") for i in range(3)]
    intro_ids = [express_pool(client, p).json()["id"] for p in pools]
    _answer(client, pools[0].contributors[2], intro_ids[0], "decline")
    for contributor in pools[2].contributors:
        _answer(client, contributor, intro_ids[2], "decline")
    browsers = [_browser(client, session, p.requester) for p in pools]
    reads = [
        _reads(client, browser, p.requester, intro_id)
        for p, browser, intro_id in zip(pools, browsers, intro_ids, strict=True)
    ]
    _assert_reads_alike(reads)
    assert reads[0][0][2]["state"] == "proposed"
    assert reads[0][3][2] == []  # no notice
    said = [
        client.post(f"{API}/{i}/messages", headers=p.requester.headers, json={"body": "Quand ?"})
        for p, i in zip(pools, intro_ids, strict=True)
    ]
    again = [express_pool(client, p) for p in pools]
    for answers in (said, again):
        assert len({(a.status_code, str(_same(a.json()))) for a in answers}) == 1, answers
    assert said[0].status_code == 201 and again[0].status_code == 409


def test_a_revealed_pool_reads_alike_whether_the_others_declined_or_never_answered(
    client: TestClient, session: Session
) -> None:
    """Alpha accepts in two pools alike; in one the two others decline (the reveal follows the
    last answer), in the other they never answer (the reveal comes at the deadline). The
    requester reads one contributor in each, and the same notices: nothing tells it that two
    companies declined, nor who."""
    pools = [pool_world(client, session, tag=f" {i}") for i in range(2)]
    intro_ids = [express_pool(client, p).json()["id"] for p in pools]
    for p, intro_id in zip(pools, intro_ids, strict=True):
        _answer(client, p.contributors[0], intro_id, "accept")
    for contributor in pools[0].contributors[1:]:
        _answer(client, contributor, intro_ids[0], "decline")
    assert service.expire_due(session, utcnow() + timedelta(days=16)) == 0
    session.commit()
    seen = []
    for p, intro_id in zip(pools, intro_ids, strict=True):
        read = client.get(f"{API}/{intro_id}", headers=p.requester.headers).json()
        assert read["state"] == "revealed"
        assert [c["legal_name"] for c in read["contributors"]] == [p.contributors[0].secrets[0]]
        notices = client.get(f"{API}/notices", headers=p.requester.headers).json()
        text = str(read) + str(notices) + _everything(client, p.requester, intro_id)
        for hidden in p.contributors[1:]:
            assert leaks(text, hidden) == []
        # What is left once the one contributor's identity is set aside.
        read["contributors"] = len(read["contributors"])
        seen.append((_same(read), _same(notices)))
    assert seen[0] == seen[1]


# --- the requester's pages: one outcome looks like another --------------------------------------


def _past(session: Session, intro_id: str, **values: Any) -> None:
    session.execute(
        sa.update(Introduction).where(col(Introduction.id) == uuid.UUID(intro_id)).values(**values)
    )
    session.commit()


def test_the_requesters_pages_read_a_decline_as_a_wait_then_as_a_listing_gone(
    client: TestClient, session: Session
) -> None:
    """Three interests of one requester: left pending, declined by its owner, withdrawn by its
    owner. Until the silent moment the three read alike (API, pages in French and English, its
    inbox's row); once it has passed, the decline, the owner's withdrawal and a listing withdrawn
    from the catalogue read alike, as "not available"."""
    w = world(client, session)
    pending, declined, left = (
        _interest(client, w.requester, listing) for listing in (w.listing_id, *w.others)
    )
    _answer(client, w.neighbours[0], declined, "decline")
    _answer(client, w.neighbours[1], left, "withdraw")
    browser = _browser(client, session, w.requester)

    def reads(intro_id: str) -> list[Any]:
        found = _reads(client, browser, w.requester, intro_id)
        found.pop()  # the inbox, which lists all three: its rows are compared below
        return found

    _assert_reads_alike([reads(i) for i in (pending, declined, left)])
    row_of = _inbox_rows(browser)
    assert row_of[pending] == row_of[declined] == row_of[left]
    _assert_forms_alike(browser, (pending, declined, left), ("messages",))

    now = utcnow()
    for intro_id in (declined, left):
        _past(session, intro_id, requester_sees_from=now - timedelta(seconds=1))
    withdrawn = client.post(f"/api/v1/listings/{w.listing_id}/withdraw", headers=w.owner.headers)
    assert withdrawn.status_code == 200, withdrawn.text
    _assert_reads_alike([reads(i) for i in (pending, declined, left)])
    assert reads(pending)[0][2]["state"] == "not_available"
    row_of = _inbox_rows(browser)
    assert row_of[pending] == row_of[declined] == row_of[left]
    _assert_forms_alike(browser, (pending, declined, left), ("messages", "accept", "withdraw"))


def _assert_forms_alike(
    browser: TestClient, intro_ids: tuple[str, ...], forms: tuple[str, ...]
) -> None:
    """The requester posts each form of its pages on each introduction: answered alike (status,
    where it is sent, the page shown)."""
    token = token_in(browser.get("/introductions").text)
    answers = []
    for intro_id in intro_ids:
        found = []
        for form in forms:
            data = {"csrf_token": token, "body": "Quel volume par mois ?"}
            sent = browser.post(
                f"/introductions/{intro_id}/{form}", data=data, follow_redirects=False
            )
            where = UUID.sub("<id>", sent.headers.get("location", ""))
            found.append((sent.status_code, where, _normal(sent.text)))
        answers.append(found)
    assert {status for status, _where, _page in answers[0]} <= {303, 409}
    for other in answers[1:]:
        assert other == answers[0]


def _inbox_rows(browser: TestClient) -> dict[str, str]:
    """The rows of the reader's inbox, by introduction id, each with its ids and tokens left out."""
    page = browser.get("/introductions?lang=fr")
    assert page.status_code == 200
    rows = {}
    for row in re.findall(r"<tr>.*?</tr>", page.text, flags=re.S):
        found = UUID.search(row)
        if found:
            rows[found.group(0)] = _normal(row)
    return rows


# --- a third company, and a member at the console -----------------------------------------------


def test_a_third_companys_pages_tell_no_introduction_from_one_that_never_existed(
    client: TestClient, session: Session
) -> None:
    """A third company tries the pages of introductions it has no part in (pending, declined,
    revealed, pooled) and of one that never existed, reading and posting each form: one answer
    for all, and nothing changes."""
    w = world(client, session)
    p = pool_world(client, session, tag=" P")
    pending, declined, revealed = (
        _interest(client, w.requester, listing) for listing in (w.listing_id, *w.others)
    )
    _answer(client, w.neighbours[0], declined, "decline")
    _answer(client, w.neighbours[1], revealed, "accept")
    pooled = express_pool(client, p).json()["id"]
    browser = _browser(client, session, w.third)
    token = token_in(browser.get("/introductions").text)
    answers: dict[str, list[tuple[int, str]]] = {}
    for intro_id in (pending, declined, revealed, pooled, str(uuid.uuid4())):
        page = f"/introductions/{intro_id}"
        tried = [browser.get(f"{page}?lang=fr"), browser.get(f"{page}?lang=en")]
        for path, data in (
            ("messages", {"body": "Bonjour"}),
            ("accept", {}),
            ("decline", {}),
            ("withdraw", {}),
        ):
            tried.append(
                browser.post(
                    f"{page}/{path}",
                    data={"csrf_token": token, **data},
                    follow_redirects=False,
                )
            )
        answers[intro_id] = [(a.status_code, _normal(a.text)) for a in tried]
        for party in (w.owner, w.requester, *p.contributors, p.requester):
            assert leaks(" ".join(a.text for a in tried), party) == []
    first, *rest = answers.values()
    assert [status for status, _text in first] == [404] * 6
    for answer in rest:
        assert answer == first
    session.expire_all()
    states = {str(i.id): i.state for i in session.exec(select(Introduction)).all()}
    assert states == {
        pending: "proposed",
        declined: "declined",
        revealed: "revealed",
        pooled: "proposed",
    }


def test_a_member_is_refused_every_console_route_alike_and_changes_nothing(
    client: TestClient, session: Session
) -> None:
    """The owner and the requester try the facilitator's console on their own introduction and
    on one that never existed, reading and posting each of its forms: 403 alike, nothing moved,
    no message relayed."""
    w = world(client, session)
    intro_id = _interest(client, w.requester, w.listing_id)
    for who in (w.owner, w.requester):
        browser = _browser(client, session, who)
        token = token_in(browser.get("/introductions").text)
        answers = []
        for target in (intro_id, str(uuid.uuid4())):
            base = f"/console/introductions/{target}"
            tried = [browser.get("/console/introductions"), browser.get(base)]
            for action, data in (
                ("screen", {"note": "ok"}),
                ("propose", {"note": "ok"}),
                ("decline", {}),
                ("withdraw", {}),
                ("messages", {"body": "Bonjour"}),
            ):
                tried.append(
                    browser.post(
                        f"{base}/{action}",
                        data={"csrf_token": token, **data},
                        follow_redirects=False,
                    )
                )
            answers.append([(a.status_code, _normal(a.text)) for a in tried])
        assert [status for status, _text in answers[0]] == [403] * 7
        assert answers[0] == answers[1]
    session.expire_all()
    intro = session.get(Introduction, uuid.UUID(intro_id))
    assert intro is not None and (intro.state, intro.version) == ("proposed", 2)
    assert session.exec(select(IntroductionMessage)).all() == []


# --- the e-mails -------------------------------------------------------------------------------


@pytest.fixture
def relay(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A local SMTP relay (aiosmtpd) keeping every e-mail it is sent."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = SmtpServer(port=port)
    server.start()
    monkeypatch.setattr(get_settings(), "smtp_host", "127.0.0.1")
    monkeypatch.setattr(get_settings(), "smtp_port", port)
    yield server
    server.stop()


def test_a_pools_e_mails_name_no_one_and_tell_no_contributor_the_others_answers(
    client: TestClient, session: Session, relay: SmtpServer
) -> None:
    """Alpha accepts, Bravo declines, Charlie's acceptance reveals the pool. Each e-mail goes to
    one person of one company, names no company, and says the same whoever it goes to; Bravo's
    mail is the proposal only, the requester's the reveal only, Alpha's the two of them: the
    words of an e-mail tell none of the others' answers."""
    p = pool_world(client, session)
    alpha, bravo, charlie = p.contributors
    intro_id = express_pool(client, p).json()["id"]
    _answer(client, alpha, intro_id, "accept")
    _answer(client, bravo, intro_id, "decline")
    _answer(client, charlie, intro_id, "accept")
    parties = (p.requester, *p.contributors)
    received: dict[str, list[tuple[str, str]]] = {}
    for message in relay.inbox.messages:
        assert message["Cc"] is None and message["Bcc"] is None
        to = str(message["To"])
        assert "," not in to and ";" not in to
        text = f"{message['Subject']}\n{message.get_content()}"
        for party in parties:
            assert leaks(text, party) == []
        received.setdefault(to, []).append((str(message["Subject"]), message.get_content()))
    kinds = {}
    for party in parties:
        (mails,) = [received[address] for address in received if address == _email(session, party)]
        kinds[party.secrets[0]] = [subject for subject, _body in mails]
        for _subject, body in mails:
            assert body.count(f"/introductions/{intro_id}") == 2  # the link, French then English
    # One text per kind of notice, whoever reads it.
    assert len({mail for mails in received.values() for mail in mails}) == 2
    proposed, revealed = SUBJECTS["introduction.proposed"][0], SUBJECTS["introduction.revealed"][0]
    assert kinds == {
        p.requester.secrets[0]: [revealed],
        alpha.secrets[0]: [proposed, revealed],
        bravo.secrets[0]: [proposed],
        charlie.secrets[0]: [proposed],  # it reads the reveal in its own answer
    }


# --- a pool at its deadline, before the hourly beat ---------------------------------------------


def test_a_pool_every_contributor_declined_reads_at_its_deadline_as_one_nobody_answered(
    client: TestClient, session: Session
) -> None:
    """Two pools alike past their deadline, the hourly beat not run yet: every contributor
    declined one (its silent moment drawn after the deadline), nobody answered the other. The
    requester must read them alike (a decline is silent), in the API and its pages, and neither
    may still be answered by a contributor; once the beat has run, alike still."""
    pools = [pool_world(client, session, tag=f" {i}") for i in range(2)]
    declined, unanswered = (express_pool(client, p).json()["id"] for p in pools)
    for contributor in pools[0].contributors:
        _answer(client, contributor, declined, "decline")
    now = utcnow()
    _past(session, declined, requester_sees_from=now + timedelta(hours=5))
    for intro_id in (declined, unanswered):
        _past(session, intro_id, expires_at=now - timedelta(seconds=1))
    browsers = [_browser(client, session, p.requester) for p in pools]

    def reads() -> list[list[Any]]:
        return [
            _reads(client, browser, p.requester, intro_id)
            for p, browser, intro_id in zip(pools, browsers, (declined, unanswered), strict=True)
        ]

    _assert_reads_alike(reads())
    assert reads()[0][0][2]["state"] == "expired"
    # A contributor of the unanswered pool can no longer answer it: past its deadline, expired.
    late = client.post(f"{API}/{unanswered}/accept", headers=pools[1].contributors[0].headers)
    assert late.status_code == 409 and "expired" in late.json()["detail"], late.text
    withdrawn = [
        client.post(f"{API}/{i}/withdraw", headers=p.requester.headers)
        for p, i in zip(pools, (declined, unanswered), strict=True)
    ]
    assert [w.status_code for w in withdrawn] == [409, 409]
    assert _same(withdrawn[0].json()) == _same(withdrawn[1].json())
    service.expire_due(session)
    session.commit()
    _assert_reads_alike(reads())


def test_past_its_deadline_a_silent_contributor_reads_nothing_of_another_ones_acceptance(
    client: TestClient, session: Session
) -> None:
    """Two pools past their deadline, the beat not run yet: Alpha accepted one, nobody answered
    the other. Charlie, silent in both, reads both alike ("expired", as after the beat), and its
    late answer is refused alike: it cannot tell that another contributor accepted."""
    pools = [pool_world(client, session, tag=f" {i}") for i in range(2)]
    intro_ids = [express_pool(client, p).json()["id"] for p in pools]
    _answer(client, pools[0].contributors[0], intro_ids[0], "accept")
    for intro_id in intro_ids:
        _past(session, intro_id, expires_at=utcnow() - timedelta(seconds=1))
    charlies = [p.contributors[2] for p in pools]
    browsers = [_browser(client, session, c) for c in charlies]
    reads = [
        _reads(client, browser, charlie, intro_id)
        for charlie, browser, intro_id in zip(charlies, browsers, intro_ids, strict=True)
    ]
    _assert_reads_alike(reads)
    assert reads[0][0][2]["state"] == "expired"
    for action in ("accept", "decline"):
        late = [
            client.post(f"{API}/{intro_id}/{action}", headers=charlie.headers)
            for charlie, intro_id in zip(charlies, intro_ids, strict=True)
        ]
        assert [a.status_code for a in late] == [409, 409], [a.text for a in late]
        assert _same(late[0].json()) == _same(late[1].json())
    # The beat reveals the accepting contributor of the one, expires the other: Charlie reads
    # "expired" in both still.
    service.expire_due(session)
    session.commit()
    reads = [
        _reads(client, browser, charlie, intro_id)
        for charlie, browser, intro_id in zip(charlies, browsers, intro_ids, strict=True)
    ]
    _assert_reads_alike(reads)
    assert (
        client.get(f"{API}/{intro_ids[0]}", headers=pools[0].requester.headers).json()["state"]
        == "revealed"
    )
