"""The leak test: every API route and every web page an anonymous visitor or a member of another
company can reach, fetched over the demo territory, shows no company's identity or exact position.

Routes come from the OpenAPI and from the application's own route table, and pages are crawled
from their links, so a route added later is covered without editing this test.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select
from stdnum.fr import siren as siren_checker

from marketplace.accounts.models import Role, User
from marketplace.accounts.service import actor_of
from marketplace.catalogue.models import Listing
from marketplace.companies.models import Company, Site
from marketplace.companies.service import identity_of, site_name, site_position
from marketplace.demo.loader import load_demo
from marketplace.exchanges.models import Contract
from marketplace.flows.models import Flow
from marketplace.introductions.models import Introduction
from tests.factories import PASSWORD, bearer
from tests.test_introduction_pools import express as express_pool
from tests.test_introduction_pools import pool_world

# A number with 3+ decimals, not the seconds of a timestamp ("T10:15:02.368088Z").
DECIMAL = re.compile(r"(?<![:\d])-?\d{1,3}\.\d{3,}")
MAX_PAGES = 400
CSRF_VALUE = re.compile(r'name="csrf_token" value="[^"]*"')


@dataclass
class Secrets:
    """What one viewer must never see: every other company's identity and site positions."""

    words: set[str] = field(default_factory=set)
    positions: list[tuple[float, float]] = field(default_factory=list)
    # The viewer's own coordinates may show on its own pages: exact values, not "close to".
    own_values: set[float] = field(default_factory=set)

    def find_in(self, text: str) -> list[str]:
        found = [w for w in self.words if w in text]
        folded = text.replace("\u00a0", " ").replace(" ", "").replace(".", "")
        found += [w for w in self.words if w.isdigit() and w in folded]
        for match in DECIMAL.finditer(text):
            value = float(match.group())
            if any(abs(value - own) < 1e-9 for own in self.own_values):
                continue
            for lat, lon in self.positions:
                if abs(value - lat) < 0.01 or abs(value - lon) < 0.01:
                    found.append(f"coordinate {match.group()}")
        return found


@pytest.fixture
def demo(session: Session) -> Iterator[dict[str, Any]]:
    load_demo()
    session.expire_all()
    staff = session.exec(select(User).where(User.role == Role.FACILITATOR)).one()
    companies = session.exec(select(Company)).all()
    identities = {c.id: identity_of(session, actor_of(staff), c) for c in companies}
    sites = session.exec(select(Site)).all()
    yield {"companies": companies, "identities": identities, "sites": sites}


def _revealed_to(session: Session, company_id: uuid.UUID | None) -> set[uuid.UUID]:
    """The companies whose identity was revealed to `company_id` by an introduction (the demo
    holds one): after the reveal, seeing them is the point."""
    if company_id is None:
        return set()
    rows = session.exec(select(Introduction).where(Introduction.state == "revealed")).all()
    found: set[uuid.UUID] = set()
    for intro in rows:
        if intro.requester_company_id == company_id and intro.owner_company_id is not None:
            found.add(intro.owner_company_id)
        elif intro.owner_company_id == company_id:
            found.add(intro.requester_company_id)
    return found


def _secrets(
    demo: dict[str, Any],
    except_company: uuid.UUID | None,
    revealed: Collection[uuid.UUID] = frozenset(),
) -> Secrets:
    secrets = Secrets()
    companies = {c.id: c for c in demo["companies"]}
    for company_id, identity in demo["identities"].items():
        if company_id == except_company or company_id in revealed:
            continue
        secrets.words.add(identity.legal_name)
        secrets.words.update(b for b in identity.brands if len(b) > 3)
        secrets.words.add(identity.siret)
        secrets.words.add(identity.siret[:9])
        assert siren_checker.is_valid(identity.siret[:9])
        if identity.address:
            secrets.words.add(identity.address)
        for contact in identity.contacts:
            secrets.words.update(x for x in (contact.email, contact.phone) if x)
    own_names = set()
    for site in demo["sites"]:
        position = site_position(companies[site.company_id], site)
        if site.company_id == except_company or site.company_id in revealed:
            secrets.own_values.update((position.latitude, position.longitude))
            own_names.add(site_name(companies[site.company_id], site))
            continue
        secrets.positions.append((position.latitude, position.longitude))
        name = site_name(companies[site.company_id], site)
        if len(name) > 12:  # short site names ("Usine Nord") are shared by many companies
            secrets.words.add(name)
    # A name the viewer's own site also bears ("Site de Production") tells it nothing.
    secrets.words -= own_names
    return secrets


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and name in ("href", "hx-get", "action") and tag != "form":
                self.links.append(value)
            if value and tag == "form" and name == "action":
                self.links.append(value)


def _fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: ids.get(m.group(1), ids["fallback"]), path)


