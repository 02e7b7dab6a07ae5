"""Contracts over HTTP before signatures: drafting from a revealed introduction, versions and
their diff, comments, the status wizard and its refusals, who may do what, and a third company
that finds nothing."""

from __future__ import annotations

import io
import uuid
from datetime import date, timedelta

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlmodel import Session, select

from core.models import utcnow
from marketplace.exchanges.models import Contract, ContractVersion
from privacy.models import AuditEntry
from tests.exchange_world import API, attach, draft, ok, propose, qualify_as_waste, revealed_deal


def test_a_draft_names_the_revealed_parties_and_the_material(
    client: TestClient, session: Session
) -> None:
    deal = revealed_deal(client, session)
    contract = draft(client, deal)
    assert contract["state"] == "draft" and contract["current_version"] == 1
    assert contract["reference"] == f"SYM-{date.today().year}-0001"
    parties = {p["role"]: p for p in contract["terms"]["parties"]}
    assert parties["giver"]["legal_name"] == deal.w.owner.secrets[0]
    assert parties["giver"]["siret"] == deal.w.owner.secrets[1]
    assert parties["giver"]["site_name"] == deal.w.owner.secrets[3]
    assert parties["taker"]["legal_name"] == deal.w.requester.secrets[0]
    assert "facilitator" in parties
    terms = contract["terms"]
    assert (terms["low_code"], terms["hazardous"], terms["unit"]) == ("10 01 02", False, "t")
    assert terms["quantity_per_year"] == 1200
    assert terms["termination"] and terms["dispute_resolution"]
    # Both parties read it; each reads its own side.
    assert ok(client.get(f"{API}/{contract['id']}", headers=deal.giver))["side"] == "giver"
    assert ok(client.get(f"{API}/{contract['id']}", headers=deal.taker))["side"] == "taker"
    assert [c["id"] for c in ok(client.get(API, headers=deal.taker))] == [contract["id"]]
    # Each party is told, in the app: which contract, never more.
    (notice,) = ok(client.get(f"{API}/notices", headers=deal.taker))
    assert (notice["kind"], notice["contract_id"]) == ("contract.drafted", contract["id"])
    assert ok(client.get(f"{API}/notices", headers=deal.third)) == []
    foreign = client.post(f"{API}/notices/{notice['id']}/read", headers=deal.giver)
    assert foreign.status_code == 404
    read = ok(client.post(f"{API}/notices/{notice['id']}/read", headers=deal.taker))
    assert read["read_at"]
    # The identities were read through the audited reveal path, naming the contract.
    reads = session.exec(select(AuditEntry).where(AuditEntry.action == "identity.reveal")).all()
    assert sum(1 for e in reads if (e.data or {}).get("contract_id") == contract["id"]) == 2

    # Each read of the terms by the facilitator is an identity read of both parties, logged as
    # its other reads are (the draft's answer included); the parties' own reads are not.
    def staff_reads() -> int:
        session.expire_all()
        entries = session.exec(select(AuditEntry).where(AuditEntry.action == "identity.read"))
        return sum(1 for e in entries if (e.data or {}).get("contract_id") == contract["id"])

    assert staff_reads() == 2
    ok(client.get(f"{API}/{contract['id']}", headers=deal.staff))
    ok(client.get(f"{API}/{contract['id']}", headers=deal.giver))
    assert staff_reads() == 4
    # Drafting is the facilitator's; a contract per introduction.
    again = {"introduction_id": deal.introduction_id}
    assert client.post(API, headers=deal.giver, json=again).status_code == 403
    twice = client.post(API, headers=deal.staff, json=again)
    assert twice.status_code == 409 and twice.json()["field"] == "introduction_id"


def test_a_third_company_finds_nothing(client: TestClient, session: Session) -> None:
    deal = revealed_deal(client, session)
    contract = draft(client, deal)
    base = f"{API}/{contract['id']}"
    for path in (
        "",
        "/versions",
        "/versions/1",
        "/diff?from_version=1&to_version=1",
        "/comments",
        "/documents",
        "/status",
        "/pdf",
        "/verify",
        "/deliveries",
        "/registers/outgoing",
    ):
        answer = client.get(base + path, headers=deal.third)
        assert answer.status_code == 404, (path, answer.text)
        assert deal.w.owner.secrets[0] not in answer.text
    for path in ("/review", "/ready", "/complete", "/terminate", "/comments", "/versions"):
        answer = client.post(base + path, headers=deal.third, json={"body": "x"})
        assert answer.status_code in (404, 422), (path, answer.text)
    assert ok(client.get(API, headers=deal.third)) == []
    session.expire_all()
    row = session.get(Contract, uuid.UUID(contract["id"]))
    assert row is not None and row.state == "draft" and row.version == contract["version"]


