"""The synergy engine: explained matches for the facilitator (flows as they are) and for members
(scored on the public cards only), computed after commit when flows change."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from typing import Any

import numpy as np
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from api.cli import app as cli
from marketplace.accounts.models import Role
from marketplace.matching import service
from marketplace.matching.models import Match
from marketplace.matching.plan import PlanPair, solve
from privacy.models import AuditEntry
from tests.factories import (
    bearer,
    create_company_row,
    create_flow_row,
    create_site_row,
    create_user_row,
)
from tests.members import member, publication_run, publish

DUNKERQUE = (51.0343, 2.3768)
GRAVELINES = (50.9862, 2.1281)  # ~19 km from Dunkerque
LOON = (51.0000, 2.2200)  # ~12 km
MARDYCK = (51.0200, 2.3400)  # ~3 km
LILLE = (50.6292, 3.0573)  # ~65 km


def _company(session: Session, name: str, nace: str, position: tuple[float, float]) -> Any:
    company = create_company_row(session, name, nace=nace)
    site = create_site_row(session, company, f"Site {name}", *position)
    return company, site


def _matches(session: Session, flow_id: uuid.UUID) -> list[Match]:
    session.expire_all()
    query = select(Match).where(
        (col(Match.offer_flow_id) == flow_id) | (col(Match.request_flow_id) == flow_id)
    )
    return sorted(session.exec(query).all(), key=lambda m: -m.score)


def staff_headers(session: Session) -> dict[str, str]:
    return bearer(session, create_user_row(session, Role.FACILITATOR))


def test_a_request_without_code_meets_the_residue_its_sector_and_words_name(
    session: Session,
) -> None:
    """A cement plant asks for « ajouts cimentaires » with no LoW code: fly ash and slag come
    first, a pallet offer nowhere."""
    _, power = _company(session, "Centrale Test SAS", "35.11Z", GRAVELINES)
    _, steel = _company(session, "Aciérie Test SA", "24.10Z", LOON)
    _, depot = _company(session, "Logistique Test SAS", "52.10B", DUNKERQUE)
    _, cement = _company(session, "Cimenterie Test SAS", "23.51Z", DUNKERQUE)
    ash = create_flow_row(session, power, label="Cendres volantes", low_code="10 01 02")
    slag = create_flow_row(session, steel, label="Laitier de haut fourneau", low_code="10 02 02")
    pallets = create_flow_row(session, depot, label="Palettes bois", low_code="15 01 03")
    need = create_flow_row(
        session,
        cement,
        direction="request",
        label="Ajouts cimentaires",
        low_code=None,
        description="matières de substitution au clinker",
        quantity=50000,
    )
    found = {m.offer_flow_id: m for m in _matches(session, need.id)}
    assert set(found) >= {ash.id, slag.id}
    assert pallets.id not in found
    best = found[ash.id]
    assert 0 < best.score <= 1
    (explained,) = service.explain(session, [best])
    assert [c["criterion"] for c in explained.breakdown] == [
        "material",
        "distance",
        "quantity",
        "timing",
        "quality",
        "precision",
    ]
    material = explained.breakdown[0]
    assert material["score"] >= 0.6 and material["reason"]


def test_heat_travels_a_few_kilometres_and_a_company_never_matches_itself(
    session: Session,
) -> None:
    _, near = _company(session, "Usine Chaleur Près SAS", "10.62Z", MARDYCK)
    _, far = _company(session, "Usine Chaleur Loin SAS", "10.62Z", LILLE)
    owner, greenhouse = _company(session, "Serres Test SAS", "01.13Z", DUNKERQUE)
    heat = {"kind": "heat", "low_code": None, "unit": "MWh", "quantity": 5000}
    close = create_flow_row(session, near, label="Chaleur fatale", temperature_c=80, **heat)
    distant = create_flow_row(session, far, label="Chaleur fatale", temperature_c=80, **heat)
    own = create_flow_row(session, greenhouse, label="Chaleur interne", temperature_c=80, **heat)
    need = create_flow_row(
        session,
        greenhouse,
        direction="request",
        label="Chauffage des serres",
        temperature_c=60,
        **heat,
    )
    offers = {m.offer_flow_id for m in _matches(session, need.id)}
    assert close.id in offers
    assert distant.id not in offers  # 65 km: beyond what heat travels
    assert own.id not in offers  # the same company: nothing to broker
    assert owner is not None


def test_matches_follow_edits_and_withdrawals(client: TestClient, session: Session) -> None:
    company, power = _company(session, "Centrale Suivi SAS", "35.11Z", GRAVELINES)
    admin = bearer(session, create_user_row(session, Role.COMPANY_ADMIN, company))
    _, plaster = _company(session, "Plâtrerie Suivi SAS", "23.62Z", DUNKERQUE)
    gypsum = create_flow_row(session, power, label="Gypse de désulfuration", low_code="10 01 05")
    need = create_flow_row(
        session,
        plaster,
        direction="request",
        label="Gypse naturel pour plaques de plâtre",
        low_code=None,
    )
    assert [m.offer_flow_id for m in _matches(session, need.id)] == [gypsum.id]
    withdrawn = client.post(f"/api/v1/flows/{gypsum.id}/withdraw", headers=admin)
    assert withdrawn.status_code == 200, withdrawn.text
    assert _matches(session, need.id) == []


def _published_pair(client: TestClient, session: Session) -> tuple[Any, list[Any]]:
    """A cement plant's request, and three power stations' fly ash published in one cell."""
    cement = member(
        session,
        "Cimenterie Lecture SAS",
        DUNKERQUE,
        direction="request",
        label="Cendres volantes pour ajout cimentier",
        low_code="10 01 02",
        quantity=40000,
    )
    offers = [
        member(session, f"Centrale Lecture {i} SAS", (50.99 + i * 0.003, 2.13), quantity=20000)
        for i in range(3)
    ]
    for offer in offers:
        publish(client, offer)
    publication_run(session)
    return cement, offers


def test_a_member_sees_its_matches_as_public_cards_with_reasons(
    client: TestClient, session: Session
) -> None:
    cement, offers = _published_pair(client, session)
    answer = client.get(f"/api/v1/flows/{cement.flow_id}/matches", headers=cement.headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert len(body["matches"]) == 3
    first = body["matches"][0]
    assert 0 < first["score"] <= 1
    assert {r["criterion"] for r in first["why"]} >= {"material", "distance", "quantity"}
    card = first["counterpart"]
    assert card["distance_band"] == "10–30 km"
    # The estimate's transport rests on the band's middle, and says so.
    assert any("middle of the distance band" in n for n in first["estimate"]["notes"])
    # Only the card: no flow id, company, exact quantity or position in the answer.
    text = json.dumps(body)
    for offer in offers:
        assert str(offer.flow_id) not in text
    assert "20000" not in text and "Centrale" not in text


def test_a_members_score_moves_only_with_what_the_card_shows(
    client: TestClient, session: Session
) -> None:
    """An owner edits a counterpart's exact quantity inside its class: the member's answer does
    not change by a digit (no oracle on quantities); the facilitator's stored score does."""
    cement, offers = _published_pair(client, session)
    url = f"/api/v1/flows/{cement.flow_id}/matches"
    before = client.get(url, headers=cement.headers).json()
    stored_before = {m.offer_flow_id: m.score for m in _matches(session, cement.flow_id)}
    edit = client.patch(
        f"/api/v1/flows/{offers[0].flow_id}", headers=offers[0].headers, json={"quantity": 25000}
    )
    assert edit.status_code == 200, edit.text
    assert client.get(url, headers=cement.headers).json() == before
    stored_after = {m.offer_flow_id: m.score for m in _matches(session, cement.flow_id)}
    assert stored_after[offers[0].flow_id] != stored_before[offers[0].flow_id]


