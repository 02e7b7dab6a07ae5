"""The status wizard: documents attached as evidence (sealed, found by their SHA-256) and the
answers that decide the regulatory route, checked against the reference lists."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Sequence

from sqlmodel import Session, col, select

from contracts.status import (
    CONDITIONS,
    normalise_operation_code,
    qualify,
)
from core.models import utcnow
from marketplace.accounts.service import Actor
from marketplace.exchanges.errors import (
    DocumentEmpty,
    DocumentTooLarge,
    UnknownCondition,
    UnknownEvidenceDocument,
)
from marketplace.exchanges.models import (
    Contract,
    ContractDocumentFile,
    ContractVersion,
)
from marketplace.exchanges.schemas import StatusAnswers
from marketplace.exchanges.service import (
    about,
    acting_party,
    fire,
    get_contract,
    lock_contract,
    next_state,
    version_of,
)
from marketplace.exchanges.states import (
    Event,
)
from marketplace.flows.errors import UnknownOperation
from privacy import audit

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


def attach_document(
    session: Session,
    actor: Actor,
    contract_id: uuid.UUID,
    name: str,
    media_type: str,
    content: bytes,
) -> ContractDocumentFile:
    """A document attached as evidence, kept sealed, found by its SHA-256 (attaching the same
    bytes again returns the first)."""
    contract, party = get_contract(session, actor, contract_id)
    acting_party(actor, party)
    if not content:
        raise DocumentEmpty(field="file")
    if len(content) > MAX_DOCUMENT_BYTES:
        raise DocumentTooLarge(field="file", limit=MAX_DOCUMENT_BYTES // (1024 * 1024))
    digest = hashlib.sha256(content).hexdigest()
    query = select(ContractDocumentFile).where(
        ContractDocumentFile.contract_id == contract.id, ContractDocumentFile.sha256 == digest
    )
    found = session.exec(query).first()
    if found is not None:
        return found
    row = ContractDocumentFile(
        contract_id=contract.id,
        name=name[:200] or "document",
        media_type=media_type[:100] or "application/octet-stream",
        size=len(content),
        sha256=digest,
        content=base64.b64encode(content).decode(),
        uploaded_by=actor.user_id,
    )
    session.add(row)
    session.flush()
    audit.append(
        session,
        "contract.document",
        actor_id=actor.user_id,
        subject_id=row.id,
        data=about(contract, sha256=digest),
    )
    return row


def documents(
    session: Session, actor: Actor, contract_id: uuid.UUID
) -> Sequence[ContractDocumentFile]:
    contract, _ = get_contract(session, actor, contract_id)
    query = (
        select(ContractDocumentFile)
        .where(ContractDocumentFile.contract_id == contract.id)
        .order_by(col(ContractDocumentFile.created_at))
    )
    return session.exec(query).all()


CONDITION_IDS = {c.id for conditions in CONDITIONS.values() for c in conditions}


def _check_status(session: Session, contract: Contract, data: StatusAnswers) -> None:
    attached = set(
        session.exec(
            select(ContractDocumentFile.sha256).where(
                ContractDocumentFile.contract_id == contract.id
            )
        ).all()
    )
    for number, item in enumerate(data.evidence):
        if item.condition not in CONDITION_IDS:
            raise UnknownCondition(
                field=f"evidence.{number}.condition", condition=item.condition, route="any"
            )
        if item.document_sha256 is not None and item.document_sha256 not in attached:
            raise UnknownEvidenceDocument(field=f"evidence.{number}.document_sha256")


def _operation(r_code: str | None) -> str | None:
    """The R/D code in the reference list's form ("R 5"), refused naming `r_code` if unknown."""
    if r_code is None or not r_code.strip():
        return None
    try:
        return normalise_operation_code(r_code)
    except ValueError as exc:
        raise UnknownOperation(field="r_code") from exc


def set_status(
    session: Session, actor: Actor, contract_id: uuid.UUID, data: StatusAnswers
) -> ContractVersion:
    """The status wizard's answers and evidence on the current version: the route decided by
    `qualify`, what is still missing said by `qualification_of`."""
    contract, party = lock_contract(session, actor, contract_id)
    acting_party(actor, party)
    next_state(contract, Event.QUALIFY, party)
    _check_status(session, contract, data)
    version = version_of(session, contract)
    decided = qualify(data.answers)
    version.route = decided.route.value
    version.answers = data.answers.model_dump(mode="json")
    version.evidence = json.dumps([e.model_dump(mode="json") for e in data.evidence])
    version.r_code = _operation(data.r_code)
    version.end_of_waste_act = data.answers.end_of_waste_act
    version.case_by_case_decision = data.answers.case_by_case_decision
    version.qualified_at = utcnow()
    session.add(version)
    fire(
        session,
        contract,
        Event.QUALIFY,
        party,
        actor.user_id,
        number=version.number,
        route=decided.route.value,
    )
    session.flush()
    return version
