"""A territory imported as plants write it: requests without LoW code, in French and in
English, described by their use and their sector, still meet the right residues."""

from __future__ import annotations

from collections import defaultdict

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from marketplace.flows.models import Flow
from marketplace.matching.models import Match
from tests.test_import import HEADER, csv_of, import_file, make_siret, staff_headers

# company, NACE, position, direction, LoW code, label, description
ROWS = [
    (
        "Centrale Nord SAS",
        "35.11Z",
        (51.02, 2.20),
        "offer",
        "10 01 05",
        "Gypse de désulfuration",
        "",
    ),
    ("Centrale Nord SAS", "35.11Z", (51.02, 2.20), "offer", "10 01 02", "Cendres volantes", ""),
    ("Papeterie Sud SA", "17.12Z", (50.95, 2.40), "offer", "03 03 05", "Boues de désencrage", ""),
    ("Entrepôt Ouest SAS", "52.10B", (50.99, 2.10), "offer", "15 01 03", "Palettes bois", ""),
    (
        "Brasserie Est SARL",
        "11.05Z",
        (50.97, 2.45),
        "offer",
        "02 07 01",
        "Drêches de brasserie",
        "",
    ),
    (
        "Plâtrerie SAS",
        "2362",
        (51.03, 2.30),
        "request",
        "",
        "Gypse naturel pour plaques de plâtre",
        "",
    ),
    (
        "Cimenterie SAS",
        "23.51",
        (51.00, 2.33),
        "request",
        "",
        "Ajouts cimentaires",
        "substitution du clinker",
    ),
    (
        "Brickworks Ltd",
        "23.32Z",
        (50.93, 2.35),
        "request",
        "",
        "Raw material for bricks",
        "pore-forming agent",
    ),
    ("Pallet Repair Ltd", "16.24Z", (50.98, 2.22), "request", "", "Used pallets to repair", ""),
    (
        "Dairy Farm GAEC",
        "01.41Z",
        (50.96, 2.38),
        "request",
        "",
        "Feed for dairy cows",
        "wet feed for the herd",
    ),
]
# Each request's label, and the offer it must find among its three best.
EXPECTED = {
    "Gypse naturel pour plaques de plâtre": "Gypse de désulfuration",
    "Ajouts cimentaires": "Cendres volantes",
    "Raw material for bricks": "Boues de désencrage",
    "Used pallets to repair": "Palettes bois",
    "Feed for dairy cows": "Drêches de brasserie",
}


def _csv() -> bytes:
    sirets: dict[str, str] = {}
    lines = []
    for n, (company, nace, (lat, lon), direction, code, label, description) in enumerate(ROWS):
        siret = sirets.setdefault(company, make_siret(40_000_000 + n * 7))
        lines.append(
            f'"{company}",{siret},{nace},Site {company},{lat},{lon},{direction},material,{code},'
            f'"{label}",1000,t,year,continuous,,,"{description}"'
        )
    return csv_of(*lines, header=HEADER)


def test_requests_written_without_codes_meet_their_residues_in_the_top_three(
    client: TestClient, session: Session
) -> None:
    job = import_file(client, staff_headers(session), _csv())
    assert job["status"] == "done", job
    session.expire_all()
    labels = {f.id: f.label for f in session.exec(select(Flow))}
    assert all(f.low_code is None for f in session.exec(select(Flow)) if f.direction == "request")
    ranked: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for match in session.exec(select(Match)):
        ranked[labels[match.request_flow_id]].append((match.score, labels[match.offer_flow_id]))
    top3 = {
        request: [o for _, o in sorted(pairs, reverse=True)[:3]]
        for request, pairs in ranked.items()
    }
    missed = {r: top3.get(r) for r, offer in EXPECTED.items() if offer not in top3.get(r, [])}
    assert missed == {}
