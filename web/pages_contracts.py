"""« Contrats »: the list of the viewer's contracts, one contract's page (terms, versions and their
diff, comments, regulatory status, signatures, the steps its side may take), the status wizard,
signing with the password asked again, proposing new terms, deliveries with the registers' CSV,
the PDF and its verification report; and the facilitator's « Rédiger le contrat » from a
revealed introduction.

Companies and the facilitator share these pages: the service decides who reads a contract
(its two parties and the facilitator) and answers "no such contract" to anyone else, which
is the same 404 page as for an id that does not exist."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session
from starlette.datastructures import FormData, UploadFile

from contracts.status import end_of_waste_acts, recovery_operations
from contracts.terms import Regularity, Unit, diff
from core.errors import DomainError
from marketplace.exchanges import deliveries, drafting, service, signing, wizard
from marketplace.exchanges.errors import (
    DocumentTooLarge,
    EvidenceMissing,
    WrongPassword,
)
from marketplace.exchanges.models import Contract, ContractVersion
from marketplace.exchanges.schemas import (
    CommentCreate,
    ContractCreate,
    DeliveryCreate,
    StatusAnswers,
    TermsProposal,
)
from marketplace.exchanges.states import Event, Party, State
from web import contracts as views
from web.forms import (
    FieldErrors,
    SubmittedForm,
    domain_errors,
    explain,
    number,
    place_errors,
    text,
    validation_errors,
    values,
)
from web.i18n import N_, Translate, page_locale, page_translator
from web.labels import REGULARITIES, label
from web.security import SIGNED_IN_PAGES, CurrentViewer, DbSession, Viewer
from web.templating import render

router = APIRouter(include_in_schema=False, dependencies=SIGNED_IN_PAGES)

BASE = "/contracts"
PostAction = Literal["submit", "ready", "complete", "terminate"]
NOTICES = {
    "submit": "contract-submitted",
    "ready": "contract-ready",
    "complete": "contract-completed",
    "terminate": "contract-terminated",
}
Register = Literal["outgoing", "incoming", "end_of_waste"]
REGISTERS = {
    "waste": (
        ("outgoing", N_("Register of outgoing waste (CSV)")),
        ("incoming", N_("Register of incoming waste (CSV)")),
    ),
    "end_of_waste": (("end_of_waste", N_("Register of end-of-waste lots (CSV)")),),
}
ANSWER_FIELDS = [name for name, _question in views.QUESTIONS]


def _refusal(session: Session, exc: DomainError | ValidationError, t: Translate) -> FieldErrors:
    """A refused form's errors by field; anything but a refusal of the input (a stranger's id,
    a step that is not the viewer's) goes to the error pages as everywhere."""
    session.rollback()
    if isinstance(exc, ValidationError):
        return validation_errors(exc, t)
    if exc.status_code in (403, 404) and not isinstance(exc, WrongPassword):
        raise exc
    return domain_errors(exc, t)


# --- the list ---------------------------------------------------------------------------------


@router.get(BASE)
def contracts_page(request: Request, session: DbSession, viewer: CurrentViewer) -> Response:
    translate = page_translator(request)
    rows = []
    for contract in service.list_contracts(session, viewer.actor):
        party = service.side_of(viewer.actor, contract)
        # The row names both parties: for the facilitator, identity reads (logged).
        service.identities_read(session, viewer.actor, contract)
        version = service.version_of(session, contract)
        terms = service.terms_of(version)
        signed = {s.role for s in service.signatures(session, contract)}
        rows.append(
            {
                "id": contract.id,
                "reference": contract.reference,
                "material": terms.material_label,
                "state": contract.state,
                "state_label": views.state_label(contract.state, translate),
                "version": contract.current_version,
                "counterpart": views.counterpart(terms, party),
                "route": views.route_label(version.route, translate),
                "next": views.next_step(contract.state, party, signed, translate),
            }
        )
    return render(request, "contracts.html", {"rows": rows})


