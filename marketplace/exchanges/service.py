"""Contracts: drafted by the facilitator from a revealed introduction, versioned terms, comments,
the status wizard, and the steps of the state machine (states.py), each decided on a locked row.

Who reads a contract: its giver's and taker's members and the facilitator; anyone else gets
"no such contract", as for one that does not exist. Who changes it: the facilitator, and for a
company only its administrators. Every version, status decision and step is an audit entry."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Sequence

from sqlalchemy.orm import attributes
from sqlmodel import Session, SQLModel, col, or_, select

from contracts.document import ContractDocument, PlannedSigner
from contracts.pdf import render_pdf
from contracts.status import (
    Answers,
    Condition,
    Evidence,
    Obligation,
    Route,
    missing_evidence,
    obligations,
    qualify,
)
from contracts.terms import PartyRole, Terms
from core.db import lock_for_update
from core.events import handles
from core.models import utcnow
from marketplace.accounts.errors import CompanyAdminOnly
from marketplace.accounts.service import Actor
from marketplace.exchanges import outbox
from marketplace.exchanges.errors import (
    ContractStateRefuses,
    EvidenceMissing,
    NoSuchContract,
    NoSuchVersion,
    NotYourStep,
    StatusNotQualified,
)
from marketplace.exchanges.models import (
    Contract,
    ContractComment,
    ContractDocumentFile,
    ContractSignature,
    ContractVersion,
    Delivery,
)
from marketplace.exchanges.states import (
    AMENDABLE,
    Event,
    IllegalTransition,
    Party,
    PartyNotAllowed,
    State,
    transition,
)
from marketplace.flows.events import KEYS_ROTATED
from privacy import audit

# The association as a party: it drafts and countersigns.
ASSOCIATION_NAME = "Structure d'animation du territoire"
ASSOCIATION_ADDRESS = "—"


def about(contract: Contract, **values: object) -> dict[str, str]:
    """An audit entry's data: the contract it is about, and further ids or numbers."""
    return {"contract_id": str(contract.id), **{k: str(v) for k, v in values.items()}}


# --- who reads what --------------------------------------------------------------------------


def side_of(actor: Actor, contract: Contract) -> Party:
    """The reader's side; "no such contract" for anyone else."""
    if actor.is_staff:
        return Party.FACILITATOR
    if actor.company_id is not None and actor.company_id == contract.giver_company_id:
        return Party.GIVER
    if actor.company_id is not None and actor.company_id == contract.taker_company_id:
        return Party.TAKER
    raise NoSuchContract()


def get_contract(session: Session, actor: Actor, contract_id: uuid.UUID) -> tuple[Contract, Party]:
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise NoSuchContract()
    return contract, side_of(actor, contract)


def identities_read(session: Session, actor: Actor, contract: Contract) -> None:
    """The facilitator reads the parties' identities in the terms (and the PDF, the registers):
    each read is logged as its reads of a company's identity are, one entry per company."""
    if not actor.is_staff:
        return
    for company_id in (contract.giver_company_id, contract.taker_company_id):
        audit.append(
            session,
            "identity.read",
            actor_id=actor.user_id,
            subject_id=company_id,
            data=about(contract),
        )


def list_contracts(session: Session, actor: Actor, state: str | None = None) -> list[Contract]:
    query = select(Contract).order_by(col(Contract.created_at).desc()).limit(200)
    if not actor.is_staff:
        company_id = actor.require_company()
        query = query.where(
            or_(Contract.giver_company_id == company_id, Contract.taker_company_id == company_id)
        )
    if state is not None:
        query = query.where(Contract.state == state)
    return list(session.exec(query).all())


def version_of(session: Session, contract: Contract, number: int | None = None) -> ContractVersion:
    wanted = contract.current_version if number is None else number
    query = select(ContractVersion).where(
        ContractVersion.contract_id == contract.id, ContractVersion.number == wanted
    )
    found = session.exec(query).first()
    if found is None:
        raise NoSuchVersion(field="number", number=wanted)
    return found


def versions(session: Session, contract: Contract) -> Sequence[ContractVersion]:
    query = (
        select(ContractVersion)
        .where(ContractVersion.contract_id == contract.id)
        .order_by(col(ContractVersion.number))
    )
    return session.exec(query).all()


