"""French throughout the French interface: collation, numbers as typed, unit words, import
reports and field names in French, and no English sentence of the catalogue left on a page."""

from __future__ import annotations

import html
import re
from collections import deque
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from core.text import collation_key
from marketplace.accounts.models import Role
from marketplace.demo.loader import USERS, load_demo
from marketplace.flows.models import Direction, Flow, Kind
from tests.factories import (
    create_company_row,
    create_flow_row,
    create_site_row,
    create_tenant,
    create_user_row,
    make_siret,
)
from tests.test_web import csrf_of, login, reloaded, token_in
from tests.test_web_i18n import catalogue

# --- collation -----------------------------------------------------------------------------------


def test_names_sort_as_a_french_reader_expects() -> None:
    names = ["Zinc du Nord", "Énergies Colme", "Briqueterie", "béton Flandres", "Aciéries", "Eau"]
    assert sorted(names, key=collation_key) == [
        "Aciéries",
        "béton Flandres",
        "Briqueterie",
        "Eau",
        "Énergies Colme",
        "Zinc du Nord",
    ]
    codes = ["D 10", "D 2", "D 12", "D 9 F", "D 1", "D 9"]
    assert sorted(codes, key=collation_key) == ["D 1", "D 2", "D 9", "D 9 F", "D 10", "D 12"]


def test_the_facilitators_company_list_is_in_french_order(
    client: TestClient, session: Session
) -> None:
    for name in ("Briqueterie Flamande SAS", "Énergies du Littoral SA", "Béton Côtier SAS"):
        create_company_row(session, name)
    create_company_row(session, "Fonderie Exemple SAS")
    login(client, create_user_row(session, Role.FACILITATOR).email)
    page = client.get("/companies").text
    shown = [page.index(n) for n in ("Béton Côtier", "Briqueterie", "Énergies du", "Fonderie")]
    assert shown == sorted(shown), "« Béton » before « Briqueterie », « É » among the E"


def test_recovery_and_disposal_codes_are_in_numeric_order(
    client: TestClient, session: Session
) -> None:
    tenant = create_tenant(session)
    login(client, tenant.admin.email)
    form = client.get(f"/flows/{tenant.flow.id}/edit").text
    codes = re.findall(r'<option value="([RD] [0-9]+(?: F)?)"', form)
    assert codes[:3] == ["R 1", "R 2", "R 3"] and codes[-1] == "D 15"
    disposals = [c for c in codes if c.startswith("D")]
    assert disposals.index("D 2") < disposals.index("D 10") < disposals.index("D 12")


# --- numbers and units ---------------------------------------------------------------------------


def test_a_price_comes_back_as_it_was_typed(client: TestClient, session: Session) -> None:
    tenant = create_tenant(session)
    login(client, tenant.admin.email)
    edit = f"/flows/{tenant.flow.id}/edit"
    form = client.get(edit).text
    data = {
        "csrf_token": token_in(form),
        "site_id": str(tenant.site.id),
        "label": "Cendres volantes",
        "low_code": "10 01 02",
        "quantity": "1 200,5",
        "unit": "t",
        "period": "year",
        "regularity": "continuous",
        "precision": "estimated",
        "current_operation": "R 5",
        "current_cost_eur_per_unit": "18,50",
    }
    assert client.post(edit, data=data).url.path == "/flows"
    assert reloaded(session, Flow, tenant.flow.id).current_cost_cents == 1850
    french = client.get(edit).text
    assert 'value="18,50"' in french and 'value="1200,5"' in french
    assert 'value="18.5"' not in french
    english = client.get(f"{edit}?lang=en").text
    assert 'value="18.50"' in english and 'value="1200.5"' in english
    # Saving the form as it came back changes nothing.
    again = {**data, "csrf_token": token_in(french), "quantity": "1200,5"}
    assert client.post(edit, data=again).url.path == "/flows"
    flow = reloaded(session, Flow, tenant.flow.id)
    assert flow.current_cost_cents == 1850 and flow.quantity == pytest.approx(1200.5)


