"""The demo's finished deal: a contract drafted from the demo's revealed introduction (fly ash
from the power station to the cement works), qualified as a by-product with its evidence, and
signed by the giver, the taker and the association, through the exchanges services as people
would (each signer's password from users.csv), so its stored PDF carries three signatures.
Made once: a contract already there is left alone."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlmodel import Session, col, select

from contracts.status import Answers, Evidence
from marketplace.accounts.models import Role, User
from marketplace.accounts.service import Actor, actor_of
from marketplace.companies.service import find_by_siret
from marketplace.exchanges import drafting, service, signing, wizard
from marketplace.exchanges.models import Contract
from marketplace.exchanges.schemas import ContractCreate, StatusAnswers
from marketplace.introductions.models import Introduction

GIVER_SIRET = "35493264200011"  # the coal power station
TAKER_SIRET = "46470434500014"  # the cement works
USERS = Path(__file__).resolve().parent / "users.csv"
# What the association keeps as proof that the further use is lawful: a short summary stands in
# for the test report a real file would attach.
TEST_REPORT = (
    "Rapport d'essais — cendres volantes de centrale thermique au charbon.\n"
    "Conformité à la norme NF EN 450-1 (cendres volantes pour béton), catégorie A.\n"
    "Perte au feu 3,1 % ; chlorures 0,02 % ; SO3 1,2 %.\n"
).encode()


def _passwords() -> dict[str, str]:
    with USERS.open(encoding="utf-8", newline="") as handle:
        return {row["email"]: row["password"] for row in csv.DictReader(handle)}


def _admin(session: Session, siret: str) -> User | None:
    company = find_by_siret(session, siret)
    if company is None:
        return None
    query = select(User).where(User.company_id == company.id, User.role == Role.COMPANY_ADMIN)
    return session.exec(query.order_by(col(User.created_at))).first()


def create_demo_contract(session: Session, facilitator: Actor) -> str | None:
    """The reference of the contract made, or None (already there, or the territory lacks the
    introduction)."""
    giver, taker = _admin(session, GIVER_SIRET), _admin(session, TAKER_SIRET)
    staff = session.get(User, facilitator.user_id)
    if giver is None or taker is None or staff is None:
        return None
    query = select(Introduction).where(
        Introduction.state == "revealed",
        Introduction.owner_company_id == giver.company_id,
        Introduction.requester_company_id == taker.company_id,
    )
    intro = session.exec(query).first()
    if intro is None:
        return None
    if session.exec(select(Contract.id).where(Contract.introduction_id == intro.id)).first():
        return None
    contract = drafting.draft(session, facilitator, ContractCreate(introduction_id=intro.id))
    report = wizard.attach_document(
        session, facilitator, contract.id, "rapport-essais-NF-EN-450-1.txt", "text/plain",
        TEST_REPORT,
    )  # fmt: skip
    answers = Answers(
        further_use_certain=True,
        used_without_further_processing=True,
        produced_as_integral_part=True,
        lawful_use=True,
    )
    evidence = [
        Evidence(
            condition="by_product.certain_further_use",
            text="Contrat d'enlèvement sur l'année avec la cimenterie, qui les consomme en "
            "continu comme constituant du ciment.",
        ),
        Evidence(
            condition="by_product.no_further_processing",
            text="Cendres utilisées telles quelles, après simple stockage en silo.",
        ),
        Evidence(
            condition="by_product.integral_part_of_production",
            text="Produites par la combustion du charbon dans la chaudière de la centrale.",
        ),
        Evidence(
            condition="by_product.lawful_use",
            text="Conformes à la norme NF EN 450-1 (rapport d'essais joint).",
            document_name="rapport-essais-NF-EN-450-1.txt",
            document_sha256=report.sha256,
        ),
    ]
    wizard.set_status(
        session, facilitator, contract.id, StatusAnswers(answers=answers, evidence=evidence)
    )
    service.submit(session, facilitator, contract.id)
    service.freeze(session, facilitator, contract.id)
    passwords = _passwords()
    for user in (giver, taker, staff):
        email = user.email
        if email not in passwords:
            return contract.reference
        signing.sign(session, actor_of(user), contract.id, passwords[email], 1, None)
    return contract.reference