def test_another_companys_flow_is_not_found_like_a_missing_one(
    client: TestClient, session: Session
) -> None:
    cement, offers = _published_pair(client, session)
    theirs = client.get(f"/api/v1/flows/{offers[0].flow_id}/matches", headers=cement.headers)
    missing = client.get(f"/api/v1/flows/{uuid.uuid4()}/matches", headers=cement.headers)
    assert theirs.status_code == missing.status_code == 404
    assert {k: v for k, v in theirs.json().items() if k != "request_id"} == {
        k: v for k, v in missing.json().items() if k != "request_id"
    }
    assert (
        client.get(
            "/api/v1/matches", params={"flow_id": str(cement.flow_id)}, headers=cement.headers
        ).status_code
        == 403
    )


def test_a_brokered_only_counterpart_shows_only_once_the_facilitator_suggests_it(
    client: TestClient, session: Session
) -> None:
    cement = member(
        session,
        "Cimenterie Seule SAS",
        DUNKERQUE,
        direction="request",
        label="Cendres volantes",
        low_code="10 01 02",
    )
    lone = member(session, "Centrale Seule SAS", GRAVELINES, quantity=20000)
    publish(client, lone)  # alone in its cell: brokered only
    publication_run(session)
    url = f"/api/v1/flows/{cement.flow_id}/matches"
    quiet = client.get(url, headers=cement.headers).json()
    assert quiet["matches"] == [] and quiet["facilitator_has_counterpart"] is False

    staff = staff_headers(session)
    stored = client.get("/api/v1/matches", params={"flow_id": str(cement.flow_id)}, headers=staff)
    assert stored.status_code == 200, stored.text
    [match] = stored.json()
    assert match["offer_flow_id"] == str(lone.flow_id) and match["distance_km"] > 0
    suggested = client.post(f"/api/v1/matches/{match['id']}/suggest", headers=staff)
    assert suggested.status_code == 200 and suggested.json()["suggested_at"]
    told = client.get(url, headers=cement.headers).json()
    assert told["matches"] == [] and told["facilitator_has_counterpart"] is True


