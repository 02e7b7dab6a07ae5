"""A revealed introduction ready to become a contract: the owner of an offer of fly ash (the
giver), the requester who asked for it (the taker), the facilitator, and a third company that
must see nothing. Shared by the contract tests."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import PASSWORD
from tests.introduction_world import World, express, world

API = "/api/v1/contracts"


@dataclass
class Deal:
    w: World
    introduction_id: str

    @property
    def giver(self) -> dict[str, str]:
        return self.w.owner.headers

    @property
    def taker(self) -> dict[str, str]:
        return self.w.requester.headers

    @property
    def staff(self) -> dict[str, str]:
        return self.w.facilitator

    @property
    def third(self) -> dict[str, str]:
        return self.w.third.headers


def revealed_deal(client: TestClient, session: Session, tag: str = "") -> Deal:
    w = world(client, session, tag)
    interest = express(client, w)
    assert interest.status_code == 201, interest.text
    intro_id = interest.json()["id"]
    accepted = client.post(f"/api/v1/introductions/{intro_id}/accept", headers=w.owner.headers)
    assert accepted.json()["state"] == "revealed", accepted.text
    return Deal(w, intro_id)


def ok(answer: Any, status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    return answer.json()


def draft(client: TestClient, deal: Deal) -> dict[str, Any]:
    return ok(
        client.post(API, headers=deal.staff, json={"introduction_id": deal.introduction_id}), 201
    )


def propose(
    client: TestClient, headers: dict[str, str], contract: dict[str, Any], **changes: Any
) -> Any:
    terms = dict(contract["terms"]) | changes
    return client.post(
        f"{API}/{contract['id']}/versions",
        headers=headers,
        json={"terms": terms, "base_version": contract["current_version"], "note": "Prix"},
    )


def attach(client: TestClient, headers: dict[str, str], contract_id: str, content: bytes) -> str:
    answer = client.post(
        f"{API}/{contract_id}/documents",
        headers=headers,
        files={"file": ("arrete-prefectoral.pdf", content, "application/pdf")},
    )
    body = ok(answer, 201)
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    return str(body["sha256"])


def qualify_as_waste(client: TestClient, deal: Deal, contract_id: str) -> dict[str, Any]:
    """The waste route with every condition evidenced: a receiving facility authorised (its
    order attached), registers kept, R5."""
    sha = attach(client, deal.staff, contract_id, b"%PDF-1.4 arrete d'autorisation ICPE")
    status = {
        "answers": {"is_utility": False, "recovered": False},
        "evidence": [
            {
                "condition": "waste.receiving_facility_authorised",
                "text": "Arrêté préfectoral d'autorisation de la cimenterie, rubrique 2771.",
                "document_name": "arrete-prefectoral.pdf",
                "document_sha256": sha,
            },
            {"condition": "waste.registers", "text": "Registres tenus sur Trackdéchets."},
        ],
        "r_code": "R5",
    }
    return ok(client.put(f"{API}/{contract_id}/status", headers=deal.staff, json=status))


def sign(
    client: TestClient, headers: dict[str, str], contract: dict[str, Any], password: str = PASSWORD
) -> Any:
    return client.post(
        f"{API}/{contract['id']}/sign",
        headers=headers,
        json={"password": password, "version": contract["current_version"]},
    )


def ready(client: TestClient, deal: Deal) -> dict[str, Any]:
    """A drafted contract qualified as waste, reviewed and frozen: ready for signature."""
    contract = draft(client, deal)
    qualify_as_waste(client, deal, contract["id"])
    ok(client.post(f"{API}/{contract['id']}/review", headers=deal.staff))
    return ok(client.post(f"{API}/{contract['id']}/ready", headers=deal.staff))
