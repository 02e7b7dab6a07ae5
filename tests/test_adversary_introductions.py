"""Red team: the introductions' reads. The attacker is a competing member company with several
accounts (and companies it controls) that writes its own data and reads back, many times: every
answer it gets before a reveal is compared with the answer to a case it must not tell apart.

Each test is an attack; those that worked were fixed and stay as tests of the defence:
- relayed messages smuggled their author out past the scrubber: the name spelt letter by letter
  with its words run together ("C i m e n t e r i e H a u t p o n t"), an e-mail spelt out
  ("c 1 2 1 @ e x a m p l e . f r"), a phone with letters for digits ("O3 28 OO OO OO",
  "06 l2 …"), a SIREN said in words with its hundreds ("sept cent trente-deux, …"): each is
  now refused (privacy/names.py, privacy/scrubbing.py, privacy/numbers.py);
- a decline whose silence outlasted the deadline read "proposed" past the deadline where an
  unanswered interest reads "expired" (now an introduction past its deadline reads expired to
  everyone, and a change on it finds it expired, whether the hourly beat ran or not);
- the owner could withdraw its listing (the requester then reads "not available", and can no
  longer withdraw) and accept afterwards: the requester was revealed to it (now refused);
- the owner's card of the requester measured its distance band to the requester's département,
  so a listing or two of the owner's told a requester of the Nord from one of the Pas-de-Calais
  though neither publishes its département (now to the requester's région's point);
- the card showed the requester's sector division however few companies share it: the only
  chemicals plant of a région is named by "NACE 20" and the région (now shown from k legal
  units of the division in the région).

Not defended, by the product's own terms: a requester that reads "not available" while the
public catalogue still shows the listing knows it was declined (or that the owner withdrew the
introduction); the random delay hides when, not whether.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from core.models import utcnow
from core.settings import get_settings
from marketplace.introductions import service
from marketplace.introductions.models import Introduction, OutboxMessage
from privacy.models import AuditEntry
from tests.introduction_world import Side, World, express, leaks, side, world
from tests.members import NORD_ELSEWHERE, PAS_DE_CALAIS, member

API = "/api/v1/introductions"
# What differs between any two answers whatever they are about.
VOLATILE_HEADERS = {"date", "x-request-id", "content-length"}
IDS = ("id", "listing_id", "created_at", "expires_at", "request_id", "match_id")


def _same(body: Any) -> Any:
    """An answer with its ids and moments left out: what must not differ between two cases."""
    if isinstance(body, list):
        return [_same(item) for item in body]
    if isinstance(body, dict):
        return {k: _same(v) for k, v in body.items() if k not in IDS}
    return body


def _headers(response: Any) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower() not in VOLATILE_HEADERS}


def _assert_alike(a: Any, b: Any) -> None:
    assert a.status_code == b.status_code, (a.text, b.text)
    assert _same(a.json()) == _same(b.json()), (a.text, b.text)
    assert _headers(a) == _headers(b)


def _past(session: Session, intro_id: str, **values: Any) -> None:
    session.execute(
        sa.update(Introduction).where(col(Introduction.id) == uuid.UUID(intro_id)).values(**values)
    )
    session.commit()


def _requester_reads(client: TestClient, w: World, intro_id: str) -> list[Any]:
    url = f"{API}/{intro_id}"
    headers = w.requester.headers
    return [
        client.get(url, headers=headers),
        client.get(f"{url}/messages", headers=headers),
        client.post(f"{url}/accept", headers=headers),
        client.post(f"{url}/decline", headers=headers),
        client.post(f"{url}/messages", headers=headers, json={"body": "Quel volume par mois ?"}),
    ]


# --- identities before the reveal --------------------------------------------------------------


def test_no_answer_header_log_line_or_notice_names_the_other_side_before_the_reveal(
    client: TestClient, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    w = world(client, session)
    created = express(client, w)
    intro_id = created.json()["id"]
    url = f"{API}/{intro_id}"
    seen: list[tuple[Side, Any]] = [(w.owner, created)]
    for reader, other in ((w.requester, w.owner), (w.owner, w.requester)):
        said = client.post(
            f"{url}/messages", headers=reader.headers, json={"body": "Quelle régularité ?"}
        )
        seen.append((other, said))
        for path in ("", "/notices", f"/{intro_id}", f"/{intro_id}/messages"):
            seen.append((other, client.get(f"{API}{path}", headers=reader.headers)))
            seen.append((other, client.get(f"{API}{path}?state=proposed", headers=reader.headers)))
    for action in ("accept", "withdraw", "screen", "propose"):
        seen.append((w.owner, client.post(f"{url}/{action}", headers=w.third.headers, json={})))
    for of, response in seen:
        assert response.status_code < 500, response.text
        assert leaks(response.text, of) == [], response.text
        assert leaks(str(response.headers), of) == []
    session.expire_all()
    for row in session.exec(select(OutboxMessage)).all():
        assert leaks(str(row.payload), w.owner) == leaks(str(row.payload), w.requester) == []
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert leaks(logged, w.owner) == leaks(logged, w.requester) == []


SMUGGLED = [
    "{name}",
    "{spaced}",
    "{dashed}",
    "nous sommes la {spaced} , à bientôt",
    "écrivez à {email}",
    "écrivez à {email_spoken}",
    "écrivez à {email_spelt}",
    "notre SIRET : {siret_spaced}",
    "notre SIREN {siren}",
    "notre SIREN : {siren_words}",
    "appelez le 03 28 00 00 00",
    "appelez le O3 28 OO OO OO ou le 06 l2 34 56 78",
    "appelez le zéro trois vingt-huit zéro zéro zéro zéro zéro zéro",
    "voir www.{domain}.fr ou {domain} point fr",
    "nous sommes au 51.0100, 2.3000",
]


_UNITS_FR = str.split(
    "zéro un deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze "
    "seize dix-sept dix-huit dix-neuf"
)
_TENS_FR = str.split(
    "_ dix vingt trente quarante cinquante soixante soixante quatre-vingt quatre-vingt"
)


def _in_words(number: int) -> str:
    """0 to 999 as French words ("sept cent trente-deux"), as a message would spell a SIREN."""
    hundreds, rest = divmod(number, 100)
    words = [] if hundreds == 0 else ["cent"] if hundreds == 1 else [_UNITS_FR[hundreds], "cent"]
    if rest or not words:
        if rest < 20:
            words.append(_UNITS_FR[rest])
        else:
            tens, unit = divmod(rest, 10)
            if tens in (7, 9):
                unit += 10
            words.append(f"{_TENS_FR[tens]}-{_UNITS_FR[unit]}" if unit else _TENS_FR[tens])
    return " ".join(words)


def _group_in_words(digits: str) -> str:
    """A group of a written number, its leading zeros said one by one ("zéro zéro cinq")."""
    rest = digits.lstrip("0")
    zeros = ["zéro"] * (len(digits) - len(rest))
    return " ".join(zeros + ([_in_words(int(rest))] if rest else []))


@pytest.mark.parametrize("author", ["requester", "owner"])
def test_a_relayed_message_cannot_smuggle_its_author_out(
    client: TestClient, session: Session, author: str
) -> None:
    w = world(client, session)
    intro_id = express(client, w).json()["id"]
    me: Side = getattr(w, author)
    other = w.owner if author == "requester" else w.requester
    name, siret = me.secrets[0], me.secrets[1]
    word = name.split()[1]  # the distinctive word: "Hautpont", "Wattrelos"
    email = next(s for s in me.secrets if "@" in s)
    url = f"{API}/{intro_id}/messages"
    passed = []
    for body in SMUGGLED:
        text = body.format(
            name=name,
            spaced=" ".join("".join(name.split()[:2])),
            dashed="-".join(word),
            email=email,
            email_spoken=email.replace("@", " arobase ").replace(".", " point "),
            email_spelt=" ".join(email),
            siret_spaced=" ".join(siret),
            siren=siret[:9],
            siren_words=", ".join(_group_in_words(siret[i : i + 3]) for i in (0, 3, 6)),
            domain=word.lower(),
        )
        refused = client.post(url, headers=me.headers, json={"body": text})
        if refused.status_code != 422 or refused.json()["field"] != "body":
            passed.append((text, refused.status_code))
    assert passed == []
    assert client.get(url, headers=other.headers).json() == []


# --- the silence towards the requester ----------------------------------------------------------


def test_a_decline_whose_silence_outlasts_the_deadline_reads_as_an_unanswered_interest(
    client: TestClient, session: Session
) -> None:
    w = world(client, session)
    declined = express(client, w).json()["id"]
    unanswered = express(client, w, w.others[0]).json()["id"]
    assert client.post(f"{API}/{declined}/decline", headers=w.owner.headers).status_code == 200
    now = utcnow()
    # The random moment fell after the deadline; the deadline has just passed, and the hourly
    # beat has not run yet.
    _past(session, declined, requester_sees_from=now + timedelta(hours=5))
    for intro_id in (declined, unanswered):
        _past(session, intro_id, expires_at=now - timedelta(seconds=1))
    for a, b in zip(
        _requester_reads(client, w, declined), _requester_reads(client, w, unanswered), strict=True
    ):
        _assert_alike(a, b)
    state = client.get(f"{API}/{declined}", headers=w.requester.headers).json()["state"]
    assert state == "expired"
    # The owner cannot accept it past its deadline either, beat or not.
    late = client.post(f"{API}/{unanswered}/accept", headers=w.neighbours[0].headers)
    assert late.status_code == 409 and "expired" in late.json()["detail"], late.text
    assert (
        client.get(f"{API}/{unanswered}", headers=w.requester.headers).json()["counterpart"] is None
    )
    # Once the beat ran, and once the silent moment passed, the two still read alike.
    assert service.expire_due(session) == 1
    session.commit()
    _past(
        session,
        declined,
        expires_at=now - timedelta(hours=6),
        requester_sees_from=now - timedelta(hours=1),
    )
    for a, b in zip(
        _requester_reads(client, w, declined), _requester_reads(client, w, unanswered), strict=True
    ):
        _assert_alike(a, b)
    again = [express(client, w, listing) for listing in (w.listing_id, w.others[0])]
    assert [r.status_code for r in again] == [201, 201], [r.text for r in again]


def test_a_decline_within_the_deadline_stays_silent_in_every_read_and_notice(
    client: TestClient, session: Session
) -> None:
    w = world(client, session)
    declined = express(client, w).json()["id"]
    pending = express(client, w, w.others[0]).json()["id"]
    left = express(client, w, w.others[1]).json()["id"]
    notices_before = client.get(f"{API}/notices", headers=w.requester.headers).json()
    assert client.post(f"{API}/{declined}/decline", headers=w.owner.headers).status_code == 200
    withdrawn = client.post(f"{API}/{left}/withdraw", headers=w.neighbours[1].headers)
    assert withdrawn.status_code == 200
    reads = [_requester_reads(client, w, intro_id) for intro_id in (pending, declined, left)]
    for silent in reads[1:]:
        for a, b in zip(silent, reads[0], strict=True):
            _assert_alike(a, b)
    listed = client.get(API, headers=w.requester.headers).json()
    assert len(listed) == 3 and all(_same(i) == _same(listed[0]) for i in listed)
    for state in ("proposed", "declined", "withdrawn", "not_available"):
        found = client.get(API, headers=w.requester.headers, params={"state": state}).json()
        assert len(found) in (0, 3), (state, found)
    assert client.get(f"{API}/notices", headers=w.requester.headers).json() == notices_before
    again = [express(client, w, listing) for listing in (w.listing_id, *w.others)]
    for answer in again:
        assert answer.status_code == 409
        _assert_alike(answer, again[0])


def test_a_member_cannot_express_interest_on_another_companys_behalf(
    client: TestClient, session: Session
) -> None:
    w = world(client, session)
    created = client.post(
        API,
        headers=w.third.headers,
        json={"listing_id": w.listing_id, "requester_company_id": str(w.requester.company_id)},
    )
    assert created.status_code == 201, created.text
    assert created.json()["side"] == "requester"
    assert client.get(API, headers=w.requester.headers).json() == []
    session.expire_all()
    intro = session.get(Introduction, uuid.UUID(created.json()["id"]))
    assert intro is not None and intro.requester_company_id == w.third.company_id


def test_not_available_is_one_answer_for_gone_never_existed_brokered_and_declined(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "introduction_silent_delay_hours", 0.0)
    w = world(client, session)
    declined = express(client, w).json()["id"]
    assert client.post(f"{API}/{declined}/decline", headers=w.owner.headers).status_code == 200
    gone = w.others[0]
    assert (
        client.post(
            f"/api/v1/listings/{gone}/withdraw", headers=w.neighbours[0].headers
        ).status_code
        == 200
    )
    # A listing of the third company, alone in its cell: brokered only.
    brokered = client.post(
        "/api/v1/listings",
        headers=w.third.headers,
        json={"flow_id": str(w.third.member.flow_id)},
    ).json()["listing"]["id"]
    client.post(f"/api/v1/listings/{brokered}/publish", headers=w.third.headers)
    answers = [
        express(client, w, listing_id)
        for listing_id in (w.listing_id, gone, brokered, str(uuid.uuid4()))
    ]
    for answer in answers:
        assert answer.status_code == 404, answer.text
        _assert_alike(answer, answers[0])
    # None of them cost an interest of the day.
    count = session.exec(
        select(sa.func.count())
        .select_from(Introduction)
        .where(Introduction.requester_company_id == w.requester.company_id)
    ).one()
    assert count == 1


def test_the_daily_limit_answers_alike_whatever_the_listing(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "introduction_interests_per_day", 1)
    w = world(client, session)
    declined = express(client, w).json()["id"]
    client.post(f"{API}/{declined}/decline", headers=w.owner.headers)
    answers = [
        express(client, w, listing_id)
        for listing_id in (w.listing_id, w.others[0], str(uuid.uuid4()))
    ]
    for answer in answers:
        assert answer.status_code == 429, answer.text
        _assert_alike(answer, answers[0])


# --- foreign ids --------------------------------------------------------------------------------


def test_a_third_company_reads_every_state_as_a_missing_id(
    client: TestClient, session: Session
) -> None:
    w = world(client, session)
    ids = {
        state: express(client, w, listing).json()["id"]
        for state, listing in (
            ("proposed", w.listing_id),
            ("declined", w.others[0]),
            ("withdrawn", w.others[1]),
        )
    }
    client.post(f"{API}/{ids['declined']}/decline", headers=w.owner.headers)
    client.post(f"{API}/{ids['withdrawn']}/withdraw", headers=w.requester.headers)
    ids["never"] = str(uuid.uuid4())
    reference: list[Any] | None = None
    for intro_id in ids.values():
        url = f"{API}/{intro_id}"
        answers = [
            client.get(url, headers=w.third.headers),
            client.get(f"{url}/messages", headers=w.third.headers),
            client.post(f"{url}/messages", headers=w.third.headers, json={"body": "Bonjour"}),
            *[client.post(f"{url}/{a}", headers=w.third.headers) for a in ("accept", "decline")],
            client.post(f"{url}/withdraw", headers=w.third.headers),
            *[
                client.post(f"{url}/{a}", headers=w.requester.headers, json={})
                for a in ("screen", "propose")
            ],
        ]
        assert [a.status_code for a in answers] == [404] * 6 + [403] * 2
        if reference is None:
            reference = answers
        for a, b in zip(answers, reference, strict=True):
            _assert_alike(a, b)
    listed = client.get(API, headers=w.third.headers)
    assert listed.json() == []
    assert client.get(f"{API}/notices", headers=w.third.headers).json() == []


def test_a_flow_of_another_company_is_a_missing_flow(client: TestClient, session: Session) -> None:
    w = world(client, session)
    answers = [
        client.post(
            API,
            headers=w.requester.headers,
            json={"listing_id": w.listing_id, "requester_flow_id": str(flow_id)},
        )
        for flow_id in (w.third.member.flow_id, uuid.uuid4())
    ]
    assert answers[0].status_code == 404
    _assert_alike(*answers)


# --- the owner's card of the requester ----------------------------------------------------------


def test_the_requester_card_does_not_tell_its_departement(
    client: TestClient, session: Session
) -> None:
    """Two requesters alike but for their département (Nord, Pas-de-Calais, one région), neither
    with anything published: the owner's cards of them are one card."""
    w = world(client, session)
    cards = []
    for i, position in enumerate((NORD_ELSEWHERE[1], PAS_DE_CALAIS)):
        requester = side(
            session,
            member(
                session,
                f"Tuilerie Demandeuse {i} SARL",
                position,
                direction="request",
                quantity=400,
            ),
        )
        created = client.post(
            API,
            headers=requester.headers,
            json={
                "listing_id": w.listing_id,
                "requester_flow_id": str(requester.member.flow_id),
            },
        )
        assert created.status_code == 201, created.text
        owned = client.get(f"{API}/{created.json()['id']}", headers=w.owner.headers).json()
        cards.append(owned["requester"])
    assert cards[0] == cards[1]
    assert cards[0]["distance_band"] is not None


