"""Exchange contracts: drafted from a revealed introduction, versions and their diff, comments,
the regulatory status wizard with its evidence, signatures (PAdES), the PDF and its
verification, deliveries and the registers' lines. Only the giver, the taker and the
facilitator reach a contract: anyone else gets 404, as for one that does not exist."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Path, Query, Response, UploadFile

from api.deps import ActorDep, SessionDep
from api.errors import RATE_LIMITED, error_response
from api.guard import UPLOAD_MARK
from contracts.terms import diff
from marketplace.exchanges import deliveries, drafting, outbox, service, signing, wizard
from marketplace.exchanges.errors import DocumentTooLarge
from marketplace.exchanges.models import (
    Contract,
    ContractComment,
    ContractDocumentFile,
    ContractVersion,
)
from marketplace.exchanges.schemas import (
    CommentCreate,
    CommentRead,
    ContractCreate,
    ContractNoticeRead,
    ContractRead,
    DeliveriesRead,
    DeliveryCreate,
    DeliveryRead,
    DiffRead,
    DocumentRead,
    QualificationRead,
    SignatureRead,
    SignRequest,
    StatusAnswers,
    TermsProposal,
    VerificationRead,
    VersionRead,
)
from marketplace.exchanges.states import Event, Party

router = APIRouter(prefix="/contracts", tags=["contracts"])

ContractId = Annotated[uuid.UUID, Path(description="the contract's id")]
UNAVAILABLE = error_response("The platform's certificate authority is not available: retry later")
NOT_KEPT = error_response("The contract's regulatory route keeps no such register")
PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "The contract's PDF"}
}
CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "The register's lines, `;`-separated"}
}


def qualification(version: ContractVersion) -> QualificationRead:
    terms = service.terms_of(version)
    answers = service.answers_of(version)
    missing = service.missing_of(version)
    decided = service.qualify(answers) if answers is not None else None
    return QualificationRead(
        route=version.route,
        reasons=decided.reasons if decided else [],
        reasons_en=decided.reasons_en if decided else [],
        missing=[c.id for c in missing],
        missing_labels=[c.label_en for c in missing],
        obligations=service.obligations_of(version, terms),
        answers=answers,
        evidence=service.evidence_of(version),
        r_code=version.r_code,
    )


def read(session: SessionDep, contract: Contract, party: Party, actor: ActorDep) -> ContractRead:
    service.identities_read(session, actor, contract)
    version = service.version_of(session, contract)
    return ContractRead(
        id=contract.id,
        reference=contract.reference,
        state=contract.state,
        side=party.value,
        introduction_id=contract.introduction_id,
        giver_company_id=contract.giver_company_id,
        taker_company_id=contract.taker_company_id,
        current_version=contract.current_version,
        version=contract.version,
        terms=service.terms_of(version),
        terms_hash=version.terms_hash,
        frozen_at=version.frozen_at,
        qualification=qualification(version),
        signatures=[
            SignatureRead.model_validate(s, from_attributes=True)
            for s in service.signatures(session, contract)
        ],
        activated_at=contract.activated_at,
        closed_at=contract.closed_at,
        created_at=contract.created_at,
        updated_at=contract.updated_at,
    )


def _answer(session: SessionDep, actor: ActorDep, contract: Contract) -> ContractRead:
    return read(session, contract, service.side_of(actor, contract), actor)


@router.post("", response_model=ContractRead, status_code=201)
def draft_contract(data: ContractCreate, session: SessionDep, actor: ActorDep) -> ContractRead:
    """The facilitator drafts the contract of a revealed introduction: the parties from the
    revealed identities, the material and quantities from the flows, default clauses."""
    return _answer(session, actor, drafting.draft(session, actor, data))


@router.get("", response_model=list[ContractRead])
def list_contracts(
    session: SessionDep,
    actor: ActorDep,
    state: Annotated[str | None, Query(max_length=16)] = None,
) -> list[ContractRead]:
    """The company's contracts (as giver or taker), or every contract for the facilitator."""
    return [_answer(session, actor, c) for c in service.list_contracts(session, actor, state)]


@router.get("/notices", response_model=list[ContractNoticeRead])
def list_notices(session: SessionDep, actor: ActorDep) -> list[ContractNoticeRead]:
    """The company's notices of its contracts (drafted, ready, signed, active, ending, no
    delivery lately...), newest first."""
    company_id = actor.require_company()
    return [
        ContractNoticeRead.model_validate(n, from_attributes=True)
        for n in outbox.notices(session, company_id)
    ]


@router.post("/notices/{notice_id}/read", response_model=ContractNoticeRead)
def mark_notice_read(
    notice_id: uuid.UUID, session: SessionDep, actor: ActorDep
) -> ContractNoticeRead:
    """Mark one notice of the company read; another company's notice is 404."""
    notice = outbox.mark_read(session, actor.require_company(), notice_id)
    return ContractNoticeRead.model_validate(notice, from_attributes=True)