@router.post(BASE)
def draft_contract(
    request: Request, session: DbSession, viewer: CurrentViewer, form: SubmittedForm
) -> Response:
    """« Rédiger le contrat » from the console's revealed introduction (the service refuses
    anyone but the facilitator)."""
    try:
        data = ContractCreate.model_validate(
            {
                "introduction_id": text(form, "introduction_id"),
                "contributor_company_id": text(form, "contributor_company_id") or None,
                "locale": page_locale(request),
            }
        )
    except ValidationError:
        # A tampered form: no introduction of that id.
        return render(
            request,
            "error.html",
            {
                "status": 404,
                "title": page_translator(request)(N_("Page not found")),
                "message": page_translator(request)(
                    N_("This page does not exist, or is not yours to see.")
                ),
            },
            status_code=404,
        )
    contract = drafting.draft(session, viewer.actor, data)
    return RedirectResponse(f"{BASE}/{contract.id}?notice=contract-drafted", status_code=303)


# --- one contract -----------------------------------------------------------------------------


def _versions(
    session: Session, contract: Contract
) -> tuple[list[ContractVersion], dict[int, ContractVersion]]:
    found = list(service.versions(session, contract))
    return found, {v.number: v for v in found}


def _detail(
    request: Request,
    session: Session,
    viewer: Viewer,
    contract_id: uuid.UUID,
    *,
    from_version: int | None = None,
    to_version: int | None = None,
    comment_body: str = "",
    comment_error: str = "",
    action_error: str = "",
) -> Response:
    locale, translate = page_locale(request), page_translator(request)
    contract, party = service.get_contract(session, viewer.actor, contract_id)
    service.identities_read(session, viewer.actor, contract)
    version = service.version_of(session, contract)
    terms = service.terms_of(version)
    all_versions, by_number = _versions(session, contract)
    # The diff: by default the last change (the version before the current one to it).
    to_number = to_version if to_version in by_number else contract.current_version
    assert to_number is not None
    from_number = from_version if from_version in by_number else max(to_number - 1, 1)
    changes = diff(service.terms_of(by_number[from_number]), service.terms_of(by_number[to_number]))
    standing = list(service.signatures(session, contract))
    signed = {s.role for s in standing}
    missing = service.missing_of(version)
    answers = service.answers_of(version)
    decided = service.qualify(answers) if answers is not None else None
    comments = [
        {
            "side": translate(views.SIDES.get(c.author_side, c.author_side)),
            "own": c.author_side == party.value,
            "body": c.body,
            "version": c.version_number,
            "sent": c.created_at,
        }
        for c in service.comments(session, viewer.actor, contract.id)
    ]
    route = version.route
    context: dict[str, Any] = {
        "contract": contract,
        "party": party.value,
        "side_label": translate(views.SIDES[party.value]),
        "state_label": views.state_label(contract.state, translate),
        "next_step": views.next_step(contract.state, party, signed, translate),
        "version": version,
        "terms": terms,
        "parties": [
            (translate(views.SIDES.get(p.role.value, p.role.value)), p) for p in terms.parties
        ],
        "rows": views.terms_rows(terms, locale, translate),
        "clauses": views.clause_rows(terms, translate),
        "versions": all_versions,
        "from_number": from_number,
        "to_number": to_number,
        "changes": views.change_views(changes, locale, translate),
        "comments": comments,
        "comment_body": comment_body,
        "comment_error": comment_error,
        "comments_open": State(contract.state)
        in {State.DRAFT, State.REVIEW, State.READY, State.SIGNING, State.SIGNED, State.ACTIVE},
        "route": route,
        "route_label": views.route_label(route, translate),
        "reasons": (decided.reasons_in(locale) if decided else []),
        "conditions": views.condition_views(
            route, service.evidence_of(version), {c.id for c in missing}, locale
        ),
        "missing": [views.condition_label(c, locale) for c in missing],
        "obligations": [
            o.label_en if locale == "en" else o.label_fr
            for o in service.obligations_of(version, terms)
        ],
        "r_code": version.r_code,
        "end_of_waste_act": version.end_of_waste_act,
        "case_by_case_decision": version.case_by_case_decision,
        # Who signed: the side and the company it signed for, as the terms name it.
        "signatures": [
            (
                f"{translate(views.SIDES.get(s.role, s.role))} · {views.signer_of(terms, s.role)}",
                s.signed_at,
                s.certificate_serial,
            )
            for s in standing
        ],
        "frozen": version.frozen_at is not None,
        "actions": views.actions_for(contract, party, viewer.actor, signed, translate),
        "action_error": action_error,
        "registers": [(name, translate(words)) for name, words in REGISTERS.get(route or "", ())],
    }
    status = 422 if comment_error or action_error else 200
    return render(request, "contract.html", context, status_code=status)


