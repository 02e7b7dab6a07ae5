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
from datetime import date, timedelta

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.orm import attributes
from sqlmodel import Session, SQLModel, col, or_, select

from contracts.document import ContractDocument, PlannedSigner
from contracts.pdf import render_pdf
from contracts.status import (
    CONDITIONS,
    Answers,
    Condition,
    Evidence,
    Obligation,
    Route,
    missing_evidence,
    normalise_operation_code,
    obligations,
    qualify,
)
from contracts.terms import PartyRole, PartyTerms, Price, Regularity, Terms, Unit, default_clauses
from core.db import lock_for_update
from core.events import handles
from core.inputs import invalid_from
from core.models import utcnow
from marketplace.accounts.errors import CompanyAdminOnly, StaffOnly
from marketplace.accounts.service import Actor
from marketplace.companies.models import Company, Site
from marketplace.companies.service import revealed_identity, site_name, site_position
from marketplace.exchanges import outbox
from marketplace.exchanges.errors import (
    AlreadyDrafted,
    ContractStateRefuses,
    DocumentEmpty,
    DocumentTooLarge,
    EvidenceMissing,
    IntroductionNotRevealed,
    NoSuchContract,
    NoSuchVersion,
    NotYourStep,
    PooledIntroduction,
    StaleVersion,
    StatusNotQualified,
    UnknownCondition,
    UnknownEvidenceDocument,
)
from marketplace.exchanges.models import (
    Contract,
    ContractComment,
    ContractDocumentFile,
    ContractSignature,
    ContractVersion,
    Delivery,
)
from marketplace.exchanges.schemas import ContractCreate, StatusAnswers, TermsProposal
from marketplace.exchanges.states import (
    AMENDABLE,
    Event,
    IllegalTransition,
    Party,
    PartyNotAllowed,
    State,
    transition,
)
from marketplace.flows.errors import UnknownOperation
from marketplace.flows.events import KEYS_ROTATED
from marketplace.flows.models import Direction, Flow
from marketplace.introductions.errors import NoSuchIntroduction
from marketplace.introductions.models import Introduction
from marketplace.introductions.states import State as IntroductionState
from privacy import audit

# The association as a party: it drafts and countersigns.
ASSOCIATION_NAME = "Structure d'animation du territoire"
ASSOCIATION_ADDRESS = "—"
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
UNITS = {"t/yr": Unit.TONNE, "MWh/yr": Unit.MWH, "m3/yr": Unit.CUBIC_METRE}


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


# --- drafting --------------------------------------------------------------------------------


def _next_reference(session: Session, year: int) -> str:
    prefix = f"SYM-{year}-"
    query = select(sa.func.count()).where(col(Contract.reference).startswith(prefix))
    return f"{prefix}{int(session.exec(query).one()) + 1:04d}"


def _party(
    session: Session,
    actor: Actor,
    contract: Contract,
    role: PartyRole,
    company_id: uuid.UUID,
    flow: Flow | None,
) -> PartyTerms:
    """A party as the terms name it, read through the audited reveal path."""
    company = session.get(Company, company_id)
    assert company is not None
    identity = revealed_identity(
        session,
        company,
        reader_id=actor.user_id,
        why=about(contract, introduction_id=contract.introduction_id),
    )
    site = session.get(Site, flow.site_id) if flow is not None else None
    representative = identity.contacts[0].name if identity.contacts else None
    return PartyTerms(
        role=role,
        legal_name=identity.legal_name,
        siret=identity.siret,
        address=identity.address or "—",
        site_name=site_name(company, site) if site is not None else None,
        site_address=site_position(company, site).commune or None if site is not None else None,
        representative=representative,
    )


def _sides(
    session: Session, intro: Introduction
) -> tuple[uuid.UUID, uuid.UUID, Flow | None, Flow | None]:
    """(giver, taker, giver's flow, taker's flow): the offer's company gives."""
    assert intro.owner_company_id is not None
    owner_flow = session.get(Flow, intro.owner_flow_id) if intro.owner_flow_id else None
    requester_flow = session.get(Flow, intro.requester_flow_id) if intro.requester_flow_id else None
    owner_gives = owner_flow is None or owner_flow.direction == Direction.OFFER
    if requester_flow is not None and owner_flow is None:
        owner_gives = requester_flow.direction == Direction.REQUEST
    if owner_gives:
        return intro.owner_company_id, intro.requester_company_id, owner_flow, requester_flow
    return intro.requester_company_id, intro.owner_company_id, requester_flow, owner_flow