@router.get("/{contract_id}", response_model=ContractRead)
def get_contract(contract_id: ContractId, session: SessionDep, actor: ActorDep) -> ContractRead:
    contract, party = service.get_contract(session, actor, contract_id)
    return read(session, contract, party, actor)


def _version(version: ContractVersion) -> VersionRead:
    return VersionRead(
        number=version.number,
        terms=service.terms_of(version),
        terms_hash=version.terms_hash,
        route=version.route,
        note=version.note,
        frozen_at=version.frozen_at,
        created_at=version.created_at,
    )


@router.get("/{contract_id}/versions", response_model=list[VersionRead])
def list_versions(
    contract_id: ContractId, session: SessionDep, actor: ActorDep
) -> list[VersionRead]:
    contract, _ = service.get_contract(session, actor, contract_id)
    service.identities_read(session, actor, contract)
    return [_version(v) for v in service.versions(session, contract)]


@router.post("/{contract_id}/versions", response_model=ContractRead, status_code=201)
def propose_terms(
    contract_id: ContractId, data: TermsProposal, session: SessionDep, actor: ActorDep
) -> ContractRead:
    """New terms (the facilitator, or a party's company administrator): a new version, back
    to draft; any signature of the version it replaces is void."""
    return _answer(session, actor, drafting.propose_terms(session, actor, contract_id, data))


@router.get("/{contract_id}/versions/{number}", response_model=VersionRead)
def get_version(
    contract_id: ContractId,
    number: Annotated[int, Path(ge=1, le=10_000)],
    session: SessionDep,
    actor: ActorDep,
) -> VersionRead:
    contract, _ = service.get_contract(session, actor, contract_id)
    service.identities_read(session, actor, contract)
    return _version(service.version_of(session, contract, number))


@router.get("/{contract_id}/diff", response_model=DiffRead)
def diff_versions(
    contract_id: ContractId,
    session: SessionDep,
    actor: ActorDep,
    from_version: Annotated[int | None, Query(ge=1, le=10_000)] = None,
    to_version: Annotated[int | None, Query(ge=1, le=10_000)] = None,
) -> DiffRead:
    """What changed between two versions, field by field, in the terms' order (by default,
    from the version before the current one to the current one)."""
    contract, _ = service.get_contract(session, actor, contract_id)
    service.identities_read(session, actor, contract)
    to_version = to_version or contract.current_version
    from_version = from_version or max(to_version - 1, 1)
    old = service.version_of(session, contract, from_version)
    new = service.version_of(session, contract, to_version)
    return DiffRead(
        from_version=from_version,
        to_version=to_version,
        changes=diff(service.terms_of(old), service.terms_of(new)),
    )


def _comment(row: ContractComment) -> CommentRead:
    return CommentRead.model_validate(row, from_attributes=True)


@router.get("/{contract_id}/comments", response_model=list[CommentRead])
def list_comments(
    contract_id: ContractId, session: SessionDep, actor: ActorDep
) -> list[CommentRead]:
    return [_comment(c) for c in service.comments(session, actor, contract_id)]


@router.post("/{contract_id}/comments", response_model=CommentRead, status_code=201)
def post_comment(
    contract_id: ContractId, data: CommentCreate, session: SessionDep, actor: ActorDep
) -> CommentRead:
    return _comment(service.comment(session, actor, contract_id, data.body))


def _document(row: ContractDocumentFile) -> DocumentRead:
    return DocumentRead.model_validate(row, from_attributes=True)


@router.get("/{contract_id}/documents", response_model=list[DocumentRead])
def list_documents(
    contract_id: ContractId, session: SessionDep, actor: ActorDep
) -> list[DocumentRead]:
    return [_document(d) for d in wizard.documents(session, actor, contract_id)]


