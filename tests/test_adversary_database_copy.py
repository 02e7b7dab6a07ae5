"""A copy of the database against its holder: the demo territory, plus a company with brands and
a named contact, a site with its commune, a published listing, an import refused with bad rows,
identity reads, saved searches and their alerts, introductions (one to a pooled offer of three
tanneries, revealed), a contract signed by all three parties with its comment, document and
delivery, all made over the API. Then the raw bytes (the
SQLite file with its WAL, or `pg_dump` of the PostgreSQL test database) must hold no company
name, brand, SIRET or SIREN, person's name, user e-mail, commune, distinctive site name, or exact
site coordinate (three decimals, as text or as an 8-byte float).

Some of these wait for other parts of the work; those are marked xfail(strict) one by one, so the
mark goes when the part lands and not before."""

from __future__ import annotations

import csv
import re
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from core.db import unit_of_work
from core.text import fold
from marketplace.accounts.models import Role
from marketplace.accounts.service import create_user
from marketplace.demo.loader import TERRITORY, USERS, load_demo
from tests.conftest import TEST_DATABASE_URL, backend_name
from tests.factories import make_siret

LEGAL_NAME = "Tannerie Kervella SAS"
BRAND = "Maroquinerie Tromelin"
CONTACT = "Yannick Le Goff"
# A person the company never registered: only a scrubber that finds people's names removes it.
STRANGER = "Soizic Kerhervé"
ADMIN_EMAIL = "direction@tannerie-kervella.fr"
SITE_NAME = "Atelier du Quai Tromelin"
COMMUNE = "Plouguerneau"
POSITION = (48.60473, -4.50319)
SIRET = make_siret(8_675_309)
IMPORTED_NAME = "Saurisserie Penmarc'h Confidentielle"
IMPORTED_SIRET = make_siret(8_675_310)
# Two more tanneries pooled with this one (the watcher's interest in the pool is revealed), by
# name, SIRET, site name and position.
POOLED = (
    (
        "Tannerie Abgrall Confidentielle SARL",
        make_siret(8_675_311),
        "Hangar de Kerlouan",
        (48.55012, -4.40133),
    ),
    (
        "Mégisserie Morvan Confidentielle SA",
        make_siret(8_675_312),
        "Cour de Plabennec",
        (48.50217, -4.41452),
    ),
)
# Demo site names that name a place; the others ("Usine", "Serres") name no one.
DISTINCTIVE_DEMO_SITES = ("Chantier de Guînes", "Plateforme de Coulogne", "Serres de Craywick")


@dataclass
class Copy:
    raw: bytes
    text: str  # the same bytes read as UTF-8, for text searches
    territory: list[dict[str, str]] = field(default_factory=list)
    users: list[dict[str, str]] = field(default_factory=list)