@router.get(BASE + "/{contract_id}")
def contract_page(
    contract_id: uuid.UUID,
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    from_version: Annotated[int | None, Query(alias="from", ge=1, le=10_000)] = None,
    to_version: Annotated[int | None, Query(alias="to", ge=1, le=10_000)] = None,
) -> Response:
    return _detail(
        request, session, viewer, contract_id, from_version=from_version, to_version=to_version
    )


@router.post(BASE + "/{contract_id}/comments")
def post_comment(
    contract_id: uuid.UUID,
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    form: SubmittedForm,
) -> Response:
    translate = page_translator(request)
    body = text(form, "body")
    try:
        data = CommentCreate.model_validate({"body": body})
        service.comment(session, viewer.actor, contract_id, data.body)
    except (ValidationError, DomainError) as exc:
        errors = _refusal(session, exc, translate)
        return _detail(
            request,
            session,
            viewer,
            contract_id,
            comment_body=body,
            comment_error=" ".join(errors.values()),
        )
    return RedirectResponse(f"{BASE}/{contract_id}?notice=comment-posted#comments", status_code=303)


def _evidence_refusal(exc: EvidenceMissing, locale: str, translate: Translate) -> str:
    """ "Ready for signature" refused: the missing condition named in the page's language."""
    label = views.condition_label_of(str(exc.params.get("condition", "")), locale)
    return translate(N_("Evidence missing for a condition: %(label)s"), label=label)


# --- the PDF and its verification -------------------------------------------------------------


@router.get(BASE + "/{contract_id}/pdf")
def contract_pdf(
    contract_id: uuid.UUID,
    session: DbSession,
    viewer: CurrentViewer,
    lang: Annotated[Literal["fr", "en"] | None, Query()] = None,
) -> Response:
    """The stored PDF with its signatures (French), or a render of the current terms."""
    body = signing.pdf_of(session, viewer.actor, contract_id, lang)
    contract, _ = service.get_contract(session, viewer.actor, contract_id)
    service.identities_read(session, viewer.actor, contract)
    suffix = f"-{lang}" if lang == "en" else ""
    name = f"{contract.reference}-v{contract.current_version}{suffix}.pdf"
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


@router.get(BASE + "/{contract_id}/verification")
def verification_page(
    contract_id: uuid.UUID, request: Request, session: DbSession, viewer: CurrentViewer
) -> Response:
    contract, _ = service.get_contract(session, viewer.actor, contract_id)
    version = service.version_of(session, contract)
    report = None
    if service.pdf_bytes(version) is not None and service.signatures(session, contract):
        report = signing.verify(session, viewer.actor, contract_id)
    return render(request, "contract_verification.html", {"contract": contract, "report": report})


# --- signing ----------------------------------------------------------------------------------


def _sign_form(
    request: Request,
    session: Session,
    viewer: Viewer,
    contract_id: uuid.UUID,
    errors: FieldErrors | None = None,
    status_code: int = 200,
) -> Response:
    translate = page_translator(request)
    contract, party = service.get_contract(session, viewer.actor, contract_id)
    version = service.version_of(session, contract)
    context = {
        "contract": contract,
        "version": version,
        "side_label": translate(views.SIDES[party.value]),
        "countersign": party == Party.FACILITATOR,
        "errors": place_errors(errors or {}, ["password"]),
    }
    return render(request, "contract_sign.html", context, status_code=status_code)


@router.get(BASE + "/{contract_id}/sign")
def sign_page(
    contract_id: uuid.UUID, request: Request, session: DbSession, viewer: CurrentViewer
) -> Response:
    return _sign_form(request, session, viewer, contract_id)