def terms_of(version: ContractVersion) -> Terms:
    return Terms.model_validate_json(version.terms)


def evidence_of(version: ContractVersion) -> list[Evidence]:
    return [Evidence.model_validate(e) for e in json.loads(version.evidence or "[]")]


def answers_of(version: ContractVersion) -> Answers | None:
    return None if version.answers is None else Answers.model_validate(version.answers)


def signatures(
    session: Session, contract: Contract, number: int | None = None
) -> Sequence[ContractSignature]:
    """The standing signatures of a version (the current one by default)."""
    query = (
        select(ContractSignature)
        .where(
            ContractSignature.contract_id == contract.id,
            ContractSignature.version_number == (number or contract.current_version),
            col(ContractSignature.voided_at).is_(None),
        )
        .order_by(col(ContractSignature.signed_at))
    )
    return session.exec(query).all()


def pdf_bytes(version: ContractVersion) -> bytes | None:
    return None if version.pdf is None else base64.b64decode(version.pdf)


# --- steps -----------------------------------------------------------------------------------


def lock_contract(session: Session, actor: Actor, contract_id: uuid.UUID) -> tuple[Contract, Party]:
    contract, _ = get_contract(session, actor, contract_id)
    lock_for_update(session, contract)
    return contract, side_of(actor, contract)


def acting_party(actor: Actor, party: Party) -> None:
    """A company acts on a contract through its administrators only."""
    if party != Party.FACILITATOR and not actor.is_company_admin:
        raise CompanyAdminOnly()


def next_state(contract: Contract, event: Event, party: Party) -> State:
    try:
        return transition(State(contract.state), event, party)
    except IllegalTransition as refused:
        raise ContractStateRefuses(
            field="state", event=event.value, state=contract.state
        ) from refused
    except PartyNotAllowed as refused:
        raise NotYourStep(event=event.value, party=party.value) from refused


def fire(
    session: Session,
    contract: Contract,
    event: Event,
    party: Party,
    actor_id: uuid.UUID | None,
    **data: object,
) -> None:
    """Move `contract` by the table, with its audit entry."""
    contract.state = next_state(contract, event, party).value
    touch(contract)
    session.add(contract)
    audit.append(
        session,
        f"contract.{event.value}",
        actor_id=actor_id,
        subject_id=contract.id,
        data=about(contract, state=contract.state, **data),
    )


def touch(contract: Contract) -> None:
    contract.version += 1
    contract.updated_at = utcnow()


def missing_of(version: ContractVersion) -> list[Condition]:
    if version.route is None:
        return []
    return missing_evidence(
        Route(version.route),
        evidence_of(version),
        r_code=version.r_code,
        end_of_waste_act=version.end_of_waste_act,
        case_by_case_decision=version.case_by_case_decision,
    )


def obligations_of(version: ContractVersion, terms: Terms) -> list[Obligation]:
    if version.route is None:
        return []
    return obligations(
        Route(version.route),
        hazardous=terms.hazardous,
        r_code=version.r_code,
        end_of_waste_act=version.end_of_waste_act,
    )


# --- comments --------------------------------------------------------------------------------


def comments(session: Session, actor: Actor, contract_id: uuid.UUID) -> Sequence[ContractComment]:
    contract, _ = get_contract(session, actor, contract_id)
    query = (
        select(ContractComment)
        .where(ContractComment.contract_id == contract.id)
        .order_by(col(ContractComment.created_at))
    )
    return session.exec(query).all()


def comment(session: Session, actor: Actor, contract_id: uuid.UUID, body: str) -> ContractComment:
    contract, party = get_contract(session, actor, contract_id)
    if State(contract.state) not in AMENDABLE | {State.ACTIVE}:
        raise ContractStateRefuses(field="state", event="comment", state=contract.state)
    row = ContractComment(
        contract_id=contract.id,
        version_number=contract.current_version,
        author_user_id=actor.user_id,
        author_side=party.value,
        body=body,
    )
    session.add(row)
    session.flush()
    audit.append(
        session,
        "contract.comment",
        actor_id=actor.user_id,
        subject_id=row.id,
        data=about(contract, number=contract.current_version),
    )
    return row