def draft(session: Session, actor: Actor, data: ContractCreate) -> Contract:
    """The facilitator drafts a contract from a revealed introduction: parties from the
    revealed identities, material and quantities from the flows, default clauses."""
    if not actor.is_staff:
        raise StaffOnly()
    intro = session.get(Introduction, data.introduction_id)
    if intro is None:
        raise NoSuchIntroduction(field="introduction_id")
    lock_for_update(session, intro)
    if intro.owner_company_id is None:
        raise PooledIntroduction(field="introduction_id")
    if intro.state != IntroductionState.REVEALED:
        raise IntroductionNotRevealed(field="introduction_id", state=intro.state)
    if session.exec(select(Contract.id).where(Contract.introduction_id == intro.id)).first():
        raise AlreadyDrafted(field="introduction_id")
    giver, taker, giver_flow, taker_flow = _sides(session, intro)
    start = data.start_date or date.today()
    end = data.end_date or start + timedelta(days=365)
    contract = Contract(
        introduction_id=intro.id,
        reference=_next_reference(session, start.year if data.start_date else utcnow().year),
        state=State.DRAFT.value,
        giver_company_id=giver,
        taker_company_id=taker,
        end_date=end,
    )
    session.add(contract)
    session.flush()
    material = giver_flow or taker_flow
    clauses = default_clauses(data.locale)
    words = _DRAFT_WORDS[data.locale]
    unit = UNITS.get(material.base_unit, Unit.TONNE) if material else Unit.TONNE
    try:
        terms = Terms(
            parties=[
                _party(session, actor, contract, PartyRole.GIVER, giver, giver_flow),
                _party(session, actor, contract, PartyRole.TAKER, taker, taker_flow),
                PartyTerms(
                    role=PartyRole.FACILITATOR,
                    legal_name=ASSOCIATION_NAME,
                    address=ASSOCIATION_ADDRESS,
                ),
            ],
            material_label=(material.label[:200] if material else "") or words["material"],
            low_code=_spaced(material.low_code) if material and material.low_code else None,
            hazardous=bool(material and material.hazardous),
            quantity_per_year=(material.quantity_per_year if material else 0) or 1.0,
            unit=unit,
            regularity=Regularity(str(material.regularity)) if material else Regularity.BATCH,
            quality_specification=(material.quality_spec if material else "") or words["quality"],
            acceptance_tests=words["acceptance"],
            price=Price(kind="free", amount_cents=0, per_unit=unit, payer=None),
            delivery_point=words["delivery_point"],
            transport=words["transport"],
            start_date=start,
            end_date=end,
            **clauses,
        )
    except ValidationError as exc:
        raise invalid_from(exc) from exc
    _add_version(session, actor, contract, terms, note="", number=1, previous=None)
    audit.append(
        session,
        "contract.draft",
        actor_id=actor.user_id,
        subject_id=contract.id,
        data=about(contract, introduction_id=intro.id),
    )
    outbox.to_parties(session, contract, "contract.drafted")
    session.flush()
    return contract


_DRAFT_WORDS = {
    "fr": {
        "material": "Matière à préciser",
        "quality": "À préciser par les parties.",
        "acceptance": "Contrôle visuel et pesée à réception ; analyses selon la spécification.",
        "delivery_point": "Site du preneur",
        "transport": "Organisé par le preneur, à ses frais.",
    },
    "en": {
        "material": "Material to be specified",
        "quality": "To be specified by the parties.",
        "acceptance": "Visual check and weighing on receipt; analyses as specified.",
        "delivery_point": "The taker's site",
        "transport": "Arranged by the taker, at its own cost.",
    },
}


def _spaced(code: str) -> str:
    digits = code.replace(" ", "")
    return f"{digits[:2]} {digits[2:4]} {digits[4:6]}" if len(digits) == 6 else code


def _add_version(
    session: Session,
    actor: Actor,
    contract: Contract,
    terms: Terms,
    *,
    note: str,
    number: int,
    previous: ContractVersion | None,
) -> ContractVersion:
    version = ContractVersion(
        contract_id=contract.id,
        number=number,
        terms=terms.model_dump_json(),
        terms_hash=terms.sha256(),
        author_user_id=actor.user_id,
        note=note,
    )
    if previous is not None:
        # The status answers carry over: the wizard is answered again only if they changed.
        version.route, version.answers = previous.route, previous.answers
        version.evidence, version.r_code = previous.evidence, previous.r_code
        version.end_of_waste_act = previous.end_of_waste_act
        version.case_by_case_decision = previous.case_by_case_decision
        version.qualified_at = previous.qualified_at
    session.add(version)
    contract.current_version = number
    contract.end_date = terms.end_date
    session.add(contract)
    session.flush()
    audit.append(
        session,
        "contract.version",
        actor_id=actor.user_id,
        subject_id=version.id,
        data=about(contract, number=number, terms_hash=version.terms_hash),
    )
    return version


def propose_terms(
    session: Session, actor: Actor, contract_id: uuid.UUID, proposal: TermsProposal
) -> Contract:
    """New terms as a new version, back to draft; the signatures of the version it replaces
    are void (each voiding an audit entry)."""
    contract, party = lock_contract(session, actor, contract_id)
    acting_party(actor, party)
    next_state(contract, Event.AMEND, party)
    if proposal.base_version != contract.current_version:
        raise StaleVersion(
            field="base_version", current=contract.current_version, given=proposal.base_version
        )
    previous = version_of(session, contract)
    now = utcnow()
    for signature in signatures(session, contract):
        signature.voided_at = now
        session.add(signature)
        audit.append(
            session,
            "contract.signature_voided",
            actor_id=actor.user_id,
            subject_id=signature.id,
            data=about(contract, number=signature.version_number, role=signature.role),
        )
    _add_version(
        session,
        actor,
        contract,
        proposal.terms,
        note=proposal.note,
        number=contract.current_version + 1,
        previous=previous,
    )
    fire(session, contract, Event.AMEND, party, actor.user_id, number=contract.current_version)
    outbox.to_parties(session, contract, "contract.amended", but=actor.company_id)
    session.flush()
    return contract


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


# --- documents and the status wizard ---------------------------------------------------------


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
