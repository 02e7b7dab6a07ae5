"""Saved searches and alerts: a listing that fits notifies in the app and by e-mail through a real
local SMTP server (aiosmtpd), with the listing's public fields only, once per change."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from celery.exceptions import Retry
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, col, select

from core.errors import Forbidden, Invalid, NotFound
from core.models import utcnow
from core.settings import get_settings
from core.worker import celery_app
from marketplace.accounts.models import Role, User
from marketplace.accounts.service import actor_of
from marketplace.alerts import service as alerts
from marketplace.alerts.models import Notification, SavedSearch
from marketplace.alerts.tasks import RESEND_WITHIN, match_listings, resend_unsent
from marketplace.catalogue import explanations
from marketplace.catalogue import service as catalogue
from marketplace.catalogue.models import Listing
from marketplace.catalogue.pools import PoolCreate, create_pool
from marketplace.companies.models import Company, Site
from marketplace.flows.models import Flow
from marketplace.flows.schemas import FlowUpdate
from marketplace.flows.service import update_flow
from privacy.generalisation import FAMILIES, LocationLevel
from tests.conftest import TEST_BROKER_URL, TEST_DATABASE_URL
from tests.factories import (
    bearer,
    create_company_row,
    create_flow_row,
    create_site_row,
    create_user_row,
    make_siret,
)

MINERALS_FR = FAMILIES["mineraux"].label_fr
MINERALS_EN = FAMILIES["mineraux"].label_en

# Three sites this close share their public cell: three companies there make a listing public.
NEAR = [(51.0100, 2.3000), (51.0120, 2.3050), (51.0080, 2.2950), (51.0110, 2.2980)]
CHAPTER_10 = {"kind": "material", "low_chapter": "10"}


# --- a real SMTP server ------------------------------------------------------------------------


class Inbox:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@dataclass
class SmtpServer:
    port: int
    inbox: Inbox = field(default_factory=Inbox)
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    server = SmtpServer(port=_free_port())
    server.start()
    monkeypatch.setattr(get_settings(), "smtp_host", "127.0.0.1")
    monkeypatch.setattr(get_settings(), "smtp_port", server.port)
    yield server
    server.stop()


# --- a small territory -------------------------------------------------------------------------


@dataclass
class Member:
    company: Company
    siret: str
    legal_name: str
    user: User
    site: Site
    headers: dict[str, str]


def _member(session: Session, legal_name: str, position: int = 0) -> Member:
    siret = make_siret()
    company = create_company_row(session, legal_name, siret=siret)
    user = create_user_row(session, Role.COMPANY_ADMIN, company)
    latitude, longitude = NEAR[position % len(NEAR)]
    site = create_site_row(session, company, f"Usine {legal_name}", latitude, longitude)
    return Member(company, siret, legal_name, user, site, bearer(session, user))


def _publish(session: Session, member: Member, label: str, low_code: str = "10 01 02") -> Listing:
    """Lists and publishes a new flow of `member`; the commit runs the alert task (synchronous
    in tests)."""
    flow = create_flow_row(session, member.site, label=label, low_code=low_code)
    actor = actor_of(member.user)
    listing = catalogue.create_listing(session, actor, flow.id)
    catalogue.publish(session, actor, listing)
    session.commit()
    return listing


def _run(session: Session) -> None:
    """The publication run places the waiting listings; the commit runs the alert task."""
    catalogue.run_publication(session)
    session.commit()


def _notifications(session: Session, user: User) -> list[Notification]:
    session.expire_all()
    query = select(Notification).where(Notification.user_id == user.id)
    return list(session.exec(query.order_by(col(Notification.created_at))).all())


def _count(session: Session) -> int:
    session.expire_all()
    return int(session.exec(select(func.count()).select_from(Notification)).one())


def _body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def _secrets_of(member: Member) -> list[str]:
    """What the e-mail of another company's listing must never carry."""
    return [member.legal_name, member.siret, member.siret[:9], member.user.email, "Dunkerque"]


# --- the tests ---------------------------------------------------------------------------------