@router.post(BASE + "/{contract_id}/sign")
def sign(
    contract_id: uuid.UUID,
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    form: SubmittedForm,
) -> Response:
    """The password asked again, then the signature (a certificate of the platform's CA for
    this one signature, appended to the stored PDF)."""
    translate = page_translator(request)
    password = form.get("password")
    try:
        if not isinstance(password, str) or not password:
            return _sign_form(
                request,
                session,
                viewer,
                contract_id,
                {"password": translate(N_("Enter your password to sign."))},
                422,
            )
        number_text = text(form, "version")
        version_number = int(number_text) if number_text.isdigit() else 0
        # The failures count against this client's address, as at login: without it they
        # would all pool under one "unknown" address, and a few accounts' wrong guesses would
        # lock every signer of the platform out of the page.
        address = request.client.host if request.client else None
        signing.sign(session, viewer.actor, contract_id, password, version_number, address)
    except DomainError as exc:
        errors = _refusal(session, exc, translate)
        status = 403 if isinstance(exc, WrongPassword) else exc.status_code
        return _sign_form(request, session, viewer, contract_id, errors, status)
    return RedirectResponse(f"{BASE}/{contract_id}?notice=contract-signed", status_code=303)


# --- the status wizard ------------------------------------------------------------------------


def _answer_values(answers: dict[str, Any] | None) -> dict[str, str]:
    shown: dict[str, str] = {}
    for name, value in (answers or {}).items():
        if isinstance(value, bool):
            shown[name] = "yes" if value else "no"
        elif value is not None:
            shown[name] = str(value)
    return shown


def _status_page(
    request: Request,
    session: Session,
    viewer: Viewer,
    contract_id: uuid.UUID,
    *,
    errors: FieldErrors | None = None,
    shown: dict[str, str] | None = None,
) -> Response:
    locale, translate = page_locale(request), page_translator(request)
    contract, party = service.get_contract(session, viewer.actor, contract_id)
    version = service.version_of(session, contract)
    missing = service.missing_of(version)
    answers = service.answers_of(version)
    decided = service.qualify(answers) if answers is not None else None
    evidence = service.evidence_of(version)
    conditions = views.condition_views(version.route, evidence, {c.id for c in missing}, locale)
    filled = _answer_values(version.answers)
    filled["r_code"] = version.r_code or ""
    for item in conditions:
        filled[f"text-{item.id}"] = item.text
    filled.update(shown or {})
    names = [*ANSWER_FIELDS, "end_of_waste_act", "case_by_case_decision", "r_code"]
    names += [f"{kind}-{item.id}" for item in conditions for kind in ("text", "file")]
    context = {
        "contract": contract,
        "open": State(contract.state) in (State.DRAFT, State.REVIEW)
        and (party == Party.FACILITATOR or viewer.actor.is_company_admin),
        "questions": [(name, translate(words)) for name, words in views.QUESTIONS],
        "yes_no": [("yes", translate(N_("yes"))), ("no", translate(N_("no")))],
        "acts": [(a.reference, f"{a.reference} — {a.description_fr}") for a in end_of_waste_acts()],
        "operations": [
            (op.code.replace(" ", ""), f"{op.code} — {op.description_fr}")
            for op in recovery_operations()
        ],
        "route": version.route,
        "route_label": views.route_label(version.route, translate),
        "reasons": decided.reasons_in(locale) if decided else [],
        "conditions": conditions,
        "missing": [views.condition_label(c, locale) for c in missing],
        "values": filled,
        "errors": place_errors(errors or {}, names),
    }
    return render(request, "contract_status.html", context, status_code=422 if errors else 200)


@router.get(BASE + "/{contract_id}/status")
def status_page(
    contract_id: uuid.UUID, request: Request, session: DbSession, viewer: CurrentViewer
) -> Response:
    return _status_page(request, session, viewer, contract_id)


def _yes_no(form: FormData, name: str) -> bool | None:
    answer = text(form, name)
    return True if answer == "yes" else False if answer == "no" else None


def _evidence_field(key: str, conditions: list[str]) -> str:
    """A schema's path ("evidence.2.text") as the form's field (the condition's text box)."""
    parts = key.split(".")
    if parts[0] == "evidence" and len(parts) >= 2 and parts[1].isdigit():
        index = int(parts[1])
        if index < len(conditions):
            kind = "file" if parts[-1].startswith("document") else "text"
            return f"{kind}-{conditions[index]}"
    if parts[0] == "answers" and len(parts) >= 2:
        return parts[1]
    return key