def test_a_new_version_with_its_diff_and_comments(client: TestClient, session: Session) -> None:
    deal = revealed_deal(client, session)
    contract = draft(client, deal)
    posted = client.post(
        f"{API}/{contract['id']}/comments",
        headers=deal.taker,
        json={"body": "Nous proposons 12 € la tonne, enlèvement par citerne."},
    )
    assert ok(posted, 201)["author_side"] == "taker"
    price = {"kind": "price", "amount_cents": 1200, "per_unit": "t", "payer": "taker"}
    changed = ok(propose(client, deal.taker, contract, price=price), 201)
    assert changed["current_version"] == 2 and changed["state"] == "draft"
    changes = ok(
        client.get(f"{API}/{contract['id']}/diff?from_version=1&to_version=2", headers=deal.giver)
    )
    fields = {c["field"]: c for c in changes["changes"]}
    assert fields["price.amount_cents"]["before"] == "0"
    assert fields["price.amount_cents"]["after"] == "1200"
    assert fields["price.kind"]["after"] == "price"
    versions = ok(client.get(f"{API}/{contract['id']}/versions", headers=deal.giver))
    assert [v["number"] for v in versions] == [1, 2]
    assert versions[0]["terms_hash"] != versions[1]["terms_hash"]
    comments = ok(client.get(f"{API}/{contract['id']}/comments", headers=deal.staff))
    assert [c["body"][:16] for c in comments] == ["Nous proposons 1"]
    entries = session.exec(select(AuditEntry).where(AuditEntry.action == "contract.version")).all()
    assert len(entries) == 2


def test_bad_inputs_are_refused_naming_the_field_and_change_nothing(
    client: TestClient, session: Session
) -> None:
    deal = revealed_deal(client, session)
    contract = draft(client, deal)
    base = f"{API}/{contract['id']}"
    start = contract["terms"]["start_date"]
    refused = [
        (propose(client, deal.staff, contract, end_date=start), 422, "terms.end_date"),
        (propose(client, deal.staff, contract, low_code="99 99 99"), 422, "terms.low_code"),
        (
            propose(client, deal.staff, contract, quantity_per_year=0),
            422,
            "terms.quantity_per_year",
        ),
        (
            client.post(
                f"{base}/versions",
                headers=deal.staff,
                json={"terms": contract["terms"], "base_version": 7},
            ),
            409,
            "base_version",
        ),
        (
            client.put(f"{base}/status", headers=deal.staff, json={"answers": {}, "r_code": "R99"}),
            422,
            "r_code",
        ),
        (
            client.put(
                f"{base}/status",
                headers=deal.staff,
                json={
                    "answers": {},
                    "evidence": [
                        {
                            "condition": "waste.registers",
                            "text": "Registres",
                            "document_sha256": "a" * 64,
                        }
                    ],
                },
            ),
            422,
            "evidence.0.document_sha256",
        ),
        (
            client.put(
                f"{base}/status",
                headers=deal.staff,
                json={"answers": {"end_of_waste_act": "Arrêté imaginaire"}},
            ),
            422,
            "answers.end_of_waste_act",
        ),
        (client.post(f"{base}/ready", headers=deal.staff), 409, "state"),
        (
            client.post(
                f"{base}/deliveries",
                headers=deal.giver,
                json={"delivered_on": start, "quantity": 10, "unit": "t"},
            ),
            409,
            "state",
        ),
        (
            client.post(
                f"{base}/deliveries",
                headers=deal.giver,
                json={"delivered_on": start, "quantity": 0, "unit": "t"},
            ),
            422,
            "quantity",
        ),
        (client.post(f"{base}/sign", headers=deal.giver, json={"password": "x"}), 422, "version"),
        (
            client.post(API, headers=deal.staff, json={"introduction_id": str(uuid.uuid4())}),
            404,
            "introduction_id",
        ),
    ]
    for answer, status, field in refused:
        assert answer.status_code == status, (field, answer.text)
        body = answer.json()
        assert body["field"] == field, body
        assert set(body) >= {"error", "detail", "field"}
    session.expire_all()
    row = session.get(Contract, uuid.UUID(contract["id"]))
    assert row is not None and (row.state, row.version, row.current_version) == ("draft", 1, 1)
    versions = session.exec(select(ContractVersion)).all()
    assert len(versions) == 1 and versions[0].route is None