def test_an_english_speaking_member_is_alerted_in_english(
    session: Session, smtp: SmtpServer
) -> None:
    buyer = _member(session, "Briqueterie Beta SAS", 3)
    buyer.user.locale = "en"
    session.add(buyer.user)
    alerts.save_search(session, actor_of(buyer.user), "Northern ashes", dict(CHAPTER_10))
    session.commit()
    sellers = [_member(session, f"Centrale {n} SAS", i) for i, n in enumerate(("A", "B", "C"))]
    listings = [_publish(session, m, "Cendres volantes sèches") for m in sellers]
    _run(session)

    mails = smtp.inbox.to(buyer.user.email)
    assert len(mails) == len(listings)
    mail = mails[0]
    assert mail["Subject"] == "New listing for your search “Northern ashes”"
    text = _body(mail)
    assert text.splitlines()[0] == "Hello,"
    assert f"Offer · {MINERALS_EN} — " in text
    assert "Quantity: 1,000 – 10,000 t/yr" in text and "Regularity: continuous" in text
    assert "Location: Nord (59), Hauts-de-France" in text
    # Nothing French is left but the listing's own title.
    for french in ("Bonjour", "Quantité", "Minéraux", "Offre", "t/an", "révélée"):
        assert french not in text, french
    for seller in sellers:
        for secret in _secrets_of(seller):
            assert secret not in mail.as_string(), secret


def test_a_fitting_listing_notifies_in_app_and_by_mail_with_public_fields_only(
    client: TestClient, session: Session, smtp: SmtpServer
) -> None:
    buyer = _member(session, "Briqueterie Beta SAS", 3)
    saved = client.post(
        "/api/v1/saved-searches",
        headers=buyer.headers,
        json={"name": "Cendres du Nord", "filters": CHAPTER_10},
    )
    assert saved.status_code == 201, saved.text
    assert saved.json()["filters"] == CHAPTER_10 and saved.json()["email_alerts"] is True

    alpha = _member(session, "Centrale Alpha SAS", 0)
    alerts.save_search(session, actor_of(alpha.user), "Nos cendres aussi", dict(CHAPTER_10))
    session.commit()
    others = [
        _member(session, f"Cimenterie {n} SA", i) for i, n in enumerate(("Gamma", "Delta"), 1)
    ]

    first = _publish(session, alpha, "Cendres volantes sèches, lot hebdomadaire")
    listings = [first] + [
        _publish(session, m, f"Cendres de chaudière, lot {i}") for i, m in enumerate(others)
    ]
    # Waiting for the publication run: nobody is alerted about them yet.
    assert _count(session) == 0 and smtp.inbox.messages == []
    _run(session)

    mine = _notifications(session, buyer.user)
    assert {n.listing_id for n in mine} == {x.id for x in listings}
    # The owner's company is never alerted about its own listing.
    alpha_alerts = _notifications(session, alpha.user)
    assert {n.listing_id for n in alpha_alerts} == {x.id for x in listings[1:]}

    mails = smtp.inbox.to(buyer.user.email)
    assert len(mails) == 3 and len(smtp.inbox.to(alpha.user.email)) == 2
    assert all(n.emailed_at is not None for n in mine + alpha_alerts)
    about_alpha = [m for m in mails if str(first.id) in _body(m)]
    assert len(about_alpha) == 1
    mail = about_alpha[0]
    assert mail["Subject"] == "Nouvelle annonce pour votre recherche « Cendres du Nord »"
    assert mail["From"] == get_settings().mail_from
    text = _body(mail)
    assert "Cendres volantes sèches, lot hebdomadaire" in text
    assert MINERALS_FR in text and "1 000 – 10 000 t/an" in text
    assert "Nord (59)" in text and "Hauts-de-France" in text
    assert f"{get_settings().base_url}/catalogue/{first.id}" in text
    # The generalised values with the same plain words as the pages, and where to read more.
    assert "    " + explanations.QUANTITY_BAND.say("fr") + "\r\n" in text
    assert explanations.LOCATION_LEVELS[LocationLevel.CELL].say("fr") in text
    assert f"{get_settings().base_url}/aide/anonymat" in text
    for member in (alpha, *others):
        for secret in _secrets_of(member):
            assert secret not in mail.as_string(), secret
    # No mail names a company (a label naming its owner is refused: tests/test_adversary_text.py).
    for message in mails:
        for member in (alpha, *others):
            assert member.legal_name not in message.as_string()

    # In the app, the same alert with the public view of the listing.
    unread = client.get("/api/v1/notifications?unread=true", headers=buyer.headers)
    assert unread.status_code == 200, unread.text
    assert len(unread.json()) == 3
    shown = next(n for n in unread.json() if n["listing_id"] == str(first.id))
    assert shown["saved_search_name"] == "Cendres du Nord"
    assert shown["listing"]["title"] == "Cendres volantes sèches, lot hebdomadaire"
    assert "company_id" not in shown["listing"] and "latitude" not in shown["listing"]
    assert alpha.legal_name not in unread.text and alpha.siret not in unread.text

    # Running the task again for the same change adds nothing and sends nothing.
    ids = [str(x.id) for x in listings]
    assert match_listings.apply(args=[ids], throw=True).get() == 0
    assert _count(session) == 5 and len(smtp.inbox.messages) == 5

    # Editing the flow is a new revision of the listing: alerted again, once.
    flow = session.get(Flow, first.flow_id)
    assert flow is not None
    update_flow(session, actor_of(alpha.user), flow, FlowUpdate(label="Cendres volantes humides"))
    session.commit()
    again = [n for n in _notifications(session, buyer.user) if n.listing_id == first.id]
    assert len(again) == 2 and len({n.revision for n in again}) == 2
    assert len(smtp.inbox.to(buyer.user.email)) == 4
    assert "Cendres volantes humides" in _body(smtp.inbox.to(buyer.user.email)[-1])
    assert len(_notifications(session, alpha.user)) == 2

    # Reading: one marked read leaves the others unread; a foreign notification is not found.
    read = client.post(f"/api/v1/notifications/{shown['id']}/read", headers=buyer.headers)
    assert read.status_code == 200 and read.json()["read_at"] is not None
    unread = client.get("/api/v1/notifications", params={"unread": "true"}, headers=buyer.headers)
    assert shown["id"] not in {n["id"] for n in unread.json()} and len(unread.json()) == 3
    everything = client.get("/api/v1/notifications", headers=buyer.headers)
    assert len(everything.json()) == 4
    foreign = client.post(f"/api/v1/notifications/{shown['id']}/read", headers=alpha.headers)
    assert foreign.status_code == 404

    # Withdrawn: the alert stays, the listing's public view is no longer shown.
    catalogue.withdraw(session, actor_of(alpha.user), first)
    session.commit()
    shown_after = client.get("/api/v1/notifications", headers=buyer.headers).json()
    assert {n["listing"] is None for n in shown_after if n["listing_id"] == str(first.id)} == {True}