@router.post(BASE + "/{contract_id}/status", openapi_extra={"x-upload": True})
def save_status(
    contract_id: uuid.UUID,
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    form: SubmittedForm,
) -> Response:
    """Two steps on one page: the questions (the route follows), then the evidence of each of
    the route's conditions (a text, and a document whose SHA-256 is kept)."""
    translate = page_translator(request)
    contract, _ = service.get_contract(session, viewer.actor, contract_id)
    version = service.version_of(session, contract)
    stage = text(form, "step")
    evidence = service.evidence_of(version)
    cited: list[str] = []
    errors: FieldErrors = {}
    try:
        if stage == "evidence" and version.answers is not None:
            answers: dict[str, Any] = dict(version.answers)
            r_code = text(form, "r_code") or None
            given = {e.condition: e for e in evidence}
            kept = [e for e in evidence if e.condition not in _route_ids(version.route)]
            items: list[dict[str, Any]] = [e.model_dump() for e in kept]
            cited = [e.condition for e in kept]
            for cid in _route_ids(version.route):
                words = text(form, f"text-{cid}")
                upload = form.get(f"file-{cid}")
                item: dict[str, Any] = {"condition": cid, "text": words}
                before = given.get(cid)
                if before is not None and before.document_sha256:
                    item["document_sha256"] = before.document_sha256
                    item["document_name"] = before.document_name
                if isinstance(upload, UploadFile) and upload.filename:
                    try:
                        row = _attach(session, viewer, contract_id, upload)
                    except DomainError as exc:
                        errors[f"file-{cid}"] = explain(exc, translate)
                        continue
                    item["document_sha256"] = row.sha256
                    item["document_name"] = upload.filename[:200]
                if words:
                    items.append(item)
                    cited.append(cid)
                elif "document_sha256" in item and item["document_sha256"] != (
                    before.document_sha256 if before else None
                ):
                    errors[f"text-{cid}"] = translate(
                        N_("Say in a few words what the document shows.")
                    )
            if errors:
                session.rollback()
                return _status_page(
                    request, session, viewer, contract_id, errors=errors, shown=values(form)
                )
            data = StatusAnswers.model_validate(
                {"answers": answers, "evidence": items, "r_code": r_code}
            )
        else:
            answers = {name: _yes_no(form, name) for name in ANSWER_FIELDS}
            answers["is_utility"] = bool(answers["is_utility"])
            answers["end_of_waste_act"] = text(form, "end_of_waste_act") or None
            answers["case_by_case_decision"] = text(form, "case_by_case_decision") or None
            data = StatusAnswers.model_validate(
                {
                    "answers": answers,
                    "evidence": [e.model_dump() for e in evidence],
                    "r_code": version.r_code,
                }
            )
        wizard.set_status(session, viewer.actor, contract_id, data)
    except (ValidationError, DomainError) as exc:
        refused = _refusal(session, exc, translate)
        errors = {_evidence_field(k, cited): v for k, v in refused.items()}
        return _status_page(
            request, session, viewer, contract_id, errors=errors, shown=values(form)
        )
    anchor = "#evidence" if stage != "evidence" else ""
    return RedirectResponse(
        f"{BASE}/{contract_id}/status?notice=status-saved{anchor}", status_code=303
    )


def _route_ids(route: str | None) -> list[str]:
    return [c.id for c in views.CONDITIONS[views.Route(route)]] if route else []