def _token(client: TestClient, email: str, password: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _ok(answer: Any, status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    return answer.json()


def _scene(client: TestClient, users: list[dict[str, str]]) -> None:
    facilitator = next(u for u in users if u["role"] == "facilitator")
    staff = _token(client, facilitator["email"], facilitator["password"])
    company = _ok(
        client.post(
            "/api/v1/companies",
            headers=staff,
            json={
                "legal_name": LEGAL_NAME,
                "siret": SIRET,
                "nace": "15.11Z",
                "brands": [BRAND],
                "contacts": [{"name": CONTACT, "email": ADMIN_EMAIL, "phone": "02 98 04 11 22"}],
            },
        ),
        201,
    )
    # The operator's command creates the account (the API invites, with no password to log in).
    with unit_of_work() as session:
        create_user(
            session,
            email=ADMIN_EMAIL,
            password="tannerie-password",
            role=Role.COMPANY_ADMIN,
            company_id=uuid.UUID(company["id"]),
        )
    admin = _token(client, ADMIN_EMAIL, "tannerie-password")
    site = _ok(
        client.post(
            "/api/v1/sites",
            headers=admin,
            json={
                "name": SITE_NAME,
                "latitude": POSITION[0],
                "longitude": POSITION[1],
                "commune": COMMUNE,
            },
        ),
        201,
    )
    # A watcher saves searches (with e-mail alerts) before the listing appears.
    watcher = next(u for u in users if u["role"] == "company_admin")
    watching = _token(client, watcher["email"], watcher["password"])
    for name, filters in (("Cuirs", {"q": "cuir"}), ("Matières", {"kind": "material"})):
        _ok(
            client.post(
                "/api/v1/saved-searches",
                headers=watching,
                json={"name": name, "filters": filters, "email_alerts": True},
            ),
            201,
        )
    declaration = {
        "site_id": site["id"],
        "direction": "offer",
        "kind": "material",
        "low_code": "04 01 08",
        "label": "Rognures de peaux",
        "quantity": 40,
        "unit": "t",
        "description": f"Rognures de cuir au chrome, en big-bags ; voir {CONTACT} ou "
        f"Mme {STRANGER} à l'atelier de {COMMUNE}.",
    }
    flow = _ok(client.post("/api/v1/flows", headers=admin, json=declaration), 201)
    # The scrubber sends such a text back to its author; whatever it keeps is checked below.
    answer = client.post("/api/v1/listings", headers=admin, json={"flow_id": flow["id"]})
    if answer.status_code == 422:
        _ok(client.patch(f"/api/v1/flows/{flow['id']}", headers=admin, json={"description": ""}))
        answer = client.post("/api/v1/listings", headers=admin, json={"flow_id": flow["id"]})
    listing = _ok(answer, 201)
    _ok(client.post(f"/api/v1/listings/{listing['listing']['id']}/publish", headers=admin))
    _ok(client.get("/api/v1/notifications", headers=watching))
    # An introduction to the tannery, with a relayed message, accepted and so revealed: the
    # reveal's rows (the introduction, its notice, its message, its audit entries) name no one.
    (watcher_company,) = _ok(client.get("/api/v1/companies", headers=watching))
    introduction = _ok(
        client.post(
            "/api/v1/introductions",
            headers=staff,
            json={
                "listing_id": listing["listing"]["id"],
                "requester_company_id": watcher_company["id"],
            },
        ),
        201,
    )
    path = f"/api/v1/introductions/{introduction['id']}"
    message = {"body": "Quelle est la siccité des rognures ?"}
    _ok(client.post(f"{path}/messages", headers=watching, json=message), 201)
    revealed = _ok(client.post(f"{path}/accept", headers=admin))
    assert revealed["counterpart"]["legal_name"] == watcher_company["legal_name"]
    assert _ok(client.get(path, headers=watching))["counterpart"]["legal_name"] == LEGAL_NAME
    _contract(client, introduction["id"], staff, admin, watching, facilitator, watcher)
    _pooled_introduction(client, staff, admin, watching, flow["site_id"], declaration)
    # Identity reads by the facilitator: every company, then this one.
    _ok(client.get("/api/v1/companies", headers=staff))
    _ok(client.get(f"/api/v1/companies/{company['id']}", headers=staff))
    # An import refused for its bad rows: its report is stored.
    header = (
        "company,siret,nace,site,latitude,longitude,direction,kind,low_code,label,quantity,unit"
    )
    rows = [
        f"{IMPORTED_NAME},{IMPORTED_SIRET},10.20Z,Conserverie,47.79871,-4.37412,offer,material,"
        "02 02 03,Têtes de poisson,abc,t",
        f"{IMPORTED_NAME},{IMPORTED_SIRET},10.20Z,Conserverie,47.79871,-4.37412,offer,material,"
        "99 99 99,Arêtes,12,t",
    ]
    refused = client.post(
        "/api/v1/flows/import",
        headers=staff,
        files={"file": ("territoire.csv", "\n".join([header, *rows]).encode(), "text/csv")},
    )
    assert refused.status_code == 422, refused.text


def _contract(
    client: TestClient,
    introduction_id: str,
    staff: dict[str, str],
    admin: dict[str, str],
    watching: dict[str, str],
    facilitator: dict[str, str],
    watcher: dict[str, str],
) -> None:
    """The tannery's contract with the watcher, drafted from their revealed introduction,
    commented, qualified with an attached document, signed by all three and delivered: its
    terms, PDF, comments, evidence, document and deliveries name both companies, all sealed."""
    contract = _ok(
        client.post("/api/v1/contracts", headers=staff, json={"introduction_id": introduction_id}),
        201,
    )
    path = f"/api/v1/contracts/{contract['id']}"
    assert contract["terms"]["parties"][0]["legal_name"] == LEGAL_NAME
    comment = {"body": f"{CONTACT} viendra de {COMMUNE} pour {LEGAL_NAME} ({SIRET})."}
    _ok(client.post(f"{path}/comments", headers=admin, json=comment), 201)
    document = f"Arrêté d'autorisation — {LEGAL_NAME}, {SITE_NAME}, SIRET {SIRET}".encode()
    attached = _ok(
        client.post(
            f"{path}/documents",
            headers=staff,
            files={"file": (f"{LEGAL_NAME}.pdf", document, "application/pdf")},
        ),
        201,
    )
    status = {
        "answers": {},
        "evidence": [
            {
                "condition": "waste.receiving_facility_authorised",
                "text": f"Autorisation de {LEGAL_NAME} pour {SITE_NAME}",
                "document_name": f"{LEGAL_NAME}.pdf",
                "document_sha256": attached["sha256"],
            },
            {"condition": "waste.registers", "text": f"Registres tenus par {CONTACT}"},
        ],
        "r_code": "R3",
    }
    _ok(client.put(f"{path}/status", headers=staff, json=status))
    _ok(client.post(f"{path}/review", headers=staff))
    _ok(client.post(f"{path}/ready", headers=staff))
    for headers, password in (
        (admin, "tannerie-password"),
        (watching, watcher["password"]),
        (staff, facilitator["password"]),
    ):
        _ok(client.post(f"{path}/sign", headers=headers, json={"password": password, "version": 1}))
    delivery = {
        "delivered_on": "2026-01-05",
        "quantity": 4,
        "unit": "t",
        "lot": "Lot Tromelin 1",
        "carrier": f"Transports de {COMMUNE}",
    }
    _ok(client.post(f"{path}/deliveries", headers=admin, json=delivery), 201)
    assert _ok(client.get(f"{path}/verify", headers=watching))["ok"]


def _pooled_introduction(
    client: TestClient,
    staff: dict[str, str],
    admin: dict[str, str],
    watching: dict[str, str],
    site_id: str,
    declaration: dict[str, Any],
) -> None:
    """The tannery's flow pooled with two others' (each with permit flags on its site); the
    watcher's interest in the pool accepted by all three, and so revealed."""
    flow_ids = [
        _ok(
            client.post("/api/v1/flows", headers=admin, json=declaration | {"description": ""}),
            201,
        )["id"]
    ]
    accepting = [admin]
    for number, (name, siret, site_name, (lat, lon)) in enumerate(POOLED):
        company = _ok(
            client.post(
                "/api/v1/companies",
                headers=staff,
                json={"legal_name": name, "siret": siret, "nace": "15.11Z"},
            ),
            201,
        )
        email = f"pool-{number}@tannerie.test"
        with unit_of_work() as session:
            create_user(
                session,
                email=email,
                password="pool-password",
                role=Role.COMPANY_ADMIN,
                company_id=uuid.UUID(company["id"]),
            )
        headers = _token(client, email, "pool-password")
        site = {
            "name": site_name,
            "latitude": lat,
            "longitude": lon,
            "icpe_regime": "authorisation",
            "receives_non_hazardous_waste": True,
        }
        made = _ok(client.post("/api/v1/sites", headers=headers, json=site), 201)
        body = declaration | {"site_id": made["id"], "description": ""}
        flow_ids.append(_ok(client.post("/api/v1/flows", headers=headers, json=body), 201)["id"])
        accepting.append(headers)
    pool = _ok(
        client.post(
            "/api/v1/pools",
            headers=staff,
            json={"flow_ids": flow_ids, "area": "departement", "title": "Rognures mutualisées"},
        ),
        201,
    )
    _ok(client.post(f"/api/v1/listings/{pool['id']}/publish", headers=staff))
    interest = _ok(
        client.post("/api/v1/introductions", headers=watching, json={"listing_id": pool["id"]}),
        201,
    )
    path = f"/api/v1/introductions/{interest['id']}"
    for headers in accepting:
        _ok(client.post(f"{path}/accept", headers=headers))
    revealed = _ok(client.get(path, headers=watching))
    assert sorted(c["legal_name"] for c in revealed["contributors"]) == sorted(
        [LEGAL_NAME, *(name for name, *_ in POOLED)]
    )


def _raw_bytes() -> bytes:
    if backend_name() == "postgresql":
        url = make_url(TEST_DATABASE_URL).set(drivername="postgresql")
        dump = subprocess.run(
            ["pg_dump", "--no-owner", url.render_as_string(hide_password=False)],
            capture_output=True,
            check=True,
            timeout=300,
        )
        return dump.stdout
    database = Path(make_url(TEST_DATABASE_URL).database or "")
    # The file and its write-ahead log as they lie on disk, not checkpointed first.
    return b"".join(p.read_bytes() for p in sorted(database.parent.glob(database.name + "*")))


@pytest.fixture(scope="module")
def copy() -> Iterator[Copy]:
    from api.app import app

    with USERS.open(encoding="utf-8") as handle:
        users = list(csv.DictReader(handle))
    with TERRITORY.open(encoding="utf-8") as handle:
        territory = list(csv.DictReader(handle))
    load_demo()
    with TestClient(app) as client:
        _scene(client, users)
    raw = _raw_bytes()
    yield Copy(raw, raw.decode("utf-8", errors="replace"), territory, users)


def _forms(text: str) -> set[str]:
    """A name as written, and as a search index stores it (folded)."""
    return {text, fold(text), text.lower(), text.upper()}


def _found(copy: Copy, names: set[str]) -> list[str]:
    return sorted(n for name in names for n in _forms(name) if n and n in copy.text)


def test_a_copy_names_no_company(copy: Copy) -> None:
    names = {row["company"] for row in copy.territory} | {LEGAL_NAME, BRAND, IMPORTED_NAME}
    names |= {name for name, *_ in POOLED}
    assert _found(copy, names) == []
    sirets = {row["siret"] for row in copy.territory} | {SIRET, IMPORTED_SIRET}
    sirets |= {siret for _, siret, *_ in POOLED}
    numbers = sirets | {s[:9] for s in sirets}
    assert sorted(n for n in numbers if n.encode() in copy.raw) == []


def test_a_copy_holds_no_distinctive_site_name(copy: Copy) -> None:
    pooled = {site_name for _, _, site_name, _ in POOLED}
    assert _found(copy, {SITE_NAME, *DISTINCTIVE_DEMO_SITES, *pooled}) == []


def test_a_copy_holds_no_user_email(copy: Copy) -> None:
    emails = {row["email"] for row in copy.users} | {ADMIN_EMAIL}
    assert sorted(e for e in emails if e.lower() in copy.text.lower()) == []


def test_a_copy_holds_no_commune(copy: Copy) -> None:
    assert _found(copy, {COMMUNE}) == []


def test_a_copy_holds_no_registered_contact_name(copy: Copy) -> None:
    assert _found(copy, {CONTACT}) == []


def test_a_copy_holds_no_person_name(copy: Copy) -> None:
    assert _found(copy, {STRANGER}) == []


def _coordinates(copy: Copy) -> list[float]:
    values = [POSITION[0], POSITION[1]]
    for *_, position in POOLED:
        values += list(position)
    for row in copy.territory:
        values += [float(row["latitude"]), float(row["longitude"])]
    return values


def _three_decimals(text: str) -> set[str]:
    """Every number written with at least three decimals, cut to three, with a point; not the
    seconds of a time of day ("09:03:50.851234"), which the file holds by the thousand and which
    fall on the territory's latitudes (50.8–51.0) by chance."""
    return {
        f"{whole}.{decimals}"
        for whole, decimals in re.findall(r"(?<![\d.:])(-?\d{1,3})[.,](\d{3})", text)
    }


def _eight_byte_floats(raw: bytes) -> set[float]:
    """Every 8-byte window of the file read as a double, both byte orders (SQLite writes REAL
    big-endian), at every alignment: numpy reads the 8 shifted views at once."""
    found: set[float] = set()
    for start in range(8):
        usable = (len(raw) - start) // 8 * 8
        window = raw[start : start + usable]
        for order in (">f8", "<f8"):
            found.update(np.frombuffer(window, dtype=order).tolist())
    return found


def test_a_copy_holds_no_exact_coordinate(copy: Copy) -> None:
    coordinates = _coordinates(copy)
    written = _three_decimals(copy.text)
    as_text = sorted({v for v in coordinates if f"{v:.3f}" in written})
    stored = _eight_byte_floats(copy.raw)
    as_float = sorted({v for v in coordinates if v in stored or round(v, 3) in stored})
    assert (as_text, as_float) == ([], [])