def test_a_member_reads_but_only_an_admin_acts_for_its_company(
    client: TestClient, session: Session
) -> None:
    from marketplace.accounts.models import Role
    from marketplace.companies.models import Company
    from tests.factories import bearer, create_user_row

    deal = revealed_deal(client, session)
    contract = draft(client, deal)
    company = session.get(Company, deal.w.owner.company_id)
    member = bearer(session, create_user_row(session, Role.MEMBER, company))
    assert ok(client.get(f"{API}/{contract['id']}", headers=member))["side"] == "giver"
    refused = propose(client, member, contract, material_label="Cendres")
    assert refused.status_code == 403
    # An administrator proposes the deal's terms, not who the parties are.
    parties = [dict(p) for p in contract["terms"]["parties"]]
    parties[1]["legal_name"] = "Quelqu'un d'autre SA"
    renamed = propose(client, deal.giver, contract, parties=parties)
    assert renamed.status_code == 403 and renamed.json()["field"] == "terms.parties"
    # Nor what the other party states of itself; its own representative is its to change.
    parties[1] = dict(contract["terms"]["parties"][1]) | {"representative": "Mme Durand"}
    assert propose(client, deal.giver, contract, parties=parties).status_code == 403
    parties[1] = dict(contract["terms"]["parties"][1])
    parties[0] = dict(contract["terms"]["parties"][0]) | {"representative": "Mme Durand"}
    assert propose(client, deal.giver, contract, parties=parties).status_code == 201


def test_hazardous_material_brings_the_tracking_slip(client: TestClient, session: Session) -> None:
    deal = revealed_deal(client, session)
    contract = draft(client, deal)
    changed = ok(propose(client, deal.staff, contract, low_code="10 01 04", hazardous=True), 201)
    assert changed["terms"]["hazardous"] is True
    status = qualify_as_waste(client, deal, contract["id"])
    assert status["route"] == "waste" and status["missing"] == []
    ids = [o["id"] for o in status["obligations"]]
    assert "tracking_slip" in ids
    assert any("BSDD" in o["label_fr"] for o in status["obligations"])
    # ...and in the contract itself.
    pdf = client.get(f"{API}/{contract['id']}/pdf", headers=deal.giver)
    assert pdf.status_code == 200
    text = "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "BSDD" in text
    # A non-hazardous one has none.
    other = revealed_deal(client, session, tag=" Bis")
    plain = draft(client, other)
    assert "tracking_slip" not in [
        o["id"] for o in qualify_as_waste(client, other, plain["id"])["obligations"]
    ]


def test_a_by_product_claim_missing_a_condition_is_refused_naming_it(
    client: TestClient, session: Session
) -> None:
    deal = revealed_deal(client, session)
    contract = draft(client, deal)
    base = f"{API}/{contract['id']}"
    answers = {
        "further_use_certain": True,
        "used_without_further_processing": True,
        "produced_as_integral_part": True,
        "lawful_use": True,
    }
    evidence = [
        {"condition": "by_product.certain_further_use", "text": "Contrat d'achat sur 3 ans."},
        {"condition": "by_product.no_further_processing", "text": "Utilisées telles quelles."},
        {"condition": "by_product.integral_part_of_production", "text": "Combustion du charbon."},
    ]
    status = ok(
        client.put(
            f"{base}/status", headers=deal.staff, json={"answers": answers, "evidence": evidence}
        )
    )
    assert status["route"] == "by_product"
    assert status["missing"] == ["by_product.lawful_use"]
    ok(client.post(f"{base}/review", headers=deal.staff))
    refused = client.post(f"{base}/ready", headers=deal.staff)
    assert refused.status_code == 422, refused.text
    assert refused.json()["field"] == "evidence"
    assert "by_product.lawful_use" in refused.json()["detail"]
    assert ok(client.get(base, headers=deal.staff))["state"] == "review"
    # Its evidence given, with the document it needs: the contract is ready.
    sha = attach(client, deal.staff, contract["id"], b"%PDF fiche de donnees et conformite")
    evidence.append(
        {
            "condition": "by_product.lawful_use",
            "text": "Conforme à la norme NF EN 450-1 (cendres pour béton).",
            "document_sha256": sha,
        }
    )
    ok(
        client.put(
            f"{base}/status", headers=deal.staff, json={"answers": answers, "evidence": evidence}
        )
    )
    entries = session.exec(select(AuditEntry).where(AuditEntry.action == "contract.qualify")).all()
    assert len(entries) == 2


