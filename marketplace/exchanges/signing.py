"""Signatures of a contract by people: the signer authenticates again (password), the platform's
certificate authority issues a certificate for that one signature, and the stored PDF gets one
more PAdES signature appended (incremental update), so the earlier ones stay valid. The giver
and the taker sign in any order; the association countersigns last, which makes it active."""

from __future__ import annotations

import base64
import hashlib
import uuid

from sqlmodel import Session

from contracts.authority import AuthorityError, CertificateAuthority, trusted_root
from contracts.document import SIGNATURE_FIELDS
from contracts.pdf import render_pdf
from contracts.signing import sign_pdf, verify_pdf
from contracts.terms import PartyRole
from core.errors import Unauthorized
from core.models import utcnow
from core.settings import get_settings
from marketplace.accounts.models import User
from marketplace.accounts.service import Actor, log_in
from marketplace.exchanges import outbox
from marketplace.exchanges.errors import (
    AlreadySigned,
    NoSuchContract,
    SigningUnavailable,
    StaleVersion,
    WrongPassword,
)
from marketplace.exchanges.models import Contract, ContractSignature
from marketplace.exchanges.schemas import SignatureCheck, VerificationRead
from marketplace.exchanges.service import (
    acting_party,
    document_of,
    fire,
    get_contract,
    lock_contract,
    next_state,
    pdf_bytes,
    signatures,
    terms_of,
    version_of,
)
from marketplace.exchanges.states import Event, Party, State

ROLE_OF = {
    Party.GIVER: PartyRole.GIVER,
    Party.TAKER: PartyRole.TAKER,
    Party.FACILITATOR: PartyRole.FACILITATOR,
}
REASONS = {
    Party.GIVER: "Signature du cédant",
    Party.TAKER: "Signature du preneur",
    Party.FACILITATOR: "Contresignature",
}


def authority() -> CertificateAuthority:
    try:
        return CertificateAuthority.load_or_create(get_settings().contracts_ca_dir)
    except (OSError, AuthorityError) as exc:
        raise SigningUnavailable() from exc


def _reauthenticate(session: Session, actor: Actor, password: str, address: str | None) -> User:
    user = session.get(User, actor.user_id)
    if user is None:
        raise NoSuchContract()
    try:
        # The login's limits apply: guessing a password here costs what it costs at login.
        return log_in(session, user.email, password, address)
    except Unauthorized as exc:
        raise WrongPassword(field="password") from exc


def sign(
    session: Session,
    actor: Actor,
    contract_id: uuid.UUID,
    password: str,
    version: int,
    address: str | None,
) -> Contract:
    """One signature of the current version by the actor's side. Concurrent signatures of the
    same role are serialised by the contract's row lock: the first counts, the others get 409.
    `address` is the client's, which the password's failures count against: no default, so a
    caller cannot forget it and pool every signer's failures under one "unknown" address."""
    contract, party = lock_contract(session, actor, contract_id)
    acting_party(actor, party)
    event = Event.COUNTERSIGN if party == Party.FACILITATOR else Event.SIGN
    next_state(contract, event, party)
    if version != contract.current_version:
        raise StaleVersion(field="version", current=contract.current_version, given=version)
    if any(s.role == party.value for s in signatures(session, contract)):
        raise AlreadySigned(field="version", role=party.value)
    user = _reauthenticate(session, actor, password, address)
    current = version_of(session, contract)
    pdf = pdf_bytes(current)
    assert pdf is not None, "a frozen version has its PDF"
    terms = terms_of(current)
    role = ROLE_OF[party]
    organisation = next((p.legal_name for p in terms.parties if p.role == role), "")
    ca = authority()
    signer = ca.issue(
        common_name=user.email, email=user.email, organisation=organisation, role=role.value
    )
    signed = sign_pdf(
        pdf,
        signer,
        ca,
        field=SIGNATURE_FIELDS[role],
        reason=f"{REASONS[party]} — {contract.reference} v{current.number}",
        name=user.email,
    )
    current.pdf = base64.b64encode(signed).decode()
    current.pdf_sha256 = hashlib.sha256(signed).hexdigest()
    session.add(current)
    row = ContractSignature(
        contract_id=contract.id,
        version_number=current.number,
        role=party.value,
        user_id=actor.user_id,
        signed_at=utcnow(),
        certificate_serial=str(signer.serial),
    )
    session.add(row)
    session.flush()
    fire(
        session,
        contract,
        event,
        party,
        actor.user_id,
        number=current.number,
        role=party.value,
        certificate_serial=row.certificate_serial,
        pdf_sha256=current.pdf_sha256,
    )
    roles = {s.role for s in signatures(session, contract)}
    if event == Event.SIGN and {Party.GIVER.value, Party.TAKER.value} <= roles:
        fire(session, contract, Event.BOTH_SIGNED, Party.SYSTEM, None, number=current.number)
    if contract.state == State.ACTIVE:
        contract.activated_at = utcnow()
        outbox.to_parties(session, contract, "contract.active")
    else:
        outbox.to_parties(session, contract, "contract.signed", but=actor.company_id)
    session.flush()
    return contract


def pdf_of(session: Session, actor: Actor, contract_id: uuid.UUID, lang: str | None) -> bytes:
    """The stored PDF of the current version (with its signatures), or, before it is frozen or
    in another language, a render of the current terms (unsigned)."""
    contract, _ = get_contract(session, actor, contract_id)
    current = version_of(session, contract)
    stored = pdf_bytes(current)
    if stored is not None and lang in (None, "fr"):
        return stored
    return render_pdf(document_of(session, contract, current), lang or "fr")


def verify(session: Session, actor: Actor, contract_id: uuid.UUID) -> VerificationRead:
    """The stored PDF's signatures checked against the platform's CA certificate, each matched
    with the signature this platform recorded (same role, same certificate serial): a signature
    valid for the CA but not recorded for this contract (a certificate meant for another)
    makes the report not ok."""
    contract, _ = get_contract(session, actor, contract_id)
    current = version_of(session, contract)
    pdf = pdf_bytes(current) or b""
    try:
        roots = [trusted_root(get_settings().contracts_ca_dir)]
    except AuthorityError:
        # A verifier never makes a CA: with none, nothing this platform signed can be trusted,
        # and the report says each signature untrusted (or that there is none).
        roots = []
    report = verify_pdf(pdf, roots)
    recorded = {(s.role, s.certificate_serial) for s in signatures(session, contract)}
    checks = [
        SignatureCheck(
            field=s.field,
            signer=s.signer,
            signed_at=s.signed_at,
            valid=s.valid,
            intact=s.intact,
            trusted=s.trusted,
            covers_rest_of_document=s.covers_rest_of_document,
            role=s.role,
            serial=None if s.serial is None else str(s.serial),
            recorded=(s.role, str(s.serial)) in recorded,
        )
        for s in report.signatures
    ]
    matched = len(checks) == len(recorded) and all(c.recorded for c in checks)
    return VerificationRead(
        ok=report.ok and matched,
        changed_after_signing=report.changed_after_signing,
        reason=report.reason or (None if matched else "a signature is not the one recorded"),
        signatures=checks,
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
    )