# --- review and freezing ---------------------------------------------------------------------


def submit(session: Session, actor: Actor, contract_id: uuid.UUID) -> Contract:
    """The facilitator puts the draft up for the parties' review."""
    contract, party = lock_contract(session, actor, contract_id)
    fire(session, contract, Event.SUBMIT, party, actor.user_id, number=contract.current_version)
    session.flush()
    return contract


def document_of(session: Session, contract: Contract, version: ContractVersion) -> ContractDocument:
    terms = terms_of(version)
    answers = answers_of(version)
    decided = qualify(answers) if answers is not None else None
    names = {p.role: p.legal_name for p in terms.parties}
    return ContractDocument(
        reference=contract.reference,
        version=version.number,
        terms=terms,
        route=Route(version.route) if version.route else Route.WASTE,
        reasons=decided.reasons if decided else [],
        reasons_en=decided.reasons_en if decided else [],
        evidence=evidence_of(version),
        obligations=obligations_of(version, terms),
        terms_hash=terms.sha256(),
        frozen_at=version.frozen_at or utcnow(),
        signers=[
            PlannedSigner(role=role, name=names.get(role, ASSOCIATION_NAME))
            for role in (PartyRole.GIVER, PartyRole.TAKER, PartyRole.FACILITATOR)
        ],
        r_code=version.r_code,
        end_of_waste_act=version.end_of_waste_act,
        case_by_case_decision=version.case_by_case_decision,
    )


def freeze(session: Session, actor: Actor, contract_id: uuid.UUID) -> Contract:
    """Ready for signature: refused (422 naming the condition) while the status is not decided
    or a piece of evidence is missing; else the terms are frozen, their hash fixed and the PDF
    rendered and kept."""
    contract, party = lock_contract(session, actor, contract_id)
    next_state(contract, Event.FREEZE, party)
    version = version_of(session, contract)
    if version.route is None:
        raise StatusNotQualified(field="answers")
    missing = missing_of(version)
    if missing:
        first = missing[0]
        raise EvidenceMissing(
            field="evidence",
            condition=first.id,
            label=first.label_en,
            extra={"missing": [c.id for c in missing]},
        )
    terms = terms_of(version)
    version.terms_hash = terms.sha256()
    version.frozen_at = utcnow()
    pdf = render_pdf(document_of(session, contract, version), "fr")
    version.pdf = base64.b64encode(pdf).decode()
    version.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    session.add(version)
    fire(
        session,
        contract,
        Event.FREEZE,
        party,
        actor.user_id,
        number=version.number,
        terms_hash=version.terms_hash,
    )
    outbox.to_parties(session, contract, "contract.ready")
    session.flush()
    return contract


def close(session: Session, actor: Actor, contract_id: uuid.UUID, event: Event) -> Contract:
    """Complete (an active contract) or terminate (any contract not ended yet)."""
    contract, party = lock_contract(session, actor, contract_id)
    acting_party(actor, party)
    fire(session, contract, event, party, actor.user_id)
    contract.closed_at = utcnow()
    outbox.to_parties(session, contract, "contract.closed", but=actor.company_id)
    session.flush()
    return contract


# --- keys ------------------------------------------------------------------------------------

SEALED_COLUMNS: tuple[tuple[type[SQLModel], tuple[str, ...]], ...] = (
    (ContractVersion, ("terms", "evidence", "case_by_case_decision", "pdf", "note")),
    (ContractComment, ("body",)),
    (ContractDocumentFile, ("name", "content")),
    (Delivery, ("lot", "carrier", "conformity_statement")),
)


@handles(KEYS_ROTATED)
def reseal_texts(session: Session) -> None:
    """Re-seal every sealed column of the contracts under the current key-encryption key, in the
    rotation's transaction (reading opened them with whichever key sealed them)."""
    for model, names in SEALED_COLUMNS:
        rows: Sequence[SQLModel] = session.exec(select(model)).all()
        for row in rows:
            for name in names:
                attributes.flag_modified(row, name)
            session.add(row)
        session.flush()