def test_a_listing_that_fits_no_saved_search_notifies_nobody(
    session: Session, smtp: SmtpServer
) -> None:
    buyer = _member(session, "Briqueterie Beta SAS", 3)
    alerts.save_search(session, actor_of(buyer.user), "Cendres", dict(CHAPTER_10))
    alerts.save_search(
        session,
        actor_of(buyer.user),
        "Boues du Pas-de-Calais",
        {"low_chapter": "03", "departement": "62"},
    )
    session.commit()
    mills = [
        _member(session, f"Papeterie {n} SA", i) for i, n in enumerate(("Un", "Deux", "Trois"))
    ]
    listings = [_publish(session, m, "Boues de désencrage", "03 03 05") for m in mills]
    _run(session)
    session.expire_all()
    assert all(not session.get(Listing, x.id).brokered_only for x in listings)  # type: ignore[union-attr]
    assert _count(session) == 0 and smtp.inbox.messages == []


def test_a_pooled_offer_does_not_alert_its_contributors(session: Session, smtp: SmtpServer) -> None:
    contributors = [
        _member(session, f"Centrale {n} SAS", i) for i, n in enumerate(("Est", "Ouest", "Sud"))
    ]
    buyer = _member(session, "Briqueterie Beta SAS", 3)
    for member in (*contributors, buyer):
        alerts.save_search(session, actor_of(member.user), "Cendres", dict(CHAPTER_10))
    session.commit()
    flows = [create_flow_row(session, m.site, label="Cendres volantes") for m in contributors]
    facilitator = actor_of(create_user_row(session, Role.FACILITATOR))
    pool = create_pool(
        session,
        facilitator,
        PoolCreate(flow_ids=[f.id for f in flows], title="Cendres volantes mutualisées"),
    )
    catalogue.publish(session, facilitator, pool)
    session.commit()
    assert [n.listing_id for n in _notifications(session, buyer.user)] == [pool.id]
    for member in contributors:
        assert _notifications(session, member.user) == []
    assert len(smtp.inbox.messages) == 1