def _ids(session: Session, viewer_company: uuid.UUID | None) -> dict[str, str]:
    """Path parameters: published listings, and everything else from another company."""
    listing = session.exec(
        select(Listing).where(Listing.status == "published", col(Listing.brokered_only).is_(False))
    ).first()
    foreign_flow = session.exec(select(Flow).where(Flow.company_id != viewer_company)).first()
    assert listing is not None and foreign_flow is not None
    foreign_site = session.get(Site, foreign_flow.site_id)
    assert foreign_site is not None
    # A demo introduction between two other companies: its pages are none of the viewer's.
    query = select(Introduction)
    if viewer_company is not None:
        query = query.where(
            Introduction.requester_company_id != viewer_company,
            Introduction.owner_company_id != viewer_company,
        )
    foreign_intro = session.exec(query).first()
    assert foreign_intro is not None
    # The demo's signed contract, when the viewer is not one of its parties.
    contracts = select(Contract)
    if viewer_company is not None:
        contracts = contracts.where(
            Contract.giver_company_id != viewer_company,
            Contract.taker_company_id != viewer_company,
        )
    contract = session.exec(contracts).first()
    return {
        "contract_id": str(contract.id) if contract else str(foreign_flow.id),
        "number": "1",
        "register": "outgoing",
        "introduction_id": str(foreign_intro.id),
        "listing_id": str(listing.id),
        "flow_id": str(foreign_flow.id),
        "site_id": str(foreign_site.id),
        "company_id": str(foreign_flow.company_id),
        "fallback": str(foreign_flow.id),
    }


def _walk(client: TestClient, headers: dict[str, str], ids: dict[str, str]) -> dict[str, str]:
    """Fetch every GET route (API and pages) and crawl the pages' links; returns url → body."""
    from api.app import app

    seen: dict[str, str] = {}
    queue: list[str] = []
    # Included routers are resolved lazily: app.routes alone would list none of the pages.
    for route in iter_route_contexts(app.routes):
        methods = route.methods or set()
        path = route.path or ""
        if "GET" in methods and not path.startswith("/static"):
            queue.append(_fill(path, ids))
    spec = client.get("/api/v1/openapi.json").json()
    queue += [_fill(p, ids) for p, ops in spec["paths"].items() if "get" in ops]
    queue.append("/api/v1/catalogue?limit=100")
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen:
            continue
        response = client.get(url, headers=headers, follow_redirects=True)
        seen[url] = response.text
        if "text/html" in response.headers.get("content-type", ""):
            parser = _Links()
            parser.feed(response.text)
            for link in parser.links:
                target = urlsplit(urljoin(url, link))
                if target.netloc in ("", "testserver") and not target.path.startswith(
                    ("/static", "/logout")
                ):
                    full = target.path + (f"?{target.query}" if target.query else "")
                    if full not in seen:
                        queue.append(full)
    return seen


def _assert_clean(pages: dict[str, str], secrets: Secrets) -> None:
    # A form's random token is no position, though "…2.2970…" (nonce.signature) may read as one.
    bodies = {url: CSRF_VALUE.sub("", body) for url, body in pages.items()}
    leaks = {url: found for url, body in bodies.items() if (found := secrets.find_in(body))}
    assert leaks == {}


def test_an_anonymous_visitor_sees_no_identity(
    client: TestClient, session: Session, demo: dict[str, Any]
) -> None:
    pages = _walk(client, {}, _ids(session, None))
    assert len(pages) >= 10
    assert any("catalogue" in url for url in pages)
    _assert_clean(pages, _secrets(demo, None))


def test_a_member_of_another_company_sees_no_identity(
    client: TestClient, session: Session, demo: dict[str, Any]
) -> None:
    member = session.exec(select(User).where(User.role == Role.MEMBER)).first()
    assert member is not None and member.company_id is not None
    ids = _ids(session, member.company_id)
    secrets = _secrets(demo, member.company_id, _revealed_to(session, member.company_id))
    api_pages = _walk(client, bearer(session, member), ids)
    _assert_clean(api_pages, secrets)
    from tests.test_web import login

    login(client, member.email, _password(member))
    web_pages = _walk(client, {}, ids)
    # The pages themselves, not only the API: « Mes flux » and the links it leads to.
    assert "/flows" in web_pages
    assert any(url.startswith("/flows/") and url.endswith("/matches") for url in web_pages)
    # « Mises en relation »: the inbox and each of the company's introductions, the demo's
    # revealed one included (its counterpart, and only it, is named there).
    assert "/introductions" in web_pages
    assert any(re.fullmatch(r"/introductions/[0-9a-f-]{36}", url) for url in web_pages)
    _assert_clean(web_pages, secrets)