def test_the_requester_card_does_not_name_a_trade_rare_in_its_region(
    client: TestClient, session: Session
) -> None:
    """A chemicals plant, the only one of its division (NACE 20) among the territory's members
    of its région: its division and the région would name it to anyone reading the public
    registers. The card withholds the division; the cement makers' (four of them) it shows."""
    w = world(client, session)
    rare = side(
        session,
        member(
            session,
            "Chimie Rare SAS",
            NORD_ELSEWHERE[2],
            nace="20.12Z",
            direction="request",
            quantity=400,
        ),
    )
    cards = []
    for requester in (rare, w.requester):
        created = client.post(
            API,
            headers=requester.headers,
            json={
                "listing_id": w.listing_id,
                "requester_flow_id": str(requester.member.flow_id),
            },
        )
        assert created.status_code == 201, created.text
        owned = client.get(f"{API}/{created.json()['id']}", headers=w.owner.headers).json()
        cards.append(owned["requester"])
    assert cards[0]["sector_division"] is None and cards[0]["sector_label"] is None
    assert cards[1]["sector_division"] == "23"
    assert cards[0]["distance_band"] == cards[1]["distance_band"]


# --- the reveal ---------------------------------------------------------------------------------


def test_withdrawing_the_listing_then_accepting_reveals_no_one(
    client: TestClient, session: Session
) -> None:
    w = world(client, session)
    intro_id = express(client, w).json()["id"]
    assert (
        client.post(
            f"/api/v1/listings/{w.listing_id}/withdraw", headers=w.owner.headers
        ).status_code
        == 200
    )
    seen = client.get(f"{API}/{intro_id}", headers=w.requester.headers).json()
    assert seen["state"] == "not_available"
    # The requester is told it is over, and can no longer withdraw: nor may the owner reveal it.
    accepted = client.post(f"{API}/{intro_id}/accept", headers=w.owner.headers)
    assert accepted.status_code == 409, accepted.text
    assert leaks(accepted.text, w.requester) == []
    assert client.get(f"{API}/{intro_id}", headers=w.owner.headers).json()["counterpart"] is None
    session.expire_all()
    intro = session.get(Introduction, uuid.UUID(intro_id))
    assert intro is not None and intro.revealed_at is None