def test_when_smtp_is_down_the_notification_is_kept_and_mailed_on_retry(
    session: Session, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    buyer = _member(session, "Briqueterie Beta SAS", 3)
    alerts.save_search(session, actor_of(buyer.user), "Cendres", dict(CHAPTER_10))
    session.commit()
    sellers = [
        _member(session, f"Centrale {n} SAS", i) for i, n in enumerate(("Est", "Ouest", "Sud"))
    ]
    _publish(session, sellers[0], "Cendres volantes")
    _publish(session, sellers[1], "Cendres volantes")
    smtp.stop()
    last = _publish(session, sellers[2], "Cendres volantes")
    _run(session)

    kept = _notifications(session, buyer.user)
    assert len(kept) == 3 and all(n.emailed_at is None for n in kept)
    assert smtp.inbox.messages == []
    listing_ids = [str(n.listing_id) for n in kept]
    # On a worker (not in-process), the relay's failure makes Celery schedule a retry (sent to
    # the in-memory broker here, which nothing consumes). The app caches its broker pools on first
    # use: start from fresh ones and restore them, so that a later test pointing the app at a
    # real broker does not inherit the in-memory one.
    monkeypatch.setattr(celery_app, "_pool", None)
    monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)
    match_listings.push_request(
        id=str(uuid.uuid4()), called_directly=False, retries=0, args=[listing_ids], kwargs={}
    )
    try:
        with pytest.raises(Retry) as retry:
            match_listings.run(listing_ids)
    finally:
        match_listings.pop_request()
    assert isinstance(retry.value.exc, OSError)
    assert _count(session) == 3

    # The relay is back: the retried task mails what is pending, nothing is notified twice.
    smtp.start()
    assert match_listings.apply(args=[listing_ids], throw=True).get() == 0
    assert len(smtp.inbox.to(buyer.user.email)) == 3
    assert all(n.emailed_at is not None for n in _notifications(session, buyer.user))
    assert last.id in {n.listing_id for n in kept}


def test_alerts_whose_task_gave_up_are_mailed_once_the_relay_is_back(
    session: Session, smtp: SmtpServer
) -> None:
    buyer = _member(session, "Briqueterie Beta SAS", 3)
    alerts.save_search(session, actor_of(buyer.user), "Cendres", dict(CHAPTER_10))
    session.commit()
    sellers = [_member(session, f"Centrale {n} SAS", i) for i, n in enumerate(("E", "O", "S"))]
    smtp.stop()
    for seller in sellers:
        _publish(session, seller, "Cendres volantes")
    _run(session)
    kept = _notifications(session, buyer.user)
    assert len(kept) == 3 and all(n.emailed_at is None for n in kept)
    # The relay is still down: the sweep fails (beat runs it again later), nothing is marked.
    with pytest.raises(OSError):
        resend_unsent.apply(throw=True).get()
    assert all(n.emailed_at is None for n in _notifications(session, buyer.user))
    # An alert older than RESEND_WITHIN is no longer news: it stays in the app only.
    stale = kept[0]
    stale.created_at = utcnow() - RESEND_WITHIN - timedelta(minutes=1)
    session.add(stale)
    session.commit()

    smtp.start()
    assert resend_unsent.apply(throw=True).get() == 2
    assert len(smtp.inbox.to(buyer.user.email)) == 2
    assert resend_unsent.apply(throw=True).get() == 0  # never twice
    mailed = {n.id for n in _notifications(session, buyer.user) if n.emailed_at is not None}
    assert mailed == {n.id for n in kept[1:]}
    assert "alerts.resend_unsent" in {e["task"] for e in celery_app.conf.beat_schedule.values()}


