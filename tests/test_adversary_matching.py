"""Adversary: a competing member (several accounts, several companies even) writes its own data
(sites, flows, codes, words, sector, quantities, listings) and reads back
GET /api/v1/flows/{id}/matches and /prospects, hundreds of times, looking at what the difference
between two answers says about another company (PRODUCT.md, "No oracle", "No trilateration";
issue 10, "Privacy of matches").

Each test pins one guarantee: a member's matches are a function of the public cards, its own data
and the facilitator's acts only; two counterparts with one card read alike whatever their exact
site, tonnage or code; a counterpart the catalogue does not show changes nothing before the
facilitator suggests it, and the suggestion, once told, is not taken back by recomputations (that
would say what the exact facts are); prospects are the same for everyone; foreign ids read like
missing ones; the command line's identity reads are audited one by one."""

from __future__ import annotations

import json
import re
import uuid
from collections import defaultdict
from typing import Any

import h3
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from typer.testing import CliRunner

from api.cli import app as cli
from marketplace.accounts.models import Role
from marketplace.catalogue.models import Listing
from marketplace.companies.models import Company, Site
from marketplace.flows.models import Flow
from privacy.models import AuditEntry
from tests.factories import bearer, create_company_row, create_user_row, position_of
from tests.members import (
    CELL,
    NORD_ELSEWHERE,
    PAS_DE_CALAIS,
    Member,
    card,
    draft,
    member,
    publication_run,
    publish,
    set_quantity,
)

DUNKERQUE = (51.0343, 2.3768)
# Three power stations a few hundred metres apart: one public cell (resolution 6) near Gravelines.
GRAVELINES_CELL = [(50.99 + i * 0.003, 2.13) for i in range(3)]
# Within fly ash's 300 km of Dunkerque, each in a région of its own.
ROUEN = (49.4431, 1.0993)
REIMS = (49.2583, 4.0317)
PARIS = (48.8566, 2.3522)
MARSEILLE = (43.2965, 5.3698)  # ~800 km: beyond any fly ash's reach
NEAR_NORD_POINT = (50.45, 3.20)  # a few km from the Nord's published point (pools' location)
SIX_DIGITS = re.compile(r"\b\d\d ?\d\d ?\d\d\b")


# --- the attacker's moves, through the API -----------------------------------------------------