def test_the_reveal_happens_once_to_both_sides_and_never_after_an_end(
    client: TestClient, session: Session
) -> None:
    w = world(client, session)
    revealed = express(client, w).json()["id"]
    withdrawn = express(client, w, w.others[0]).json()["id"]
    expired = express(client, w, w.others[1]).json()["id"]
    client.post(f"{API}/{withdrawn}/withdraw", headers=w.requester.headers)
    _past(session, expired, expires_at=utcnow() - timedelta(minutes=1))
    service.expire_due(session)
    session.commit()
    first = client.post(f"{API}/{revealed}/accept", headers=w.owner.headers)
    assert first.json()["counterpart"]["legal_name"] == w.requester.secrets[0]
    second = client.post(f"{API}/{revealed}/accept", headers=w.owner.headers)
    assert second.status_code in (403, 409) and leaks(second.text, w.requester) == []
    mine = client.get(f"{API}/{revealed}", headers=w.requester.headers).json()
    assert mine["counterpart"]["legal_name"] == w.owner.secrets[0]
    for intro_id in (withdrawn, expired):
        owner_neighbour = w.neighbours[0] if intro_id == withdrawn else w.neighbours[1]
        late = client.post(f"{API}/{intro_id}/accept", headers=owner_neighbour.headers)
        assert late.status_code == 409, late.text
        for headers in (owner_neighbour.headers, w.requester.headers):
            assert client.get(f"{API}/{intro_id}", headers=headers).json()["counterpart"] is None
    for response in (
        client.get(API, headers=w.third.headers),
        client.get(f"{API}/notices", headers=w.third.headers),
        client.get(f"{API}/{revealed}", headers=w.third.headers),
    ):
        assert leaks(response.text, w.owner) == leaks(response.text, w.requester) == []
    session.expire_all()
    reveals = session.exec(
        select(AuditEntry).where(AuditEntry.action == "introduction.reveal")
    ).all()
    assert len(reveals) == 1