def test_declared_and_yearly_quantities_are_written_alike(
    client: TestClient, session: Session
) -> None:
    tenant = create_tenant(session)
    create_flow_row(
        session,
        tenant.site,
        direction=Direction.OFFER,
        kind=Kind.GAS,
        low_code=None,
        label="CO2 de fermentation",
        quantity=500,
        unit="Nm3",
        period="month",
    )
    login(client, tenant.admin.email)
    page = client.get("/flows").text
    assert "500 Nm³/mois" in page and "6\u202f000 m³/an" in page
    assert "Nm3" not in page and "par mois" not in page
    assert "500 Nm³/month" in client.get("/flows?lang=en").text


# --- catalogue and import ------------------------------------------------------------------------


def test_a_distance_sort_without_a_site_names_the_field_in_french(
    client: TestClient, session: Session
) -> None:
    tenant = create_tenant(session)
    login(client, tenant.admin.email)
    response = client.get("/catalogue?sort=distance")
    assert response.status_code == 422
    text = html.unescape(response.text)
    assert "Trier par\u00a0: Choisissez un de vos sites" in text or "Trier par : " in text
    assert "sort :" not in text and "sort:" not in text
    english = html.unescape(client.get("/catalogue?sort=distance&lang=en").text)
    assert "Sort by: " in english


IMPORT_HEADER = (
    "company,siret,nace,site,latitude,longitude,direction,kind,low_code,label,quantity,unit,"
    "period,regularity"
)


def test_a_failed_import_shows_a_red_bar_and_french_choices(
    client: TestClient, session: Session
) -> None:
    login(client, create_user_row(session, Role.FACILITATOR).email)
    upload = client.get("/import")
    # The template file is linked, and served as the README documents it.
    assert 'href="/static/import-template.csv"' in upload.text
    template = client.get("/static/import-template.csv")
    assert template.status_code == 200 and template.text.startswith("company;siret;")
    row = f"Cimenterie du Port SAS,{make_siret()},23.51Z,Usine,50.99,2.15,request,palettes,,"
    csv = f"{IMPORT_HEADER}\n{row}Palettes,5,t,year,continuous\n".encode()
    response = client.post(
        "/import",
        data={"csrf_token": token_in(upload.text)},
        files={"file": ("territoire.csv", csv, "text/csv")},
    )
    page = html.unescape(response.text)
    assert "Échec" in page or "status-failed" in page
    assert re.search(r'<progress [^>]*class="failed"', page), "a failed import's bar is red"
    assert "Valeur hors de la liste\u00a0: chaleur, eau, gaz, matière." in page
    assert "gas, heat" not in page
    # The French values it lists are read: the same row with « matière » imports.
    done_row = f"Cimenterie du Port SAS,{make_siret()},23.51Z,Usine,50.99,2.15,demande,matière,"
    csv = f"{IMPORT_HEADER}\n{done_row}10 01 02,Cendres,5,t,an,continu\n".encode()
    done = client.post(
        "/import",
        data={"csrf_token": csrf_of(client, "/import")},
        files={"file": ("territoire.csv", csv, "text/csv")},
    )
    assert "Terminé" in done.text and 'class="failed"' not in done.text


# --- no English sentence in the French interface -----------------------------------------------

PLACEHOLDER = re.compile(r"%\(\w+\)s|%%")
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
# Text a page shows that is not translated words: scripts, styles and what the markup holds.
HIDDEN = re.compile(r"<(script|style)\b.*?</\1>", re.S | re.I)
TAG = re.compile(r"<[^>]+>")
SHOWN_ATTRIBUTES = re.compile(r'\b(?:title|placeholder|aria-label|alt)="([^"]*)"')
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Links a crawl must not follow: they change state, leave the French pages or are no page.
SKIPPED = re.compile(r"^/(?:logout|static/|api/)|\.pdf$|[?&]lang=")
UNIT = re.compile(r"[^\s%]+/[a-z]+")
PAGES_PER_ROLE = 80
PAGES_PER_SHAPE = 2


