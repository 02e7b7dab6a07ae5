"""PAdES signatures with pyHanko: sign a contract PDF (incremental update, earlier signatures
stay valid) and verify every signature against the platform's trust roots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography import x509

from contracts.authority import CertificateAuthority, IssuedSigner


@dataclass(frozen=True)
class SignatureReport:
    field: str
    signer: str
    signed_at: datetime | None
    # The signature's cryptography checks out and the certificate chains to a trust root.
    valid: bool
    # The bytes it covers are the bytes that were signed.
    intact: bool
    trusted: bool
    # Everything after it in the file is a further signature (or nothing): no other change.
    covers_rest_of_document: bool


@dataclass(frozen=True)
class VerificationReport:
    signatures: list[SignatureReport]
    changed_after_signing: bool
    ok: bool
    # Why not ok, in English (None when ok).
    reason: str | None = None


def sign_pdf(
    pdf: bytes,
    signer: IssuedSigner,
    ca: CertificateAuthority,
    *,
    field: str,
    reason: str,
    name: str,
) -> bytes:
    """The PDF with one more PAdES signature in `field` (its visible box when render_pdf made
    it, else a new invisible field), appended as an incremental update."""
    raise NotImplementedError


def verify_pdf(pdf: bytes, trust_roots: list[x509.Certificate]) -> VerificationReport:
    """Every signature of the PDF checked; a corrupt or non-PDF input gives ok=False with a
    reason, never an exception."""
    raise NotImplementedError