@router.post(
    "/{contract_id}/documents",
    response_model=DocumentRead,
    status_code=201,
    openapi_extra={UPLOAD_MARK: True},
)
def attach_document(
    contract_id: ContractId,
    session: SessionDep,
    actor: ActorDep,
    file: UploadFile = File(description="a document evidencing a condition (PDF, image...)"),
) -> DocumentRead:
    """Attach a document as evidence; cite it in the status by its `sha256`."""
    # Access first: a stranger learns nothing, not even the size limit.
    service.get_contract(session, actor, contract_id)
    limit = wizard.MAX_DOCUMENT_BYTES
    content = file.file.read(limit + 1)
    if len(content) > limit:
        raise DocumentTooLarge(field="file", limit=limit // (1024 * 1024))
    row = wizard.attach_document(
        session,
        actor,
        contract_id,
        file.filename or "document",
        file.content_type or "application/octet-stream",
        content,
    )
    return _document(row)


@router.get("/{contract_id}/status", response_model=QualificationRead)
def get_status(contract_id: ContractId, session: SessionDep, actor: ActorDep) -> QualificationRead:
    contract, _ = service.get_contract(session, actor, contract_id)
    return qualification(service.version_of(session, contract))


@router.put("/{contract_id}/status", response_model=QualificationRead)
def set_status(
    contract_id: ContractId, data: StatusAnswers, session: SessionDep, actor: ActorDep
) -> QualificationRead:
    """The status wizard: the answers decide the route (waste, by-product, end-of-waste,
    outside waste law); `missing` lists the conditions still without evidence."""
    return qualification(wizard.set_status(session, actor, contract_id, data))


@router.post("/{contract_id}/review", response_model=ContractRead)
def submit(contract_id: ContractId, session: SessionDep, actor: ActorDep) -> ContractRead:
    """The facilitator puts the draft up for review."""
    return _answer(session, actor, service.submit(session, actor, contract_id))


@router.post("/{contract_id}/ready", response_model=ContractRead)
def freeze(contract_id: ContractId, session: SessionDep, actor: ActorDep) -> ContractRead:
    """Ready for signature: terms frozen, hash fixed, PDF rendered. 422 naming the condition
    while a piece of evidence is missing."""
    return _answer(session, actor, service.freeze(session, actor, contract_id))


@router.post(
    "/{contract_id}/sign",
    response_model=ContractRead,
    responses={429: RATE_LIMITED, 503: UNAVAILABLE},
)
def sign(
    contract_id: ContractId, data: SignRequest, session: SessionDep, actor: ActorDep
) -> ContractRead:
    """Sign the current version (a company administrator of the giver or the taker; the
    facilitator countersigns after both): the password is asked again (403 naming `password`
    when wrong), a certificate is issued by the platform's CA, and the PDF signed (PAdES)."""
    contract = signing.sign(session, actor, contract_id, data.password, data.version)
    return _answer(session, actor, contract)


@router.post("/{contract_id}/complete", response_model=ContractRead)
def complete(contract_id: ContractId, session: SessionDep, actor: ActorDep) -> ContractRead:
    return _answer(session, actor, service.close(session, actor, contract_id, Event.COMPLETE))


@router.post("/{contract_id}/terminate", response_model=ContractRead)
def terminate(contract_id: ContractId, session: SessionDep, actor: ActorDep) -> ContractRead:
    return _answer(session, actor, service.close(session, actor, contract_id, Event.TERMINATE))


@router.get("/{contract_id}/pdf", response_class=Response, responses=PDF)
def pdf(
    contract_id: ContractId,
    session: SessionDep,
    actor: ActorDep,
    lang: Annotated[Literal["fr", "en"] | None, Query()] = None,
) -> Response:
    """The current version's PDF: once frozen, the stored one with its signatures; before, or
    with `lang=en`, a render of the current terms (unsigned)."""
    body = signing.pdf_of(session, actor, contract_id, lang)
    contract, _ = service.get_contract(session, actor, contract_id)
    service.identities_read(session, actor, contract)
    name = f"{contract.reference}-v{contract.current_version}.pdf"
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/{contract_id}/verify", response_model=VerificationRead)
def verify(contract_id: ContractId, session: SessionDep, actor: ActorDep) -> VerificationRead:
    """Every signature of the stored PDF checked against the platform's CA, and whether the
    document changed after signing."""
    return signing.verify(session, actor, contract_id)


@router.get("/{contract_id}/deliveries", response_model=DeliveriesRead)
def list_deliveries(
    contract_id: ContractId, session: SessionDep, actor: ActorDep
) -> DeliveriesRead:
    """The deliveries, with their total against the contracted quantity."""
    return deliveries.listing(session, actor, contract_id)


@router.post("/{contract_id}/deliveries", response_model=DeliveryRead, status_code=201)
def record_delivery(
    contract_id: ContractId, data: DeliveryCreate, session: SessionDep, actor: ActorDep
) -> DeliveryRead:
    """A delivery against an active contract, in its contracted unit; an end-of-waste lot
    needs its statement of conformity."""
    return deliveries.read(deliveries.record(session, actor, contract_id, data))


@router.get(
    "/{contract_id}/registers/{register}",
    response_class=Response,
    responses={**CSV, 409: NOT_KEPT},
)
def register(
    contract_id: ContractId,
    register: Literal["outgoing", "incoming", "end_of_waste"],
    session: SessionDep,
    actor: ActorDep,
) -> Response:
    """The lines of the chronological register (outgoing or incoming waste, end-of-waste) for
    this contract's deliveries, with the producer's and receiver's name and SIRET."""
    text = deliveries.register_csv(session, actor, contract_id, register)
    contract, _ = service.get_contract(session, actor, contract_id)
    service.identities_read(session, actor, contract)
    return Response(
        text.encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{contract.reference}-{register}.csv"'
        },
    )