def english_fragments() -> list[tuple[str, re.Pattern[str]]]:
    """The English side's sentences that French never shows: each msgid whose French differs,
    cut at its placeholders, every piece of at least three words (shorter ones, such as
    "Distance" or "Total", are French words too), and its units ("t/yr")."""
    found: dict[str, re.Pattern[str]] = {}
    for message in catalogue("fr"):
        msgid, french = str(message.id or ""), str(message.string or "")
        if not msgid or not french or french == msgid:
            continue
        if UNIT.fullmatch(msgid):
            # A unit is one token ("t/yr"), yet as English as a sentence.
            found[msgid] = re.compile(rf"(?<![\w/]){re.escape(msgid)}(?![\w/])")
            continue
        for piece in PLACEHOLDER.split(msgid):
            piece = piece.strip(" .,:;()«»·—–-…?!\u00a0")
            if len(WORD.findall(piece)) >= 3 and piece not in french:
                words = r"\s+".join(re.escape(w) for w in piece.split())
                found[piece] = re.compile(rf"(?<![\w-]){words}(?![\w-])")
    return sorted(found.items())


def shown_text(page: str) -> str:
    visible = TAG.sub(" ", HIDDEN.sub(" ", page))
    attributes = " ".join(SHOWN_ATTRIBUTES.findall(page))
    return re.sub(r"\s+", " ", html.unescape(f"{visible} {attributes}"))


def crawl(client: TestClient, start: list[str]) -> dict[str, str]:
    """Every page reachable from `start` by a link of the site, a few of each shape
    (/flows/{id}/edit...), as shown text."""
    seen_shapes: dict[str, int] = {}
    queue, visited, texts = deque(start), set[str](), dict[str, str]()
    while queue and len(texts) < PAGES_PER_ROLE:
        path = queue.popleft()
        shape = UUID.sub("{id}", urlsplit(path).path)
        if path in visited or seen_shapes.get(shape, 0) >= PAGES_PER_SHAPE:
            continue
        visited.add(path)
        response = client.get(path)
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        seen_shapes[shape] = seen_shapes.get(shape, 0) + 1
        texts[path] = shown_text(response.text)
        for link in re.findall(r'href="(/[^"#]*)"', response.text):
            link = html.unescape(link)
            if not SKIPPED.search(link) and link not in visited:
                queue.append(link)
    return texts


def test_the_english_fragments_cover_the_catalogue() -> None:
    pieces = dict(english_fragments())
    assert "My flows" not in pieces  # two words: French has such words too
    assert pieces["Choose one of your sites to sort by distance"].search(
        "Sort by: Choose one of your sites to sort by distance."
    )
    assert pieces["t/yr"].search("1,000 – 10,000 t/yr") and not pieces["t/yr"].search("t/an")
    assert len(pieces) > 300


def test_the_french_interface_shows_no_english_sentence(
    client: TestClient, session: Session
) -> None:
    """The demo, visited as a visitor, a plant's administrator, a member and the facilitator,
    in French: no page shows a sentence of the catalogue's English side."""
    load_demo()
    fragments = english_fragments()
    accounts = {row["role"]: row for row in _demo_users()}
    visits: dict[str, dict[str, str]] = {"visitor": crawl(client, ["/", "/catalogue"])}
    for role in (Role.COMPANY_ADMIN, Role.MEMBER, Role.FACILITATOR):
        account = accounts[role.value]
        client.cookies.clear()
        login(client, account["email"], account["password"])
        visits[role.value] = crawl(client, ["/", "/catalogue"])
    assert len(visits["facilitator"]) > 10 and len(visits["company_admin"]) > 10
    found = [
        f"{who} {path}: « {piece} »"
        for who, pages in visits.items()
        for path, text in pages.items()
        for piece, pattern in fragments
        if pattern.search(text)
    ]
    assert found == [], "\n".join(found)


def _demo_users() -> list[dict[str, str]]:
    import csv

    with USERS.open(encoding="utf-8") as handle:
        # The demo's first account of each role: its plant's administrator is a power station's.
        rows = list(csv.DictReader(handle))
    first: dict[str, dict[str, str]] = {}
    for row in rows:
        if row.get("locale", "fr") == "fr":
            first.setdefault(row["role"], row)
    return list(first.values())


def test_the_crawl_sees_english_when_it_is_there(client: TestClient, session: Session) -> None:
    """The check is no blind one: the same pages in English are caught by it."""
    tenant = create_tenant(session)
    create_site_row(session, tenant.company)
    login(client, tenant.admin.email)
    client.cookies.set("symbiose_lang", "en")
    pages = crawl(client, ["/flows"])
    fragments = english_fragments()
    assert any(p.search(text) for text in pages.values() for _, p in fragments)