def _attach(session: Session, viewer: Viewer, contract_id: uuid.UUID, upload: UploadFile) -> Any:
    limit = wizard.MAX_DOCUMENT_BYTES
    content = upload.file.read(limit + 1)
    if len(content) > limit:
        raise DocumentTooLarge(field="file", limit=limit // (1024 * 1024))
    return wizard.attach_document(
        session,
        viewer.actor,
        contract_id,
        upload.filename or "document",
        upload.content_type or "application/octet-stream",
        content,
    )


# --- new terms (a new version) ------------------------------------------------------------------

TERMS_TEXT = [
    "material_label",
    "low_code",
    "quality_specification",
    "acceptance_tests",
    "delivery_point",
    "transport",
    "start_date",
    "end_date",
    *views.CLAUSES,
]
# The schema's path of a price's field → the form's field.
PRICE_FIELDS = {"kind": "price_kind", "amount_cents": "price_amount", "payer": "price_payer"}


def _terms_values(version: ContractVersion, locale: str) -> dict[str, str]:
    terms = service.terms_of(version)
    dumped = terms.model_dump(mode="json")
    shown = {name: str(dumped.get(name) or "") for name in TERMS_TEXT}
    shown["hazardous"] = "on" if terms.hazardous else ""
    shown["quantity_per_year"] = views.quantity(terms.quantity_per_year, locale)
    shown["unit"] = terms.unit.value
    shown["regularity"] = terms.regularity.value
    shown["price_kind"] = terms.price.kind
    shown["price_amount"] = format(Decimal(terms.price.amount_cents) / 100, "f")
    shown["price_payer"] = terms.price.payer or ""
    return shown


def _terms_page(
    request: Request,
    session: Session,
    viewer: Viewer,
    contract_id: uuid.UUID,
    *,
    errors: FieldErrors | None = None,
    shown: dict[str, str] | None = None,
) -> Response:
    locale, translate = page_locale(request), page_translator(request)
    contract, _ = service.get_contract(session, viewer.actor, contract_id)
    version = service.version_of(session, contract)
    filled = _terms_values(version, locale)
    filled.update(shown or {})
    names = [*TERMS_TEXT, "hazardous", "quantity_per_year", "unit", "regularity", "note"]
    names += list(PRICE_FIELDS.values())
    context = {
        "contract": contract,
        "labels": {name: translate(words) for name, words in views.FIELDS.items()},
        "clauses": views.CLAUSES,
        "units": [(u.value, views.unit_label(u.value, translate)) for u in Unit],
        "regularities": [(r.value, label(REGULARITIES, r.value, translate)) for r in Regularity],
        "price_kinds": [(k, translate(w)) for k, w in views.PRICE_KINDS.items()],
        "payers": [
            ("giver", translate(views.SIDES["giver"])),
            ("taker", translate(views.SIDES["taker"])),
        ],
        "values": filled,
        "errors": place_errors(errors or {}, names),
        "signed": bool(service.signatures(session, contract)),
    }
    return render(request, "contract_terms.html", context, status_code=422 if errors else 200)


@router.get(BASE + "/{contract_id}/terms")
def terms_page(
    contract_id: uuid.UUID, request: Request, session: DbSession, viewer: CurrentViewer
) -> Response:
    return _terms_page(request, session, viewer, contract_id)


def _terms_field(key: str) -> str:
    """A schema's path ("terms.price.amount_cents") as the form's field."""
    key = key.removeprefix("terms.")
    if key.startswith("price."):
        return PRICE_FIELDS.get(key.split(".")[1], "price_kind")
    return key.split(".")[0]


@router.post(BASE + "/{contract_id}/terms")
def propose_terms(
    contract_id: uuid.UUID,
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    form: SubmittedForm,
) -> Response:
    """New terms as a new version: the parties kept as drafted, every other term from the form."""
    translate = page_translator(request)
    contract, _ = service.get_contract(session, viewer.actor, contract_id)
    current = service.terms_of(service.version_of(session, contract))
    terms: dict[str, Any] = current.model_dump(mode="json")
    for name in TERMS_TEXT:
        terms[name] = text(form, name) or None
    terms["hazardous"] = form.get("hazardous") in ("on", "true", "1", "yes")
    terms["quantity_per_year"] = number(form, "quantity_per_year")
    terms["unit"] = text(form, "unit")
    terms["regularity"] = text(form, "regularity")
    errors: FieldErrors = {}
    cents: int | None = 0
    try:
        cents = int((Decimal(number(form, "price_amount") or "0") * 100).to_integral_value())
    except InvalidOperation:
        errors["price_amount"] = translate(N_("Enter an amount in euros, such as 12.50."))
    terms["price"] = {
        "kind": text(form, "price_kind"),
        "amount_cents": cents,
        "currency": "EUR",
        "per_unit": text(form, "unit"),
        "payer": text(form, "price_payer") or None,
    }
    base = text(form, "base_version")
    if not errors:
        try:
            proposal = TermsProposal.model_validate(
                {
                    "terms": terms,
                    "note": text(form, "note"),
                    "base_version": int(base) if base.isdigit() else 0,
                }
            )
            drafting.propose_terms(session, viewer.actor, contract_id, proposal)
        except (ValidationError, DomainError) as exc:
            errors = {_terms_field(k): v for k, v in _refusal(session, exc, translate).items()}
    if errors:
        return _terms_page(request, session, viewer, contract_id, errors=errors, shown=values(form))
    return RedirectResponse(f"{BASE}/{contract_id}?notice=terms-proposed#diff", status_code=303)


# --- deliveries -------------------------------------------------------------------------------


def _deliveries_page(
    request: Request,
    session: Session,
    viewer: Viewer,
    contract_id: uuid.UUID,
    *,
    errors: FieldErrors | None = None,
    shown: dict[str, str] | None = None,
) -> Response:
    translate = page_translator(request)
    contract, _ = service.get_contract(session, viewer.actor, contract_id)
    version = service.version_of(session, contract)
    listing = deliveries.listing(session, viewer.actor, contract_id)
    names = ["delivered_on", "quantity", "lot", "carrier", "conformity_statement"]
    context = {
        "contract": contract,
        "listing": listing,
        "unit": views.unit_label(listing.unit, translate),
        "share": round(listing.share_of_contracted * 100, 1),
        "open": contract.state == State.ACTIVE.value,
        "end_of_waste": version.route == "end_of_waste",
        "registers": [
            (name, translate(words)) for name, words in REGISTERS.get(version.route or "", ())
        ],
        "values": shown or {},
        "errors": place_errors(errors or {}, names),
    }
    return render(request, "contract_deliveries.html", context, status_code=422 if errors else 200)


@router.get(BASE + "/{contract_id}/deliveries")
def deliveries_page(
    contract_id: uuid.UUID, request: Request, session: DbSession, viewer: CurrentViewer
) -> Response:
    return _deliveries_page(request, session, viewer, contract_id)


@router.post(BASE + "/{contract_id}/deliveries")
def record_delivery(
    contract_id: uuid.UUID,
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
    form: SubmittedForm,
) -> Response:
    translate = page_translator(request)
    contract, _ = service.get_contract(session, viewer.actor, contract_id)
    unit = service.terms_of(service.version_of(session, contract)).unit.value
    try:
        data = DeliveryCreate.model_validate(
            {
                "delivered_on": text(form, "delivered_on") or None,
                "quantity": number(form, "quantity"),
                "unit": unit,
                "lot": text(form, "lot"),
                "carrier": text(form, "carrier"),
                "conformity_statement": text(form, "conformity_statement") or None,
            }
        )
        deliveries.record(session, viewer.actor, contract_id, data)
    except (ValidationError, DomainError) as exc:
        errors = _refusal(session, exc, translate)
        return _deliveries_page(
            request, session, viewer, contract_id, errors=errors, shown=values(form)
        )
    return RedirectResponse(
        f"{BASE}/{contract_id}/deliveries?notice=delivery-recorded", status_code=303
    )


@router.get(BASE + "/{contract_id}/registers/{register}")
def register_csv(
    contract_id: uuid.UUID, register: Register, session: DbSession, viewer: CurrentViewer
) -> Response:
    """The register's lines for this contract's deliveries, for a spreadsheet."""
    csv_text = deliveries.register_csv(session, viewer.actor, contract_id, register)
    contract, _ = service.get_contract(session, viewer.actor, contract_id)
    service.identities_read(session, viewer.actor, contract)
    return Response(
        csv_text.encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{contract.reference}-{register}.csv"'
        },
    )


# Last: its {action} would take the paths of the pages above (sign, status, terms...).
@router.post(BASE + "/{contract_id}/{action}")
def step(
    contract_id: uuid.UUID,
    action: PostAction,
    request: Request,
    session: DbSession,
    viewer: CurrentViewer,
) -> Response:
    """Submit for review, ready for signature, complete, terminate."""
    locale, translate = page_locale(request), page_translator(request)
    actor = viewer.actor
    try:
        if action == "submit":
            service.submit(session, actor, contract_id)
        elif action == "ready":
            service.freeze(session, actor, contract_id)
        elif action == "complete":
            service.close(session, actor, contract_id, Event.COMPLETE)
        else:
            service.close(session, actor, contract_id, Event.TERMINATE)
    except DomainError as exc:
        if exc.status_code in (403, 404):
            raise
        session.rollback()
        if isinstance(exc, EvidenceMissing):
            message = _evidence_refusal(exc, locale, translate)
        else:
            message = explain(exc, translate)
        return _detail(request, session, viewer, contract_id, action_error=message)
    return RedirectResponse(f"{BASE}/{contract_id}?notice={NOTICES[action]}", status_code=303)