def test_the_owner_stops_reading_the_requester_card_once_the_introduction_is_closed(
    client: TestClient, session: Session
) -> None:
    """A card computed live for as long as the owner can read the introduction would let it
    watch the requester's later changes (sector, permits, sites) and combine the cards: the card
    is shown while the introduction is open, and no longer once it is declined, withdrawn by the
    requester or expired."""
    w = world(client, session)
    declined = express(client, w).json()["id"]
    left = express(client, w, w.others[0]).json()["id"]
    lapsed = express(client, w, w.others[1]).json()["id"]
    owners = {
        declined: w.owner.headers,
        left: w.neighbours[0].headers,
        lapsed: w.neighbours[1].headers,
    }
    for intro_id, headers in owners.items():
        card = client.get(f"{API}/{intro_id}", headers=headers).json()["requester"]
        assert card is not None and card["sector_division"] == "23"
    assert client.post(f"{API}/{declined}/decline", headers=w.owner.headers).status_code == 200
    assert client.post(f"{API}/{left}/withdraw", headers=w.requester.headers).status_code == 200
    assert service.expire_due(session, utcnow() + timedelta(days=16)) >= 1
    session.commit()
    for intro_id, headers in owners.items():
        read = client.get(f"{API}/{intro_id}", headers=headers).json()
        assert read["state"] in ("declined", "withdrawn", "expired"), read
        assert read["requester"] is None, read
        (listed,) = [i for i in client.get(API, headers=headers).json() if i["id"] == intro_id]
        assert listed["requester"] is None


