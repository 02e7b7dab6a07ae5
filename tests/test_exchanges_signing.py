"""The whole contract lifecycle over HTTP, with real PDFs and real PAdES signatures: drafted,
commented, changed, qualified, frozen, signed by the giver, the taker and the association,
verified against the platform's CA, then deliveries and the registers' lines; a change after a
signature starts a new version and voids it; concurrent signatures of one role count once."""

from __future__ import annotations

import csv
import hashlib
import io
import threading
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlmodel import Session, select

from contracts.authority import CertificateAuthority
from contracts.signing import verify_pdf
from core.settings import get_settings
from marketplace.exchanges.models import Contract, ContractSignature
from privacy.models import AuditEntry
from tests.conftest import TEST_DATABASE_URL, backend_name
from tests.exchange_world import (
    API,
    attach,
    draft,
    ok,
    propose,
    qualify_as_waste,
    ready,
    revealed_deal,
    sign,
)
from tests.symbiose_process import symbiose


def _trust() -> list[Any]:
    return [CertificateAuthority.load_or_create(get_settings().contracts_ca_dir).certificate]


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_whole_lifecycle_over_http(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    deal = revealed_deal(client, session)
    contract = draft(client, deal)
    base = f"{API}/{contract['id']}"
    ok(client.post(f"{base}/comments", headers=deal.giver, json={"body": "Prix à revoir."}), 201)
    price = {"kind": "gate_fee", "amount_cents": 800, "per_unit": "t", "payer": "giver"}
    contract = ok(propose(client, deal.staff, contract, price=price), 201)
    changes = ok(client.get(f"{base}/diff?from_version=1&to_version=2", headers=deal.taker))
    assert "price.amount_cents" in [c["field"] for c in changes["changes"]]
    # An English render of the draft, unsigned.
    english = client.get(f"{base}/pdf?lang=en", headers=deal.taker)
    assert english.status_code == 200 and english.headers["content-type"] == "application/pdf"
    assert "Termination" in _text(english.content)
    qualify_as_waste(client, deal, contract["id"])
    ok(client.post(f"{base}/review", headers=deal.staff))
    contract = ok(client.post(f"{base}/ready", headers=deal.staff))
    assert contract["state"] == "ready" and contract["frozen_at"]
    unsigned = client.get(f"{base}/pdf", headers=deal.giver).content
    text = _text(unsigned)
    assert contract["terms_hash"] in text.replace("\n", "")
    assert deal.w.owner.secrets[0] in text and deal.w.requester.secrets[0] in text

    # The association countersigns last; a wrong password is refused naming it.
    early = sign(client, deal.staff, contract)
    assert early.status_code == 409 and early.json()["field"] == "state"
    wrong = sign(client, deal.giver, contract, password="not-my-password")
    assert wrong.status_code == 403 and wrong.json()["field"] == "password"
    assert ok(client.get(base, headers=deal.giver))["state"] == "ready"

    assert ok(sign(client, deal.giver, contract))["state"] == "signing"
    again = sign(client, deal.giver, contract)
    assert again.status_code == 409
    assert ok(sign(client, deal.taker, contract))["state"] == "signed"
    active = ok(sign(client, deal.staff, contract))
    assert active["state"] == "active" and active["activated_at"]
    assert sorted(s["role"] for s in active["signatures"]) == ["facilitator", "giver", "taker"]

    report = ok(client.get(f"{base}/verify", headers=deal.taker))
    assert report["ok"] and not report["changed_after_signing"], report
    assert len(report["signatures"]) == 3
    assert all(s["valid"] and s["intact"] and s["trusted"] for s in report["signatures"])
    assert all(s["recorded"] for s in report["signatures"])
    signed = client.get(f"{base}/pdf", headers=deal.giver).content
    checked = verify_pdf(signed, _trust())
    assert checked.ok and len(checked.signatures) == 3
    # One byte changed inside the signed content: verification fails.
    at = signed.index(b"stream") + 20
    tampered = signed[:at] + bytes([signed[at] ^ 0x01]) + signed[at + 1 :]
    assert not verify_pdf(tampered, _trust()).ok
    # The command a third party runs on the file: exit 0 for the signed PDF, 1 once altered.
    ca = {"SYMBIOSE_CONTRACTS_CA_DIR": str(get_settings().contracts_ca_dir)}
    good, bad = tmp_path / "contrat.pdf", tmp_path / "contrat-altere.pdf"
    good.write_bytes(signed)
    bad.write_bytes(tampered)
    checked_ok = symbiose(TEST_DATABASE_URL, "contracts", "verify", str(good), **ca)
    assert checked_ok.returncode == 0, checked_ok.stdout + checked_ok.stderr
    assert checked_ok.stdout.count("valid") >= 3
    checked_bad = symbiose(TEST_DATABASE_URL, "contracts", "verify", str(bad), **ca)
    assert checked_bad.returncode != 0
    serials = sorted(s["serial"] for s in report["signatures"])
    assert serials == sorted(s["certificate_serial"] for s in active["signatures"])
    assert sorted(s["role"] for s in report["signatures"]) == ["facilitator", "giver", "taker"]

    # Deliveries against the active contract, and the registers' lines.
    today = date.today().isoformat()
    for quantity, lot in ((25.5, "L-001"), (30, "L-002")):
        delivery = {"delivered_on": today, "quantity": quantity, "unit": "t", "lot": lot}
        delivery["carrier"] = "Transports du Littoral"
        ok(client.post(f"{base}/deliveries", headers=deal.giver, json=delivery), 201)
    totals = ok(client.get(f"{base}/deliveries", headers=deal.taker))
    assert totals["total_quantity"] == 55.5 and totals["contracted_per_year"] == 1200
    assert 0 < totals["share_of_contracted"] < 0.1
    outgoing = client.get(f"{base}/registers/outgoing", headers=deal.giver)
    assert outgoing.status_code == 200 and outgoing.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(outgoing.content.decode("utf-8-sig")), delimiter=";"))
    assert [r["lot"] for r in rows] == ["L-001", "L-002"]
    first = rows[0]
    assert (first["code_dechet"], first["code_traitement"], first["quantite"]) == (
        "10 01 02",
        "R 5",
        "25.5",
    )
    assert first["producteur_raison_sociale"] == deal.w.owner.secrets[0]
    assert first["producteur_siret"] == deal.w.owner.secrets[1]
    assert first["destinataire_siret"] == deal.w.requester.secrets[1]
    assert first["transporteur"] == "Transports du Littoral"
    assert first["denomination_dechet"]
    incoming = client.get(f"{base}/registers/incoming", headers=deal.staff)
    assert incoming.status_code == 200
    assert client.get(f"{base}/registers/end_of_waste", headers=deal.staff).status_code == 409
    assert ok(client.post(f"{base}/complete", headers=deal.taker))["state"] == "completed"

    actions = [e.action for e in session.exec(select(AuditEntry)).all()]
    for action in ("contract.draft", "contract.version", "contract.qualify", "contract.delivery"):
        assert action in actions, action
    assert actions.count("contract.sign") == 2 and actions.count("contract.countersign") == 1