def test_saved_search_rules(client: TestClient, session: Session) -> None:
    buyer = _member(session, "Briqueterie Beta SAS", 3)
    other = _member(session, "Centrale Alpha SAS", 0)

    def post(headers: dict[str, str], filters: dict[str, Any]) -> Any:
        return client.post(
            "/api/v1/saved-searches", headers=headers, json={"name": "Cendres", "filters": filters}
        )

    foreign_site = post(buyer.headers, {**CHAPTER_10, "from_site": str(other.site.id)})
    assert foreign_site.status_code == 404, foreign_site.text
    near = post(
        buyer.headers, {**CHAPTER_10, "from_site": str(buyer.site.id), "distance_band": "10–30 km"}
    )
    assert near.status_code == 201, near.text
    # Stored as the catalogue search reads it: the band's key, not its label.
    assert near.json()["filters"] == {
        **CHAPTER_10,
        "from_site": str(buyer.site.id),
        "distance_band": "10-30",
    }
    for bad in (
        {"cursor": "abc"},
        {"sort": "distance"},
        {"limit": 5},
        {"low_chapter": "1"},
        {"low_code": "10 01"},
        {"family": "gold"},
        {"distance_band": "lt10"},
        {"colour": "blue"},
        {"departement": "00"},
        {"q": "un deux trois quatre cinq six sept huit neuf dix onze"},
    ):
        response = post(buyer.headers, bad)
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["error"] == "Invalid"
    code = post(buyer.headers, {"low_code": "10 01 02"})
    assert code.status_code == 201 and code.json()["filters"] == {"low_code": "100102"}
    assert client.get("/api/v1/saved-searches").status_code == 401

    theirs = post(other.headers, CHAPTER_10).json()
    mine = client.get("/api/v1/saved-searches", headers=buyer.headers).json()
    assert {s["id"] for s in mine} == {near.json()["id"], code.json()["id"]}
    stolen = client.delete(f"/api/v1/saved-searches/{theirs['id']}", headers=buyer.headers)
    assert stolen.status_code == 404 and stolen.json()["error"] == "NotFound"
    assert session.get(SavedSearch, uuid.UUID(theirs["id"])) is not None
    deleted = client.delete(f"/api/v1/saved-searches/{code.json()['id']}", headers=buyer.headers)
    assert deleted.status_code == 204
    assert len(client.get("/api/v1/saved-searches", headers=buyer.headers).json()) == 1

    # The facilitator saves searches too, from any site as in the catalogue; an admin does not.
    facilitator = actor_of(create_user_row(session, Role.FACILITATOR))
    assert alerts.save_search(session, facilitator, "Tout le chapitre 10", dict(CHAPTER_10))
    assert alerts.save_search(session, facilitator, "Autour", {"from_site": str(buyer.site.id)})
    with pytest.raises(NotFound):
        alerts.save_search(session, facilitator, "x", {"from_site": str(uuid.uuid4())})
    with pytest.raises(Forbidden):
        alerts.save_search(
            session, actor_of(create_user_row(session, Role.PLATFORM_ADMIN)), "x", {}
        )
    with pytest.raises(Invalid):
        alerts.save_search(session, facilitator, "  \n ", {})
    session.rollback()


def _listing_row(session: Session, **public: Any) -> Listing:
    """A published listing with its public view set by hand, as the generaliser could leave it."""
    values: dict[str, Any] = {
        "latitude": 51.01,
        "longitude": 2.30,
        "h3_cell": "",
        "departement_code": "59",
        "low_code": "100102",
        "quantity_per_year": 1200,
        "group_key": "10",
        "direction": "offer",
        "kind": "material",
        "region_code": "32",
        "regularity": "continuous",
        "title": "Cendres volantes",
        "status": "published",
        "published_at": utcnow(),
        "brokered_only": False,
        "family": "mineraux",
        "low_chapter": "10",
        # Published at subchapter level, région, quantity dominated: the exact code, the
        # département and the quantity band stay private.
        "low_subchapter": "1001",
        "public_low_code": None,
        "public_departement": None,
        "quantity_band": None,
        "search_text": "cendres volantes",
    }
    values.update(public)
    listing = Listing(**values)
    session.add(listing)
    session.commit()
    return listing