def matches(client: TestClient, owner: Member, flow_id: Any = None) -> dict[str, Any]:
    response = client.get(
        f"/api/v1/flows/{flow_id or owner.flow_id}/matches",
        headers=owner.headers,
        params={"limit": 50},
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def shape(match: dict[str, Any]) -> str:
    """A member's match without the counterpart's listing id: what two cards' matches share."""
    counterpart = {k: v for k, v in match["counterpart"].items() if k != "id"}
    return json.dumps({**match, "counterpart": counterpart}, sort_keys=True, ensure_ascii=False)


def new_site(client: TestClient, owner: Member, name: str, position: tuple[float, float]) -> str:
    body = {"name": name, "latitude": position[0], "longitude": position[1]}
    response = client.post("/api/v1/sites", headers=owner.headers, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def edit(client: TestClient, owner: Member, flow_id: Any = None, **changes: Any) -> None:
    response = client.patch(
        f"/api/v1/flows/{flow_id or owner.flow_id}", headers=owner.headers, json=changes
    )
    assert response.status_code == 200, response.text


def company_of(session: Session, owner: Member) -> Company:
    flow = session.get(Flow, owner.flow_id)
    assert flow is not None
    company = session.get(Company, flow.company_id)
    assert company is not None
    return company


def staff_headers(session: Session) -> dict[str, str]:
    return bearer(session, create_user_row(session, Role.FACILITATOR))


def stored(client: TestClient, staff: dict[str, str], flow_id: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/matches", params={"flow_id": str(flow_id)}, headers=staff)
    assert response.status_code == 200, response.text
    return list(response.json())


def cement_request(session: Session, name: str = "Cimenterie Curieuse SAS") -> Member:
    return member(
        session,
        name,
        DUNKERQUE,
        direction="request",
        label="Cendres volantes pour ajout cimentier",
        low_code="10 01 02",
        quantity=40_000,
    )


def public_trio(
    client: TestClient, session: Session
) -> tuple[Member, list[Member], dict[str, str]]:
    """The cement plant's request, the three power stations' public fly ash, the facilitator."""
    return cement_request(session), fly_ash_cell(client, session), staff_headers(session)


def fly_ash_cell(
    client: TestClient, session: Session, tonnages: tuple[float, ...] = (20_000,) * 3
) -> list[Member]:
    """Three power stations' fly ash, published and shown in one cell."""
    rivals = [
        member(session, f"Centrale Cellule {i} SAS", GRAVELINES_CELL[i], quantity=q)
        for i, q in enumerate(tonnages)
    ]
    for rival in rivals:
        publish(client, rival)
    publication_run(session)
    return rivals


# --- trilateration and quantity ------------------------------------------------------------------


def test_counterparts_with_one_card_read_alike_whatever_their_exact_site_and_tonnage(
    client: TestClient, session: Session
) -> None:
    attacker = cement_request(session)
    # One class (10 000 – 100 000 t), one public cell, three exact sites and tonnages.
    rivals = fly_ash_cell(client, session, (12_000, 20_000, 90_000))
    answer = matches(client, attacker)
    assert len(answer["matches"]) == 3
    assert {m["counterpart"]["location_level"] for m in answer["matches"]} == {"cell"}
    assert len({shape(m) for m in answer["matches"]}) == 1, "the exact facts show through"
    # The facilitator's matches are scored on the flows as they are: they do differ.
    exact = stored(client, staff_headers(session), attacker.flow_id)
    assert {m["offer_flow_id"] for m in exact} == {str(r.flow_id) for r in rivals}
    assert len({m["score"] for m in exact}) == 3


def test_moving_ones_flow_between_own_sites_teaches_the_band_and_nothing_finer(
    client: TestClient, session: Session
) -> None:
    """No site-move limit applies to moving a flow to another of one's sites (each site is
    created once): the answer must still depend on the band alone."""
    attacker = cement_request(session)
    fly_ash_cell(client, session)
    positions = [
        (50.985, 2.140),
        (50.975, 2.160),
        (50.995, 2.170),
        DUNKERQUE,
        (51.020, 2.330),
        (50.960, 2.300),
        (50.630, 3.060),
        (50.700, 2.900),
    ]
    by_band: dict[str, set[str]] = defaultdict(set)
    for i, position in enumerate(positions):
        edit(client, attacker, site_id=new_site(client, attacker, f"Dépôt {i}", position))
        for match in matches(client, attacker)["matches"]:
            by_band[match["counterpart"]["distance_band"]].add(shape(match))
            [distance] = [r for r in match["why"] if r["criterion"] == "distance"]
            assert set(distance["params"]) == {"band", "reach_km"}
    assert len(by_band) >= 3, by_band.keys()
    for band, seen in by_band.items():
        assert len(seen) == 1, f"two sites in band {band} read differently"


def test_a_counterpart_moving_inside_its_public_cell_changes_nothing(
    client: TestClient, session: Session
) -> None:
    attacker, rivals, staff = public_trio(client, session)
    before = matches(client, attacker)
    distances = {
        m["offer_flow_id"]: m["distance_km"] for m in stored(client, staff, attacker.flow_id)
    }
    # The victim moves its flow to another of its sites: another resolution-7 cell of the same
    # public cell (resolution 6).
    victim = rivals[0]
    site = session.get(Site, victim.site_id)
    assert site is not None
    own_cell = h3.latlng_to_cell(*position_of(session, site), 7)
    parent = h3.cell_to_parent(own_cell, 6)
    for i, cell in enumerate(sorted(h3.grid_disk(own_cell, 2))):
        if cell == own_cell or h3.cell_to_parent(cell, 6) != parent:
            continue
        latitude, longitude = h3.cell_to_latlng(cell)
        body = {"name": f"Quai {i}", "latitude": latitude, "longitude": longitude}
        created = client.post("/api/v1/sites", headers=victim.headers, json=body)
        if created.status_code == 201:  # on land, in France
            edit(client, victim, site_id=created.json()["id"])
            break
    else:
        pytest.fail("no other resolution-7 cell of the public cell on land")
    publication_run(session)
    assert matches(client, attacker) == before
    moved = {m["offer_flow_id"]: m["distance_km"] for m in stored(client, staff, attacker.flow_id)}
    assert moved[str(victim.flow_id)] != distances[str(victim.flow_id)]


def test_sweeping_ones_own_quantity_reads_the_same_whatever_the_counterparts_tonnages(
    client: TestClient, session: Session
) -> None:
    """Coverage percentages, the estimate's quantity, € and CO₂e a year move with the attacker's
    own quantity: their edges are the class's representative's, never a counterpart's tonnage."""
    attacker = cement_request(session)
    rivals = fly_ash_cell(client, session)
    sweep = (100, 3_000, 25_000, 31_622, 31_623, 40_000, 1_000_000)

    def transcript() -> list[list[str]]:
        seen = []
        for quantity in sweep:
            set_quantity(client, attacker, quantity)
            seen.append([shape(m) for m in matches(client, attacker)["matches"]])
        return seen

    first = transcript()
    set_quantity(client, rivals[0], 95_000)
    set_quantity(client, rivals[1], 10_500)
    publication_run(session)
    assert transcript() == first
    text = json.dumps(first)
    for tonnage in ("20000", "95000", "10500"):
        assert tonnage not in text


def test_a_dominated_pools_unit_is_not_read_through_the_quantity_reason(
    client: TestClient, session: Session
) -> None:
    """A pool one company dominates shows « présent », no unit; a gas is metered in m³ or MWh.
    The member's quantity criterion must not say "stated in different units" for one and "not
    stated" for the other."""
    staff = staff_headers(session)
    gas: dict[str, Any] = {"kind": "gas", "low_code": None, "label": "Gaz de récupération"}
    attacker = member(
        session,
        "Verrerie Curieuse SAS",
        NEAR_NORD_POINT,
        direction="request",
        unit="m3",
        quantity=50_000,
        **gas,
    )
    positions = [CELL[0], NORD_ELSEWHERE[0], NORD_ELSEWHERE[1]]
    for unit in ("MWh", "m3"):
        contributors = [
            member(session, f"Aciérie {unit} {i} SA", position, unit=unit, quantity=q, **gas)
            for i, (position, q) in enumerate(zip(positions, (10_000, 10, 10), strict=True))
        ]
        body = {
            "flow_ids": [str(m.flow_id) for m in contributors],
            "area": "departement",
            "title": "Gaz de récupération mutualisé",
        }
        pool = client.post("/api/v1/pools", headers=staff, json=body)
        assert pool.status_code == 201, pool.text
        published = client.post(f"/api/v1/listings/{pool.json()['id']}/publish", headers=staff)
        assert published.status_code == 200, published.text
        assert card(client, pool.json()["id"])["quantity_class"] == "présent"  # type: ignore[index]
    pooled = [m for m in matches(client, attacker)["matches"] if m["counterpart"]["aggregated"]]
    assert len(pooled) == 2
    assert len({shape(m) for m in pooled}) == 1, [
        r["code"] for m in pooled for r in m["why"] if r["criterion"] == "quantity"
    ]


# --- material ------------------------------------------------------------------------------------


def test_a_subchapter_card_hides_its_code_whatever_the_request_says(
    client: TestClient, session: Session
) -> None:
    """Three legal units with three codes of 10 01: each card shows the subchapter. The attacker
    rewrites its request's code, words and sector: the three cards' matches stay alike, and no
    reason names a six-digit code but its own."""
    codes = ("10 01 01", "10 01 02", "10 01 05")
    places = (NORD_ELSEWHERE[0], NORD_ELSEWHERE[1], PAS_DE_CALAIS)
    rivals = [
        member(session, f"Centrale Code {i} SAS", place, low_code=code, label="Résidus de centrale")
        for i, (code, place) in enumerate(zip(codes, places, strict=True))
    ]
    for rival in rivals:
        publish(client, rival)
    publication_run(session)
    cards = [card(client, publish_id) for publish_id in _listing_ids(session, rivals)]
    assert all(c and c["low_code"] is None and c["low_subchapter"] == "1001" for c in cards)

    attacker = cement_request(session)
    company = company_of(session, attacker)
    variants: list[tuple[str, dict[str, Any]]] = [
        ("23.51Z", {"low_code": "10 01 02", "label": "Cendres volantes"}),
        ("23.51Z", {"low_code": "10 01 05", "label": "Gypse de désulfuration"}),
        ("23.51Z", {"low_code": "10 01 01", "label": "Mâchefers"}),
        ("23.62Z", {"low_code": None, "label": "Gypse naturel pour plaques de plâtre"}),
        ("23.51Z", {"low_code": None, "label": "Ajouts cimentaires"}),
        ("23.32Z", {"low_code": None, "label": "Matière première pour briques"}),
    ]
    seen_any = False
    for nace, changes in variants:
        renamed = client.patch(
            f"/api/v1/companies/{company.id}", headers=attacker.headers, json={"nace": nace}
        )
        assert renamed.status_code == 200, renamed.text
        edit(client, attacker, **changes)
        found = matches(client, attacker)["matches"]
        assert len(found) in (0, 3), (changes, len(found))
        assert len({shape(m) for m in found}) <= 1, f"{changes}: the hidden codes show through"
        own = (changes["low_code"] or "").replace(" ", "")
        for match in found:
            named = {c.replace(" ", "") for c in SIX_DIGITS.findall(json.dumps(match["why"]))}
            assert named <= {own}, f"{changes}: reasons name {named}"
        seen_any = seen_any or bool(found)
    assert seen_any


def _listing_ids(session: Session, owners: list[Member]) -> list[str]:
    session.expire_all()
    ids = []
    for owner in owners:
        listing = session.exec(select(Listing).where(Listing.flow_id == owner.flow_id)).one()
        ids.append(str(listing.id))
    return ids


# --- existence -----------------------------------------------------------------------------------


def test_counterparts_the_catalogue_does_not_show_change_nothing(
    client: TestClient, session: Session
) -> None:
    """Brokered only, waiting for the run, a draft, an unlisted flow, a paused or withdrawn
    listing: the engine sees every active one, the member's answer is byte for byte the answer
    without them (count, order, cards, flag)."""
    attacker = cement_request(session)
    fly_ash_cell(client, session)
    staff = staff_headers(session)
    baseline = matches(client, attacker)
    assert len(baseline["matches"]) == 3 and baseline["facilitator_has_counterpart"] is False

    lone = member(session, "Centrale Rouen SAS", ROUEN, quantity=50_000)
    publish(client, lone)
    publication_run(session)
    [lone_listing] = _listing_ids(session, [lone])
    assert card(client, lone_listing) is None  # brokered only
    assert matches(client, attacker) == baseline

    fourth = member(session, "Centrale Quatrième SAS", (50.993, 2.135), quantity=5_000)
    fourth_listing = publish(client, fourth)
    assert len(matches(client, attacker)["matches"]) == 4  # shown: it joined the public cell
    paused = client.post(f"/api/v1/listings/{fourth_listing}/pause", headers=fourth.headers)
    assert paused.status_code == 200, paused.text
    assert matches(client, attacker) == baseline
    withdrawn = client.post(f"/api/v1/flows/{fourth.flow_id}/withdraw", headers=fourth.headers)
    assert withdrawn.status_code == 200, withdrawn.text
    assert matches(client, attacker) == baseline

    waiting = member(session, "Centrale Reims SAS", REIMS)
    publish(client, waiting)  # no public cell of its own yet: it waits for the next run
    drafted = member(session, "Centrale Paris SAS", PARIS)
    draft(client, drafted)
    unlisted = member(session, "Centrale Lille SAS", NORD_ELSEWHERE[2])
    assert matches(client, attacker) == baseline

    hidden = {str(m.flow_id) for m in (lone, waiting, drafted, unlisted)}
    assert hidden <= {m["offer_flow_id"] for m in stored(client, staff, attacker.flow_id)}


# --- prospects -----------------------------------------------------------------------------------


def test_prospects_are_the_same_for_every_owner_of_the_same_residue(
    client: TestClient, session: Session
) -> None:
    """Sectors from the knowledge base only: neither who is in the territory nor where the
    offer lies changes the owner's answer."""

    def prospects(owner: Member) -> dict[str, Any]:
        response = client.get(f"/api/v1/flows/{owner.flow_id}/prospects", headers=owner.headers)
        assert response.status_code == 200, response.text
        return {k: v for k, v in response.json().items() if k != "flow_id"}

    here = member(session, "Centrale Prospecte SAS", GRAVELINES_CELL[0])
    elsewhere = member(session, "Centrale Lointaine SAS", MARSEILLE)
    alone = prospects(here)
    assert alone["sectors"] and alone["companies"] == []
    for i, nace in enumerate(("23.51Z", "23.62Z", "23.61Z", "42.11Z")):
        create_company_row(session, f"Preneur {i} SAS", nace=nace)
    member(session, "Cimenterie Voisine SAS", DUNKERQUE, direction="request", label="Cendres")
    assert prospects(here) == alone == prospects(elsewhere)
    staff = client.get(f"/api/v1/flows/{here.flow_id}/prospects", headers=staff_headers(session))
    assert staff.status_code == 200 and staff.json()["companies"]  # the facilitator's only


# --- ids and identities --------------------------------------------------------------------------


def test_foreign_ids_read_like_missing_ones_and_answers_name_no_one(
    client: TestClient, session: Session
) -> None:
    attacker, rivals, staff = public_trio(client, session)
    [match] = [
        m
        for m in stored(client, staff, attacker.flow_id)
        if m["offer_flow_id"] == str(rivals[0].flow_id)
    ]
    missing = uuid.uuid4()

    def same(method: str, url: str, foreign: Any, **kwargs: Any) -> int:
        answers = [
            client.request(method, url.format(id), headers=attacker.headers, **kwargs)
            for id in (foreign, missing)
        ]
        bodies = [{k: v for k, v in a.json().items() if k != "request_id"} for a in answers]
        assert answers[0].status_code == answers[1].status_code, url
        assert bodies[0] == bodies[1], url
        return answers[0].status_code

    foreign_flow = rivals[0].flow_id
    assert same("GET", "/api/v1/flows/{}/matches", foreign_flow) == 404
    assert same("GET", "/api/v1/flows/{}/prospects", foreign_flow) == 404
    assert same("POST", "/api/v1/matches/{}/suggest", match["id"]) == 403
    assert same("GET", "/api/v1/matches?flow_id={}", foreign_flow) == 403
    assert same("GET", "/api/v1/matches?flow_id={}", attacker.flow_id) == 403
    assert client.get("/api/v1/plan", headers=attacker.headers).status_code == 403
    assert stored(client, staff, attacker.flow_id)[0]["suggested_at"] is None

    text = json.dumps(matches(client, attacker), ensure_ascii=False)
    for rival in rivals:
        company = company_of(session, rival)
        site = session.get(Site, rival.site_id)
        assert site is not None
        for secret in (rival.flow_id, company.id, rival.site_id, rival.name, f"Site {rival.name}"):
            assert str(secret) not in text
        latitude, longitude = position_of(session, site)
        assert f"{latitude:.3f}" not in text and f"{longitude:.3f}" not in text
    assert str(match["id"]) not in text and "distance_km" not in text
    assert re.search(r'"km"', text) is None
    assert all(
        r["params"].get("archetype") is None or isinstance(r["params"]["archetype"], str)
        for m in json.loads(text)["matches"]
        for r in m["why"]
    )


# --- the facilitator's suggestion ----------------------------------------------------------------


def test_a_suggestion_is_told_for_its_flow_only_and_never_taken_back_by_an_edit(
    client: TestClient, session: Session
) -> None:
    """The facilitator suggests a brokered-only counterpart to one of the attacker's flows. The
    attacker then moves that flow out of the counterpart's reach, changes its code, and the
    counterpart itself leaves: had the flag followed the recomputed matches, its flip would have
    told where the counterpart lies (a circle of the reach around the attacker's site) or what
    it is; it stays as the facilitator left it."""
    attacker = cement_request(session)
    hidden = member(session, "Centrale Cachée SAS", GRAVELINES_CELL[0], quantity=20_000)
    publish(client, hidden)
    publication_run(session)
    staff = staff_headers(session)
    twin = client.post(
        "/api/v1/flows",
        headers=attacker.headers,
        json={
            "site_id": str(attacker.site_id),
            "direction": "request",
            "kind": "material",
            "label": "Cendres volantes pour ajout cimentier",
            "low_code": "10 01 02",
            "quantity": 40_000,
            "unit": "t",
            "period": "year",
        },
    )
    assert twin.status_code == 201, twin.text
    twin_id = twin.json()["id"]
    [pair] = stored(client, staff, attacker.flow_id)
    assert pair["offer_flow_id"] == str(hidden.flow_id)
    suggested = client.post(f"/api/v1/matches/{pair['id']}/suggest", headers=staff)
    assert suggested.status_code == 200, suggested.text

    def told(flow_id: Any = None) -> bool:
        answer = matches(client, attacker, flow_id)
        assert answer["matches"] == []  # brokered only: no detail, ever
        return bool(answer["facilitator_has_counterpart"])

    assert told() is True
    assert told(twin_id) is False  # the twin (same facts) was not suggested: no probe by copies
    far = new_site(client, attacker, "Dépôt du Sud", MARSEILLE)
    edit(client, attacker, site_id=far)  # beyond the 300 km fly ash travels
    assert stored(client, staff, attacker.flow_id)[0]["score"] == 0  # no longer a match
    assert told() is True
    edit(client, attacker, site_id=str(attacker.site_id))
    assert told() is True
    edit(client, attacker, low_code="15 01 03", label="Palettes")
    assert told() is True
    withdrawn = client.post(f"/api/v1/flows/{hidden.flow_id}/withdraw", headers=hidden.headers)
    assert withdrawn.status_code == 200, withdrawn.text
    assert told() is True
    # The facilitator still reads its suggestion; the ranking and the plan leave it out.
    [kept] = stored(client, staff, attacker.flow_id)
    assert kept["suggested_at"] and kept["score"] == 0 and kept["why"] == []
    plan = client.get("/api/v1/plan", headers=staff)
    assert plan.status_code == 200, plan.text
    assert kept["id"] not in {e["match_id"] for e in plan.json()["exchanges"]}


def test_a_suggested_pair_that_matches_again_is_scored_again(
    client: TestClient, session: Session
) -> None:
    attacker = cement_request(session)
    hidden = member(session, "Centrale Revenue SAS", GRAVELINES_CELL[0], quantity=20_000)
    staff = staff_headers(session)
    [pair] = stored(client, staff, attacker.flow_id)
    suggested = client.post(f"/api/v1/matches/{pair['id']}/suggest", headers=staff)
    assert suggested.status_code == 200, suggested.text
    edit(client, attacker, site_id=new_site(client, attacker, "Dépôt du Sud", MARSEILLE))
    edit(client, attacker, site_id=str(attacker.site_id))
    [again] = stored(client, staff, attacker.flow_id)
    assert again["id"] == pair["id"] and again["offer_flow_id"] == str(hidden.flow_id)
    assert again["suggested_at"] == suggested.json()["suggested_at"]
    assert again["score"] == pair["score"] and again["why"] == pair["why"]


# --- the command line ----------------------------------------------------------------------------


def test_each_company_the_command_prints_is_one_audited_identity_read(
    client: TestClient, session: Session
) -> None:
    create_user_row(session, Role.FACILITATOR)
    buyer = cement_request(session)
    rivals = fly_ash_cell(client, session)
    bystander = member(
        session, "Négoce Lointain SAS", MARSEILLE, label="Palettes", low_code="15 01 03"
    )
    before = _audit_head(session)

    result = CliRunner().invoke(cli, ["match", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    printed = {r[side]["company"] for r in rows for side in ("offer", "request")}
    assert printed == {buyer.name, *(r.name for r in rivals)}
    reads = [e.subject_id for e in _audit_since(session, before) if e.action == "identity.read"]
    assert None not in reads
    ids = {company_of(session, m).id: m.name for m in (buyer, *rivals, bystander)}
    assert sorted(ids[r] for r in reads if r) == sorted(printed)  # each once, none unprinted


def test_the_command_refuses_a_members_account_and_reads_no_identity(
    session: Session,
) -> None:
    buyer = cement_request(session)
    company = company_of(session, buyer)
    user = create_user_row(session, Role.COMPANY_ADMIN, company, email="curieux@example.fr")
    assert user.id is not None
    before = _audit_head(session)
    result = CliRunner().invoke(cli, ["match", "--json", "--as", "curieux@example.fr"])
    assert result.exit_code != 0
    assert buyer.name not in result.output
    assert not [e for e in _audit_since(session, before) if e.action == "identity.read"]


def _audit_head(session: Session) -> int:
    return max((e.seq for e in session.exec(select(AuditEntry)).all()), default=-1)


def _audit_since(session: Session, seq: int) -> list[AuditEntry]:
    session.expire_all()
    return list(session.exec(select(AuditEntry).where(AuditEntry.seq > seq)).all())