def test_a_change_after_a_signature_voids_it_and_starts_a_new_version(
    client: TestClient, session: Session
) -> None:
    deal = revealed_deal(client, session)
    contract = ready(client, deal)
    ok(sign(client, deal.giver, contract))
    changed = ok(propose(client, deal.taker, contract, quantity_per_year=900), 201)
    assert changed["state"] == "draft" and changed["current_version"] == 2
    assert changed["signatures"] == []
    assert changed["qualification"]["route"] == "waste"  # the status answers carry over
    voided = session.exec(select(ContractSignature)).all()
    assert len(voided) == 1 and voided[0].voided_at is not None
    # The old signature does not count for the new version: both sign it again.
    base = f"{API}/{contract['id']}"
    ok(client.post(f"{base}/review", headers=deal.staff))
    again = ok(client.post(f"{base}/ready", headers=deal.staff))
    assert ok(sign(client, deal.giver, again))["state"] == "signing"
    stale = sign(client, deal.taker, contract)  # version 1, no longer current
    assert stale.status_code == 409 and stale.json()["field"] == "version"
    entries = session.exec(
        select(AuditEntry).where(AuditEntry.action == "contract.signature_voided")
    ).all()
    assert len(entries) == 1


@pytest.mark.skipif(backend_name() != "postgresql", reason="row locks across connections")
def test_concurrent_signatures_of_one_role_count_once(client: TestClient, session: Session) -> None:
    deal = revealed_deal(client, session)
    contract = ready(client, deal)
    answers: list[int] = []
    start = threading.Barrier(3)

    def attempt() -> None:
        start.wait()
        answers.append(sign(client, deal.giver, contract).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200, 409, 409]
    rows = session.exec(select(ContractSignature)).all()
    assert len(rows) == 1
    session.expire_all()
    row = session.get(Contract, uuid.UUID(contract["id"]))
    assert row is not None and row.state == "signing"


