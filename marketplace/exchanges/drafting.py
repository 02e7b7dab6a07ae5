"""Drafting a contract from a revealed introduction, and new terms as new versions: the
parties read through the audited reveal path, a change after a signature voiding it."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import sqlalchemy as sa
from pydantic import ValidationError
from sqlmodel import Session, col, select

from contracts.terms import PartyRole, PartyTerms, Price, Regularity, Terms, Unit, default_clauses
from core.db import lock_for_update
from core.inputs import invalid_from
from core.models import utcnow
from marketplace.accounts.errors import StaffOnly
from marketplace.accounts.service import Actor
from marketplace.catalogue.models import PoolShare
from marketplace.companies.models import Company, Site
from marketplace.companies.service import revealed_identity, site_name, site_position
from marketplace.exchanges import outbox
from marketplace.exchanges.errors import (
    AlreadyDrafted,
    IntroductionNotRevealed,
    NotAnAcceptingContributor,
    PartiesByFacilitator,
    PooledIntroduction,
    StaleVersion,
)
from marketplace.exchanges.models import (
    Contract,
    ContractVersion,
)
from marketplace.exchanges.schemas import ContractCreate, TermsProposal
from marketplace.exchanges.service import (
    ASSOCIATION_ADDRESS,
    ASSOCIATION_NAME,
    about,
    acting_party,
    fire,
    lock_contract,
    next_state,
    signatures,
    version_of,
)
from marketplace.exchanges.states import (
    Event,
    Party,
    State,
)
from marketplace.flows.models import Direction, Flow
from marketplace.introductions.errors import NoSuchIntroduction
from marketplace.introductions.models import Introduction, ShareState
from marketplace.introductions.service import is_pooled, share_of
from marketplace.introductions.states import State as IntroductionState
from privacy import audit

UNITS = {"t/yr": Unit.TONNE, "MWh/yr": Unit.MWH, "m3/yr": Unit.CUBIC_METRE}


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
    session: Session, intro: Introduction, data: ContractCreate
) -> tuple[uuid.UUID, uuid.UUID, Flow | None, Flow | None]:
    """(giver, taker, giver's flow, taker's flow): the offer's company gives; for a pooled
    offer, the contributor named (one who accepted) gives its share."""
    requester_flow = session.get(Flow, intro.requester_flow_id) if intro.requester_flow_id else None
    if is_pooled(intro):
        contributor = data.contributor_company_id
        if contributor is None:
            raise PooledIntroduction(field="contributor_company_id")
        share = share_of(session, intro, contributor)
        if share is None or share.state != ShareState.ACCEPTED:
            raise NotAnAcceptingContributor(field="contributor_company_id")
        query = select(Flow).join(PoolShare, col(PoolShare.flow_id) == col(Flow.id))
        query = query.where(
            PoolShare.listing_id == intro.listing_id, PoolShare.company_id == contributor
        )
        return contributor, intro.requester_company_id, session.exec(query).first(), requester_flow
    if data.contributor_company_id is not None:
        raise NotAnAcceptingContributor(field="contributor_company_id")
    assert intro.owner_company_id is not None
    owner_flow = session.get(Flow, intro.owner_flow_id) if intro.owner_flow_id else None
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
    if intro.state != IntroductionState.REVEALED:
        raise IntroductionNotRevealed(field="introduction_id", state=intro.state)
    giver, taker, giver_flow, taker_flow = _sides(session, intro, data)
    drafted = select(Contract.id).where(
        Contract.introduction_id == intro.id, Contract.giver_company_id == giver
    )
    if session.exec(drafted).first():
        raise AlreadyDrafted(field="introduction_id")
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


def _identities(terms: Terms) -> list[tuple[str, str, str | None]]:
    return [(p.role.value, p.legal_name, p.siret) for p in terms.parties]


def _others(terms: Terms, party: Party) -> list[dict[str, object]]:
    """The parties' entries other than ``party``'s own, as the terms state them."""
    own = PartyRole.GIVER if party == Party.GIVER else PartyRole.TAKER
    return [p.model_dump(mode="json") for p in terms.parties if p.role != own]


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
    before = Terms.model_validate_json(previous.terms)
    if party != Party.FACILITATOR and (
        _identities(proposal.terms) != _identities(before)
        or _others(proposal.terms, party) != _others(before, party)
    ):
        # A party proposes the deal's terms and its own address, site and representative,
        # never who the parties are nor anything the other party says of itself.
        raise PartiesByFacilitator(field="terms.parties")
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