def test_matching_reads_only_what_the_catalogue_shows(session: Session) -> None:
    buyer = _member(session, "Briqueterie Beta SAS", 0)
    actor = actor_of(buyer.user)
    site = str(buyer.site.id)
    searches: dict[str, dict[str, Any]] = {
        "subchapter": {"low_subchapter": "10 01"},
        "exact code": {"low_code": "10 01 02"},
        "band": {"quantity_band": 3},
        "département": {"departement": "59"},
        "words": {"region": "32", "q": "Cendres volantes"},
        "other words": {"q": "gypse"},
        "requests": {"direction": "request"},
        "< 10 km": {"from_site": site, "distance_band": "lt10"},
        "30–80 km": {"from_site": site, "distance_band": "30-80"},
    }
    for name, filters in searches.items():
        alerts.save_search(session, actor, name, filters, email_alerts=False)
    session.commit()
    here = _listing_row(session)
    lille = _listing_row(session, latitude=50.63, longitude=3.06)  # about 60 km away
    hidden = _listing_row(session, brokered_only=True)

    alerts.notify_matches(session, [here.id, lille.id, hidden.id])
    session.commit()
    names = {s.id: s.name for s in session.exec(select(SavedSearch)).all()}
    fits: dict[uuid.UUID, set[str]] = {here.id: set(), lille.id: set(), hidden.id: set()}
    for notification in _notifications(session, buyer.user):
        fits[notification.listing_id].add(names[notification.saved_search_id])
    assert fits[here.id] == {"subchapter", "words", "< 10 km"}
    # Distance bands are exact bands, as in the catalogue: Lille is in 30–80 km, not "< 10 km".
    assert fits[lille.id] == {"subchapter", "words", "30–80 km"}
    assert fits[hidden.id] == set()


def dies_with_parent() -> None:
    """The worker ends when the test process does, even killed or crashed: a worker left behind
    would take the next run's tasks from the same queue, against a database that is gone."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


PR_SET_PDEATHSIG = 1


def start_worker(monkeypatch: pytest.MonkeyPatch, smtp_port: int) -> subprocess.Popen[bytes]:
    """A real Celery worker on the test broker and database, mailing through ``smtp_port``; this
    process then sends its tasks to the broker."""
    env = os.environ | {
        "SYMBIOSE_DATABASE_URL": TEST_DATABASE_URL,
        "SYMBIOSE_BROKER_URL": TEST_BROKER_URL,
        "SYMBIOSE_TASKS_SYNC": "0",
        "SYMBIOSE_SMTP_HOST": "127.0.0.1",
        "SYMBIOSE_SMTP_PORT": str(smtp_port),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "core.worker:celery_app", "worker", "--pool=solo",
         "--loglevel=WARNING", "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        env=env,
        preexec_fn=dies_with_parent,
    )  # fmt: skip
    monkeypatch.setattr(get_settings(), "broker_url", TEST_BROKER_URL)
    monkeypatch.setattr(celery_app.conf, "broker_url", TEST_BROKER_URL)
    return worker


@pytest.mark.celery
@pytest.mark.skipif(not TEST_BROKER_URL, reason="SYMBIOSE_TEST_BROKER_URL is not set")
def test_alerts_run_on_a_real_worker(
    session: Session, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = start_worker(monkeypatch, smtp.port)
    try:
        buyer = _member(session, "Briqueterie Beta SAS", 3)
        alerts.save_search(session, actor_of(buyer.user), "Cendres", dict(CHAPTER_10))
        session.commit()
        for i, name in enumerate(("Est", "Ouest", "Sud")):
            _publish(session, _member(session, f"Centrale {name} SAS", i), "Cendres volantes")
        # The three listings wait for the publication run; its commit enqueues their alerts.
        _run(session)
        deadline = time.monotonic() + 60
        while len(smtp.inbox.to(buyer.user.email)) < 3 and time.monotonic() < deadline:
            assert worker.poll() is None, "the worker died"
            time.sleep(0.2)
        assert len(smtp.inbox.to(buyer.user.email)) == 3
        time.sleep(0.5)  # emailed_at is committed right after the relay accepts
        notifications = _notifications(session, buyer.user)
        assert len(notifications) == 3 and all(n.emailed_at for n in notifications)
    finally:
        worker.terminate()
        worker.wait(timeout=20)