def test_expiry_and_reminders_by_beat(client: TestClient, session: Session) -> None:
    from marketplace.exchanges import reminders
    from marketplace.exchanges.models import ContractNotice

    deal = revealed_deal(client, session)
    contract = draft(client, deal)
    row = session.get(Contract, uuid.UUID(contract["id"]))
    assert row is not None
    row.state, row.end_date = "active", date.today() + timedelta(days=10)
    row.activated_at = utcnow() - timedelta(days=40)
    session.add(row)
    session.commit()
    assert reminders.remind_due(session) == 2  # ends within 30 days; no delivery for a month
    session.commit()
    assert reminders.remind_due(session) == 0  # once
    kinds = sorted(n.kind for n in session.exec(select(ContractNotice)).all())
    assert kinds.count("contract.ending") == 2
    assert kinds.count("contract.deliveries_overdue") == 2
    row.end_date = date.today() - timedelta(days=1)
    session.add(row)
    session.commit()
    assert reminders.expire_due(session) == 1
    session.commit()
    assert reminders.expire_due(session) == 0
    assert ok(client.get(f"{API}/{contract['id']}", headers=deal.giver))["state"] == "expired"


def test_a_pooled_offer_gives_one_contract_per_contributor_who_accepted(
    client: TestClient, session: Session
) -> None:
    """Each contributor of a pool who accepted has its own contract with the requester; one
    who declined has none; a contributor sees its own contract only, never another's."""
    from marketplace.introductions import service
    from tests.test_introduction_pools import express, pool_world

    pool = pool_world(client, session)
    alpha, bravo, charlie = pool.contributors
    intro_id = express(client, pool).json()["id"]
    for who, answer in ((alpha, "accept"), (bravo, "accept"), (charlie, "decline")):
        said = client.post(f"/api/v1/introductions/{intro_id}/{answer}", headers=who.headers)
        assert said.status_code == 200, said.text
    service.expire_due(session, utcnow() + timedelta(days=16))
    session.commit()
    staff = pool.facilitator
    unnamed = client.post(API, headers=staff, json={"introduction_id": intro_id})
    assert unnamed.status_code == 422 and unnamed.json()["field"] == "contributor_company_id"
    declined = {"introduction_id": intro_id, "contributor_company_id": str(charlie.company_id)}
    refused = client.post(API, headers=staff, json=declined)
    assert refused.status_code == 422 and refused.json()["field"] == "contributor_company_id"
    contracts = {}
    for who in (alpha, bravo):
        body = {"introduction_id": intro_id, "contributor_company_id": str(who.company_id)}
        made = client.post(API, headers=staff, json=body)
        assert made.status_code == 201, made.text
        parties = {p["role"]: p for p in made.json()["terms"]["parties"]}
        assert parties["giver"]["legal_name"] == who.secrets[0]
        assert parties["taker"]["legal_name"] == pool.requester.secrets[0]
        contracts[who.company_id] = made.json()["id"]
        again = client.post(API, headers=staff, json=body)
        assert again.status_code == 409
    assert len(session.exec(select(Contract)).all()) == 2
    # The requester has both; each contributor only its own; the one who declined none.
    mine = {c["id"] for c in ok(client.get(API, headers=pool.requester.headers))}
    assert mine == set(contracts.values())
    for who, other in ((alpha, bravo), (bravo, alpha)):
        own = contracts[who.company_id]
        assert {c["id"] for c in ok(client.get(API, headers=who.headers))} == {own}
        hidden = client.get(f"{API}/{contracts[other.company_id]}", headers=who.headers)
        assert hidden.status_code == 404
        assert other.secrets[0] not in client.get(f"{API}/{own}", headers=who.headers).text
    assert ok(client.get(API, headers=charlie.headers)) == []
