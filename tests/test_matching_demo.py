"""The demo territory: each pair of PRODUCT.md's table comes out in the top 3 of its offer."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from marketplace.demo.loader import load_demo
from marketplace.flows.models import Flow
from marketplace.matching import service
from marketplace.matching.models import Match
from tests.test_matching import staff_headers

# (offer's label, a request's label that must be among the offer's 3 best), one per row of the
# table of real pairs in PRODUCT.md (several flows for the rows that name several).
PRODUCT_PAIRS = [
    ("Cendres volantes de charbon", "Cendres volantes pour ajout cimentier"),
    ("Gypse de désulfuration des fumées", "Gypse de désulfuration"),
    ("Boues de gypse de désulfuration", "Boues de gypse de désulfuration"),
    ("Boues biologiques de la station interne", "Boues biologiques pour épandage"),
    ("Crème de levure inactivée", "Crème de levure pour les vaches laitières"),
    ("Chaleur fatale des eaux de refroidissement", "Chaleur pour les bassins d'élevage"),
    ("Excédent d'eau chaude de cogénération", "Chauffage des serres"),
    ("Eau de process tiède", "Eau tiède d'irrigation"),
    ("Chaleur basse température des sécheurs", "Chauffage des serres"),
    ("CO2 de fermentation", "CO2 pour la fertilisation carbonée"),
    ("Boues de désencrage", "Boues de papeterie comme agent porogène"),
    ("Boues de fibres et de charges", "Boues de fibres de papeterie"),
    ("Laitier de haut fourneau non traité", "Laitier concassé pour couches de forme"),
    ("Gaz de haut fourneau excédentaire", "Gaz sidérurgiques pour la chaudière mixte"),
    ("Amidon et gluten déclassés", "Légumes et amidons déclassés"),
    ("Fibres et sons de blé humides", "Co-produits végétaux pour l'élevage de larves"),
    ("Palettes bois hors standard", "Palettes cassées à réparer"),
    ("Palettes bois hors standard", "Palettes et bois d'emballage"),
]


@pytest.fixture
def ranked(session: Session) -> dict[str, list[str]]:
    """Each demo offer's requests, best first, as the facilitator's matches rank them."""
    load_demo()
    session.expire_all()
    service.match_flows(session, service.unmatched_flows(session))
    session.commit()
    labels = {f.id: f.label for f in session.exec(select(Flow))}
    found: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for match in session.exec(select(Match)):
        found[labels[match.offer_flow_id]].append((match.score, labels[match.request_flow_id]))
    return {offer: [r for _, r in sorted(pairs, reverse=True)] for offer, pairs in found.items()}


def test_each_pair_of_the_product_table_is_in_its_offers_top_three(
    ranked: dict[str, list[str]],
) -> None:
    missed = [
        (offer, request, ranked.get(offer, [])[:3])
        for offer, request in PRODUCT_PAIRS
        if request not in ranked.get(offer, [])[:3]
    ]
    assert missed == []


def test_the_plan_allocates_the_demo_within_every_quantity(
    client: TestClient, session: Session, ranked: dict[str, list[str]]
) -> None:
    answer = client.get("/api/v1/plan", headers=staff_headers(session))
    assert answer.status_code == 200, answer.text
    plan: dict[str, Any] = answer.json()
    assert plan["exchanges"] and plan["total_co2e_t_per_year"] > 0
    given: dict[str, float] = defaultdict(float)
    taken: dict[str, float] = defaultdict(float)
    for exchange in plan["exchanges"]:
        given[exchange["offer_flow_id"]] += exchange["quantity_per_year"]
        taken[exchange["request_flow_id"]] += exchange["quantity_per_year"]
    flows = {str(f.id): f for f in session.exec(select(Flow))}
    for flow_id, quantity in (given | taken).items():
        assert quantity <= flows[flow_id].quantity_per_year * (1 + 1e-6)
    by_eur = client.get("/api/v1/plan", params={"objective": "eur"}, headers=staff_headers(session))
    assert by_eur.status_code == 200 and by_eur.json()["objective"] == "eur"