def test_keys_rotation_reseals_every_sealed_part_of_a_contract(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After `keys rotate` the old key-encryption key can go: the terms, evidence, comments,
    documents and signed PDF all read under the new one alone."""
    import base64
    import os

    from marketplace.flows.keys import rotate_keys
    from privacy import vault

    deal = revealed_deal(client, session)
    contract = ready(client, deal)
    base = f"{API}/{contract['id']}"
    ok(client.post(f"{base}/comments", headers=deal.taker, json={"body": "Bien reçu."}), 201)
    ok(sign(client, deal.giver, contract))
    current = get_settings().vault_keks
    new = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setattr(get_settings(), "vault_keks", f"rotated:{new},{current}")
    vault.clear_key_cache()
    rotate_keys(session)
    session.commit()
    monkeypatch.setattr(get_settings(), "vault_keks", f"rotated:{new}")
    vault.clear_key_cache()
    try:
        read = ok(client.get(base, headers=deal.taker))
        assert read["terms"]["parties"][0]["legal_name"] == deal.w.owner.secrets[0]
        assert read["qualification"]["evidence"][0]["text"].startswith("Arrêté")
        assert ok(client.get(f"{base}/comments", headers=deal.giver))[0]["body"] == "Bien reçu."
        assert ok(client.get(f"{base}/documents", headers=deal.staff))[0]["name"]
        assert ok(sign(client, deal.taker, contract))["state"] == "signed"
        assert ok(client.get(f"{base}/verify", headers=deal.staff))["ok"]
    finally:
        vault.clear_key_cache()


def test_an_end_of_waste_contract_asks_each_lot_its_statement_of_conformity(
    client: TestClient, session: Session
) -> None:
    deal = revealed_deal(client, session)
    contract = draft(client, deal)
    base = f"{API}/{contract['id']}"
    sha = attach(client, deal.staff, contract["id"], b"%PDF arrete d'autorisation du broyage")
    status = {
        "answers": {"recovered": True, "end_of_waste_act": "Arrêté du 29 juillet 2014"},
        "evidence": [
            {
                "condition": "end_of_waste.recovery_operation",
                "text": "Broyage et criblage dans l'installation autorisée du cédant.",
                "document_sha256": sha,
            },
            {"condition": "end_of_waste.criteria", "text": "Critères de l'arrêté respectés."},
            {
                "condition": "end_of_waste.conformity_statement",
                "text": "Une attestation par lot, jointe à chaque livraison.",
            },
        ],
    }
    decided = ok(client.put(f"{base}/status", headers=deal.staff, json=status))
    assert decided["route"] == "end_of_waste" and decided["missing"] == []
    assert "conformity_statement" in " ".join(o["id"] for o in decided["obligations"])
    ok(client.post(f"{base}/review", headers=deal.staff))
    contract = ok(client.post(f"{base}/ready", headers=deal.staff))
    for headers in (deal.giver, deal.taker, deal.staff):
        ok(sign(client, headers, contract))
    lot = {"delivered_on": date.today().isoformat(), "quantity": 12, "unit": "t", "lot": "B-7"}
    refused = client.post(f"{base}/deliveries", headers=deal.giver, json=lot)
    assert refused.status_code == 422 and refused.json()["field"] == "conformity_statement"
    wrong_unit = client.post(f"{base}/deliveries", headers=deal.giver, json=lot | {"unit": "m3"})
    assert wrong_unit.status_code == 422 and wrong_unit.json()["field"] == "unit"
    statement = "Le lot B-7 satisfait aux critères de l'arrêté du 29 juillet 2014."
    made = ok(
        client.post(
            f"{base}/deliveries",
            headers=deal.giver,
            json=lot | {"conformity_statement": statement},
        ),
        201,
    )
    assert made["conformity_sha256"] == hashlib.sha256(statement.encode()).hexdigest()
    assert len(ok(client.get(f"{base}/deliveries", headers=deal.taker))["deliveries"]) == 1
    register = client.get(f"{base}/registers/end_of_waste", headers=deal.taker)
    rows = list(csv.DictReader(io.StringIO(register.content.decode("utf-8-sig")), delimiter=";"))
    assert [r["lot"] for r in rows] == ["B-7"]
    assert rows[0]["attestation_conformite_sha256"] == made["conformity_sha256"]
    assert rows[0]["acte_criteres"] == "Arrêté du 29 juillet 2014"
    assert client.get(f"{base}/registers/outgoing", headers=deal.giver).status_code == 409