def test_a_company_outside_the_demo_contract_sees_nothing_of_it(
    client: TestClient, session: Session, demo: dict[str, Any]
) -> None:
    """An administrator of a company that is not a party walks every route with the demo's
    signed contract's id (its PDF, registers, versions...): refused, and no identity anywhere."""
    contract = session.exec(select(Contract)).one()
    assert contract.state == "active"
    # The demo's finished deal: its stored PDF carries the three signatures, all valid.
    staff = session.exec(select(User).where(User.role == Role.FACILITATOR)).first()
    assert staff is not None
    report = client.get(f"/api/v1/contracts/{contract.id}/verify", headers=bearer(session, staff))
    assert report.json()["ok"] and len(report.json()["signatures"]) == 3, report.text
    outsider = session.exec(
        select(User).where(
            User.role == Role.COMPANY_ADMIN,
            col(User.company_id).not_in([contract.giver_company_id, contract.taker_company_id]),
        )
    ).first()
    assert outsider is not None and outsider.company_id is not None
    ids = _ids(session, outsider.company_id)
    assert ids["contract_id"] == str(contract.id)
    headers = bearer(session, outsider)
    pages = _walk(client, headers, ids)
    assert f"/api/v1/contracts/{contract.id}/pdf" in pages
    for url, body in pages.items():
        if url.startswith(f"/api/v1/contracts/{contract.id}"):
            assert client.get(url, headers=headers).status_code == 404, url
    assert client.get("/api/v1/contracts", headers=headers).json() == []
    secrets = _secrets(demo, outsider.company_id, _revealed_to(session, outsider.company_id))
    _assert_clean(pages, secrets)


def _password(user: User) -> str:
    import csv

    from marketplace.demo.loader import USERS

    with USERS.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["email"] == user.email:
                return row["password"]
    return PASSWORD


def test_every_published_cell_of_the_demo_holds_k_companies(
    session: Session, demo: dict[str, Any]
) -> None:
    from core.settings import get_settings
    from marketplace.catalogue.service import published_cells

    cells = published_cells(session)
    assert cells, "the demo publishes no listing"
    for cell, companies in cells.items():
        assert len(companies) >= get_settings().k_anonymity, cell


def test_the_detector_finds_planted_leaks() -> None:
    secrets = Secrets(
        words={"Papeterie du Canal SA", "73282932000074", "732829320"},
        positions=[(51.03431, 2.37682)],
        own_values={50.12345},
    )
    assert secrets.find_in("<td>Papeterie du Canal SA</td>")
    assert secrets.find_in("SIRET 732 829 320 00074")
    assert secrets.find_in('{"lat": 51.0343}')
    assert secrets.find_in("2.377")
    assert not secrets.find_in("51.03 (two decimals) and my own 50.12345")
    assert not secrets.find_in('"published_at": "2026-11-29T10:15:02.376812Z"')


def test_both_sides_of_an_introduction_see_no_identity_before_the_reveal(
    client: TestClient, session: Session, demo: dict[str, Any]
) -> None:
    """A member's interest in another company's listing: the requester and the owner each walk
    every route, the introduction's own included, and find nothing of the other."""
    requester = session.exec(select(User).where(User.role == Role.MEMBER)).first()
    assert requester is not None and requester.company_id is not None
    listing = session.exec(
        select(Listing).where(
            Listing.status == "published",
            col(Listing.brokered_only).is_(False),
            col(Listing.aggregated).is_(False),
            Listing.company_id != requester.company_id,
        )
    ).first()
    assert listing is not None
    owner = session.exec(select(User).where(User.company_id == listing.company_id)).first()
    assert owner is not None and owner.company_id is not None
    created = client.post(
        "/api/v1/introductions",
        headers=bearer(session, requester),
        json={"listing_id": str(listing.id)},
    )
    assert created.status_code == 201, created.text
    intro_id = created.json()["id"]
    for user in (requester, owner):
        ids = {**_ids(session, user.company_id), "introduction_id": intro_id}
        pages = _walk(client, bearer(session, user), ids)
        assert f"/api/v1/introductions/{intro_id}" in pages
        assert intro_id in pages["/api/v1/introductions"]
        revealed = _revealed_to(session, user.company_id)
        _assert_clean(pages, _secrets(demo, user.company_id, revealed))


def test_the_sides_of_a_pooled_introduction_see_no_identity_before_the_reveal(
    client: TestClient, session: Session
) -> None:
    """An interest in a pooled offer, one contributor having accepted: the requester and each
    contributor walk every route, the introduction's own included, and find nothing of the
    others (the contributors nothing of each other either)."""
    pool = pool_world(client, session)
    intro_id = express_pool(client, pool).json()["id"]
    first = pool.contributors[0]
    url = f"/api/v1/introductions/{intro_id}/accept"
    assert client.post(url, headers=first.headers).status_code == 200
    everyone = [pool.requester, *pool.contributors, pool.third]
    for viewer in (pool.requester, *pool.contributors):
        secrets = Secrets(own_values=set(viewer.position))
        for other in everyone:
            if other is not viewer:
                secrets.words.update(other.secrets)
                secrets.positions.append(other.position)
        ids = {
            "introduction_id": intro_id,
            "listing_id": pool.listing_id,
            "flow_id": str(viewer.member.flow_id),
            "site_id": str(viewer.member.site_id),
            "company_id": str(viewer.company_id),
            "fallback": str(viewer.member.flow_id),
        }
        pages = _walk(client, viewer.headers, ids)
        assert intro_id in pages["/api/v1/introductions"]
        _assert_clean(pages, secrets)