def test_the_command_prints_every_offers_ranked_requests_and_logs_identity_reads(
    session: Session,
) -> None:
    create_user_row(session, Role.FACILITATOR)
    _, power = _company(session, "Centrale Commande SAS", "35.11Z", GRAVELINES)
    _, cement = _company(session, "Cimenterie Commande SAS", "23.51Z", DUNKERQUE)
    _, plaster = _company(session, "Plâtrerie Commande SAS", "23.62Z", LOON)
    create_flow_row(session, power, label="Cendres volantes", low_code="10 01 02")
    create_flow_row(session, cement, direction="request", label="Ajouts cimentaires", low_code=None)
    create_flow_row(session, plaster, direction="request", label="Cendres", low_code="10 01 02")
    session.exec(select(Match)).all()
    reads_before = len(session.exec(select(AuditEntry)).all())

    result = CliRunner().invoke(cli, ["match", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["rank"] for r in rows] == [1, 2]
    assert rows[0]["score"] >= rows[1]["score"]
    assert rows[0]["offer"] == {
        "company": "Centrale Commande SAS",
        "site": "Site Centrale Commande SAS",
        "label": "Cendres volantes",
        "low_code": "100102",
    }
    assert {r["request"]["company"] for r in rows} == {
        "Cimenterie Commande SAS",
        "Plâtrerie Commande SAS",
    }
    session.expire_all()
    reads = session.exec(select(AuditEntry)).all()[reads_before:]
    assert sum(1 for r in reads if r.action == "identity.read") == 3


def test_the_plan_splits_an_offer_where_that_is_worth_more() -> None:
    offer, near, far = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    pairs = [
        PlanPair(uuid.uuid4(), offer, near, value_per_unit=2.0),
        PlanPair(uuid.uuid4(), offer, far, value_per_unit=1.0),
        PlanPair(uuid.uuid4(), offer, far, value_per_unit=-0.5),  # costs more than it saves
    ]
    allocations = solve(pairs, supply={offer: 100.0}, demand={near: 60.0, far: 70.0})
    got = {a.pair.request: round(a.quantity, 6) for a in allocations}
    assert got == {near: 60.0, far: 40.0}
    assert round(sum(a.value for a in allocations), 6) == 160.0
    assert solve(pairs[2:], {offer: 100.0}, {far: 70.0}) == []


def test_prospects_name_sectors_to_the_owner_and_companies_to_the_facilitator(
    client: TestClient, session: Session
) -> None:
    power = member(session, "Centrale Prospects SAS", GRAVELINES, label="Cendres volantes")
    cement_company, _ = _company(session, "Cimenterie Prospects SAS", "23.51Z", DUNKERQUE)
    _company(session, "Boulangerie Prospects SAS", "10.71C", DUNKERQUE)
    url = f"/api/v1/flows/{power.flow_id}/prospects"
    own = client.get(url, headers=power.headers)
    assert own.status_code == 200, own.text
    sectors = {s["nace"] for s in own.json()["sectors"]}
    assert any("23.51".startswith(s) or s.startswith("23.5") for s in sectors)
    assert own.json()["companies"] == []  # who is in the territory is not the owner's to learn

    staff = client.get(url, headers=staff_headers(session))
    assert staff.status_code == 200, staff.text
    companies = staff.json()["companies"]
    assert [c["company_id"] for c in companies] == [str(cement_company.id)]
    assert 15 < companies[0]["distance_km"] < 25

    request = member(
        session, "Cimenterie Demande SAS", DUNKERQUE, direction="request", label="Cendres"
    )
    refused = client.get(f"/api/v1/flows/{request.flow_id}/prospects", headers=request.headers)
    assert refused.status_code == 422 and refused.json()["field"] == "flow_id"
    foreign = client.get(url, headers=request.headers)
    assert foreign.status_code == 404


def test_the_territory_pass_ranks_with_the_same_numbers_as_the_full_score() -> None:
    """engine.py computes the five numeric criteria over arrays; scoring.py one pair at a time:
    on varied flows both give the same totals, so the kept pairs are the best ones."""
    from bench.matching_bench import synthetic
    from marketplace.matching.engine import _numbers, requests_side
    from marketplace.matching.scoring import WEIGHTS, quick_total

    offers, requests = synthetic("offer", 40, 11), synthetic("request", 300, 12)
    requests = [replace(r, base_unit="m3/yr") if i % 3 == 0 else r for i, r in enumerate(requests)]
    # Values the requests never hold: a state and a unit of the offer's only.
    offers += [replace(o, physical_state="powder", base_unit="MWh/yr") for o in offers[:10]]
    side = requests_side(requests)
    rows = np.arange(len(requests), dtype=np.int64)
    for offer in offers:
        same_kind = rows[[r.kind == offer.kind for r in requests]]
        km = np.full(len(same_kind), 12.0)
        vector = _numbers([offer], side, same_kind, km[None, :], 50.0)[0] / sum(WEIGHTS.values())
        scalar = [quick_total(offer, requests[i], 0.0, 12.0, 50.0) for i in same_kind]
        assert np.allclose(vector, scalar), offer


def test_a_site_moved_takes_its_flows_matches_with_it(client: TestClient, session: Session) -> None:
    company, near = _company(session, "Usine Déménage SAS", "10.62Z", MARDYCK)
    admin = bearer(session, create_user_row(session, Role.COMPANY_ADMIN, company))
    _, greenhouse = _company(session, "Serres Fixes SAS", "01.13Z", DUNKERQUE)
    heat = {"kind": "heat", "low_code": None, "unit": "MWh", "quantity": 5000}
    offer = create_flow_row(session, near, label="Chaleur fatale", temperature_c=80, **heat)
    create_flow_row(
        session,
        greenhouse,
        direction="request",
        label="Chauffage des serres",
        temperature_c=60,
        **heat,
    )
    assert len(_matches(session, offer.id)) == 1
    moved = client.patch(
        f"/api/v1/sites/{near.id}",
        headers=admin,
        json={"latitude": LILLE[0], "longitude": LILLE[1]},
    )
    assert moved.status_code == 200, moved.text
    assert _matches(session, offer.id) == []  # 65 km: beyond what heat travels


def test_the_territory_pass_keeps_each_offers_best_pairs_with_their_full_scores() -> None:
    """The territory pass shares candidates and material scores between the offers of a cell
    and drops requests beyond a group's reach before scoring: on offers clustered in a few
    cells, each offer keeps the same scores as scoring every pair one by one (among requests
    the index can reach: those sharing a key), and each kept pair's reasons add up to its
    score."""
    from bench.matching_bench import synthetic
    from marketplace.matching.candidates import offer_keys, request_keys
    from marketplace.matching.engine import KEEP, best_for_offers, requests_side
    from marketplace.matching.scoring import score_pair

    offers = synthetic("offer", 120, 21)
    requests = synthetic("request", 900, 22)
    # Several offers per cell and material, as in a dense industrial zone.
    offers += [replace(o, ref=uuid.uuid4(), company_id=uuid.uuid4()) for o in offers[:60]]
    side = requests_side(requests)
    # A worker's Side keeps each material's scores for the next task: a first pass over some
    # offers must not change what a second pass over all of them finds.
    list(best_for_offers(offers[::3], side))
    kept: dict[uuid.UUID, list[float]] = {}
    for pair in best_for_offers(offers, side):
        kept.setdefault(pair.offer.ref, []).append(pair.score)
        assert np.isclose(pair.score, sum(c.score * c.weight for c in pair.criteria))
        alone = score_pair(pair.offer, pair.request)
        assert alone is not None and np.isclose(alone.score, pair.score, atol=1e-9)
    assert len(kept) > 50
    for offer in offers:
        keys = offer_keys(offer)
        everyone = [
            s.score
            for r in requests
            if keys & request_keys(r)
            and r.company_id != offer.company_id
            and (s := score_pair(offer, r)) is not None
        ]
        expected = sorted(everyone, reverse=True)[:KEEP]
        assert np.allclose(kept.get(offer.ref, []), expected, atol=1e-9), offer


def test_a_new_request_keeps_its_best_offers_with_their_full_scores() -> None:
    """A request matched alone (best_for_request) ranks its candidate offers over arrays, each at
    its own reach and once per offer material: it keeps the same best scores as scoring every
    offer sharing a key one by one, ties broken by offer reference, each with its full reasons."""
    from bench.matching_bench import synthetic
    from marketplace.matching.candidates import offer_keys, request_keys
    from marketplace.matching.engine import KEEP, best_for_request, offers_side
    from marketplace.matching.scoring import score_pair

    offers = synthetic("offer", 1500, 31)
    # Offers in other units, states and temperatures than the requests', and twins (ties).
    offers += [replace(o, physical_state="powder", base_unit="MWh/yr") for o in offers[:40]]
    offers += [replace(o, ref=uuid.uuid4(), company_id=uuid.uuid4()) for o in offers[40:140]]
    requests = synthetic("request", 150, 32)
    requests = [replace(r, base_unit="m3/yr") if i % 4 == 0 else r for i, r in enumerate(requests)]
    side = offers_side(offers)
    found = 0
    for request in requests:
        kept = best_for_request(request, side)
        keys = request_keys(request)
        everyone = sorted(
            (-s.score, str(o.ref))
            for o in offers
            if keys & offer_keys(o)
            and o.company_id != request.company_id
            and (s := score_pair(o, request)) is not None
        )[:KEEP]
        assert [str(s.offer.ref) for s in kept] == [ref for _, ref in everyone], request
        assert np.allclose([s.score for s in kept], [-score for score, _ in everyone])
        for pair in kept:
            assert np.isclose(pair.score, sum(c.score * c.weight for c in pair.criteria))
        found += len(kept)
    assert found > 300


def test_an_offer_materials_scores_over_arrays_are_those_of_one_pair_at_a_time() -> None:
    """The territory pass scores an offer material against every request at once
    (compatibility.RequestTable); each score, its archetype and the reasons read later are what
    material_compatibility gives pair by pair, on requests as plants write them (codes of the
    same chapter or subchapter, no code, a sector alone, words naming another residue)."""
    from bench.matching_bench import synthetic
    from marketplace.matching.compatibility import (
        DeferredCompatibility,
        MaterialSide,
        RequestTable,
        material_compatibility,
    )
    from marketplace.matching.knowledge import archetypes

    requests = [
        MaterialSide("material", f.low_code, f.label, f.description, f.virgin_material, f.nace)
        for f in synthetic("request", 1_500, 31)
    ]
    requests += [
        MaterialSide("material", None, "Gypse naturel pour plaques de plâtre", "", None, "23.62Z"),
        MaterialSide("material", None, "Ajouts cimentaires", "", None, "23.51Z"),
        MaterialSide("material", None, "Raw material for bricks", "", None, "23.32Z"),
        MaterialSide("material", "10 01 02", "Cendres", "", None, "23.51Z"),
        MaterialSide("material", "10 01 99", "Résidus de centrale", "", None, None),
        MaterialSide("material", "10 02 02", "Laitier", "", None, "24.10Z"),
        MaterialSide("material", None, "Boues de papeterie", "", None, "23.51Z"),
        MaterialSide("heat", None, "Chaleur", "", None, "01.13Z"),
    ]
    offers = {
        (f.low_code, f.label): MaterialSide("material", f.low_code, f.label, f.description)
        for f in synthetic("offer", 400, 32)
        if f.kind == "material"
    }
    offers[("none", "")] = MaterialSide("material", None, "Cendres volantes de charbon", "")
    offers[("sludge", "")] = MaterialSide("material", "03 03 11", "Boues de papeterie", "")
    table, ids = RequestTable(requests), archetypes()
    assert len(offers) > 60
    won = 0
    for offer in offers.values():
        scores, chosen = table.scores(offer)
        for request, score, index in zip(requests, scores, chosen.tolist(), strict=True):
            one = material_compatibility(offer, request)
            assert score == one.score, (offer, request)
            archetype_id = ids[index].id if index >= 0 else None
            if one.score > 0:
                assert archetype_id == one.archetype_id, (offer, request)
                won += archetype_id is not None
                deferred = DeferredCompatibility(score, archetype_id, offer, request)
                assert deferred.reasons == one.reasons and deferred == one
    assert won > 1_000  # the knowledge base, not only codes, made many of them
