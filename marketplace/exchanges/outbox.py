"""The contracts' notices: outbox rows written in the deciding transaction, sent by a task after
commit and again by a beat sweeper. A payload holds ids and states only: an e-mail says where to
look, never who the counterpart is or what the terms say."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from core.mail import SendMail
from core.models import utcnow
from core.settings import get_settings
from core.worker import enqueue
from marketplace.accounts.notices import send_notice, unsent_notices
from marketplace.exchanges.errors import NoSuchContractNotice
from marketplace.exchanges.models import Contract, ContractNotice

log = logging.getLogger(__name__)

SUBJECTS = {
    "contract.drafted": (
        "Symbiose : un projet de contrat vous attend",
        "Symbiose: a draft contract awaits you",
    ),
    "contract.amended": (
        "Symbiose : nouvelle version du contrat",
        "Symbiose: a new version of the contract",
    ),
    "contract.ready": (
        "Symbiose : le contrat est prêt à signer",
        "Symbiose: the contract is ready for signature",
    ),
    "contract.signed": (
        "Symbiose : une signature a été apposée sur le contrat",
        "Symbiose: the contract was signed",
    ),
    "contract.active": (
        "Symbiose : le contrat est contre-signé et actif",
        "Symbiose: the contract is countersigned and active",
    ),
    "contract.closed": ("Symbiose : le contrat a pris fin", "Symbiose: the contract has ended"),
    "contract.ending": (
        "Symbiose : le contrat arrive à échéance dans 30 jours",
        "Symbiose: the contract ends in 30 days",
    ),
    "contract.deliveries_overdue": (
        "Symbiose : aucune livraison enregistrée sur la période attendue",
        "Symbiose: no delivery recorded in the expected period",
    ),
}
MAX_ATTEMPTS = 10


def add(session: Session, contract: Contract, kind: str, recipient: uuid.UUID) -> ContractNotice:
    """One notice to `recipient` (a company), sent once this transaction commits."""
    notice = ContractNotice(
        kind=kind,
        contract_id=contract.id,
        recipient_company_id=recipient,
        payload={"contract_id": str(contract.id), "state": contract.state},
    )
    session.add(notice)
    session.flush()
    # Imported here: the task module imports this one.
    from marketplace.exchanges.tasks import send_notices

    enqueue(session, send_notices, [str(notice.id)])
    return notice


def to_parties(
    session: Session, contract: Contract, kind: str, *, but: uuid.UUID | None = None
) -> None:
    """The notice to the giver and the taker, except the company that acted (`but`)."""
    for company_id in (contract.giver_company_id, contract.taker_company_id):
        if company_id != but:
            add(session, contract, kind, company_id)


def _body(kind: str, contract_id: str) -> str:
    french, english = SUBJECTS[kind]
    link = f"{get_settings().base_url}/contracts/{contract_id}"
    return f"{french}\n{link}\n\n{english}\n{link}\n"


def send_one(session: Session, notice_id: uuid.UUID, send: SendMail) -> bool:
    """Mail one notice to the recipient company's active users and mark it sent."""

    def words(notice: ContractNotice) -> tuple[str, str]:
        return SUBJECTS[notice.kind][0], _body(notice.kind, notice.payload["contract_id"])

    return send_notice(session, ContractNotice, notice_id, send, words)


def unsent(session: Session, since: datetime, most: int = 500) -> list[uuid.UUID]:
    return unsent_notices(session, ContractNotice, since, most, MAX_ATTEMPTS)


def notices(session: Session, company_id: uuid.UUID) -> Sequence[ContractNotice]:
    """The company's in-app notices of its contracts, newest first."""
    query = (
        select(ContractNotice)
        .where(ContractNotice.recipient_company_id == company_id)
        .order_by(col(ContractNotice.created_at).desc())
        .limit(100)
    )
    return session.exec(query).all()


def mark_read(session: Session, company_id: uuid.UUID, notice_id: uuid.UUID) -> ContractNotice:
    """Mark one of the company's notices read (the first time kept); another company's notice
    is "no such notice", as one that never existed."""
    notice = session.get(ContractNotice, notice_id)
    if notice is None or notice.recipient_company_id != company_id:
        raise NoSuchContractNotice(field="notice_id")
    if notice.read_at is None:
        notice.read_at = utcnow()
        session.add(notice)
        session.flush()
    return notice