def test_the_card_hides_a_sector_rare_where_the_requesters_own_listing_is_published(
    client: TestClient, session: Session
) -> None:
    """The card's quantity class and région lead the owner to the requester's own public
    listing, whose location is finer than the région: a sector shared by k companies in the
    région but not in that listing's location would name the requester there."""
    from marketplace.catalogue.models import Listing, ListingStatus
    from tests.members import CELL, publication_run, publish

    owner = member(session, "Cimenterie Hautpont SAS", CELL[0])
    neighbours = [member(session, f"Verrerie Voisine {i} SA", CELL[i + 1]) for i in range(2)]
    listing_id = publish(client, owner)
    for neighbour in neighbours:
        publish(client, neighbour)
    lat, lon = PAS_DE_CALAIS
    requester = member(session, "Briqueterie Arras SARL", PAS_DE_CALAIS, direction="request")
    member(session, "Fonderie Arras SAS", (lat + 0.01, lon + 0.01))  # division 23 too
    for i in range(3):  # the département's other companies: dairies
        member(session, f"Laiterie Arras {i} SAS", (lat - 0.01 * i, lon + 0.02), nace="10.51A")
    publication_run(session)
    asked = client.post(
        API,
        headers=requester.headers,
        json={"listing_id": listing_id, "requester_flow_id": str(requester.flow_id)},
    )
    assert asked.status_code == 201, asked.text

    def division() -> str | None:
        (read,) = client.get(API, headers=owner.headers).json()
        return read["requester"]["sector_division"]

    # Four companies of division 23 in the région, three besides the owner: shown.
    assert division() == "23"
    # Its own request published at its département (as the publication run does once k
    # companies of the département publish alike; placed here directly).
    own = session.get(Listing, uuid.UUID(publish(client, requester)))
    assert own is not None
    own.status, own.brokered_only = ListingStatus.PUBLISHED, False
    own.location_level, own.location_key = "departement", "62"
    session.add(own)
    session.commit()
    # Where its listing is published, only two companies of division 23: hidden.
    assert division() is None
