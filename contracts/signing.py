"""PAdES signatures with pyHanko: sign a contract PDF (incremental update, earlier signatures
stay valid) and verify every signature against the platform's trust roots."""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from typing import TypeVar

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from pyhanko.keys import load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import SigFieldSpec, SigSeedSubFilter
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from contracts.authority import CertificateAuthority, IssuedSigner
from contracts.errors import FieldAlreadySigned, NotAPdf

T = TypeVar("T")


@dataclass(frozen=True)
class SignatureReport:
    field: str
    signer: str
    signed_at: datetime | None
    # Intact, cryptographically sound and trusted: what a reader's green tick means.
    valid: bool
    # The bytes it covers are the bytes that were signed.
    intact: bool
    # The signer's certificate chains to a trust root and was valid at the signing time.
    trusted: bool
    # Everything after it in the file is a further signature (or nothing): no other change.
    covers_rest_of_document: bool
    # From the signer's certificate, for the caller to match with the signer it expected (the
    # platform's certificates carry the e-mail in the SAN and the signing role as title).
    email: str | None = None
    role: str | None = None
    serial: int | None = None


@dataclass(frozen=True)
class VerificationReport:
    signatures: list[SignatureReport]
    changed_after_signing: bool
    ok: bool
    # Why not ok, in English (None when ok).
    reason: str | None = None


# pyHanko's built-in stamp font (Courier, a simple encoding) draws Latin-1 only: the few signs
# French names and reasons use beyond it get their nearest Latin-1 spelling in the stamp. The
# signer's exact name is in the certificate and the signature dictionary anyway.
_LATIN1_SPELLINGS = str.maketrans(
    {"Œ": "OE", "œ": "oe", "—": "-", "–": "-", "’": "'", "‘": "'", "“": '"', "”": '"', "…": "..."}
)
STAMP_LINE = 48


def _stamp_line(text: str) -> str:
    folded = []
    for char in text.translate(_LATIN1_SPELLINGS):
        if ord(char) < 256:
            folded.append(char)
        else:
            base = unicodedata.normalize("NFKD", char)
            folded.append("".join(c for c in base if ord(c) < 128) or "?")
    line = "".join(folded)
    line = line if len(line) <= STAMP_LINE else line[: STAMP_LINE - 1] + "."
    # The stamp text is a %-template: the signer's own words are not placeholders.
    return line.replace("%", "%%")


def _stamp_style(name: str, reason: str) -> TextStampStyle:
    # The time written by us in UTC: pyHanko's own %(ts)s is in the server's local zone.
    shown = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return TextStampStyle(
        stamp_text=f"{_stamp_line(name)}\n{_stamp_line(reason)}\n{shown}",
        text_box_style=TextBoxStyle(font_size=7),
        border_width=0,
    )


def _asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def _reader(pdf: bytes) -> PdfFileReader:
    try:
        return PdfFileReader(BytesIO(pdf), strict=False)
    except Exception as error:  # pyHanko raises many kinds on a broken file
        raise NotAPdf(reason=str(error) or type(error).__name__) from error


def _outside_event_loop(work: Callable[[], T]) -> T:
    """Run `work` where pyHanko's own asyncio.run can: in this thread when no event loop runs in
    it, else in a thread of its own (an async endpoint calling us would otherwise have every
    signature fail with "asyncio.run() cannot be called from a running event loop")."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


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
    it, else a new invisible field), appended as an incremental update. NotAPdf for a file
    pyHanko cannot read, FieldAlreadySigned when that field holds a signature."""
    reader = _reader(pdf)
    try:
        existing = {
            name_: filled
            for name_, filled, _ in fields.enumerate_sig_fields(reader, filled_status=None)
        }
    except Exception as error:  # a broken form dictionary: not a PDF we can sign
        raise NotAPdf(reason=str(error) or type(error).__name__) from error
    if existing.get(field) is not None:
        raise FieldAlreadySigned(name=field)
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    except Exception as error:
        raise NotAPdf(reason=str(error) or type(error).__name__) from error
    simple = signers.SimpleSigner(
        signing_cert=_asn1(signer.certificate),
        signing_key=load_private_key_from_pemder_data(signer.key_pem, passphrase=None),
        cert_registry=SimpleCertificateStore.from_certs([_asn1(ca.certificate)]),
    )
    meta = signers.PdfSignatureMetadata(
        field_name=field,
        reason=reason,
        name=name,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
    )
    pdf_signer = signers.PdfSigner(
        meta,
        signer=simple,
        stamp_style=_stamp_style(name, reason),
        # A field render_pdf did not draw becomes an invisible one.
        new_field_spec=None if field in existing else SigFieldSpec(sig_field_name=field),
    )
    out = _outside_event_loop(lambda: pdf_signer.sign_pdf(writer))
    return bytes(out.getvalue())


def _subject_name(certificate: asn1_x509.Certificate) -> str:
    names = certificate.subject.native
    return str(names.get("common_name") or certificate.subject.human_friendly)


def _identity(certificate: asn1_x509.Certificate) -> tuple[str | None, str | None, int]:
    """The e-mail of the SAN, the subject's title and the serial of a signer's certificate."""
    parsed = x509.load_der_x509_certificate(certificate.dump())
    email = None
    try:
        san = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        emails = san.get_values_for_type(x509.RFC822Name)
        email = emails[0] if emails else None
    except x509.ExtensionNotFound:
        pass
    titles = parsed.subject.get_attributes_for_oid(NameOID.TITLE)
    role = str(titles[0].value) if titles else None
    return email, role, parsed.serial_number


def verify_pdf(pdf: bytes, trust_roots: list[x509.Certificate]) -> VerificationReport:
    """Every signature of the PDF checked; a corrupt or non-PDF input gives ok=False with a
    reason, never an exception."""
    try:
        return _outside_event_loop(lambda: _verify(pdf, trust_roots))
    except Exception as error:  # a hostile file must give a report, never a 500
        reason = f"the file could not be checked: {type(error).__name__}: {error}"
        return VerificationReport(
            signatures=[], changed_after_signing=False, ok=False, reason=reason[:500]
        )


def _trailing_bytes(pdf: bytes) -> bool:
    """Anything but whitespace after the last %%EOF: bytes no revision accounts for."""
    end = pdf.rfind(b"%%EOF")
    return end < 0 or bool(pdf[end + len(b"%%EOF") :].strip())


def _verify(pdf: bytes, trust_roots: list[x509.Certificate]) -> VerificationReport:
    if pdf.lstrip()[:5] != b"%PDF-":
        return VerificationReport([], False, False, "not a PDF file")
    reader = _reader(pdf)
    roots = [_asn1(root) for root in trust_roots]
    reports: list[SignatureReport] = []
    embedded_signatures = reader.embedded_signatures
    # The revisions that hold a signature. pyHanko's diff analysis accepts, after a signature,
    # an update that adds an empty signature field: with an appearance of its own, such a field
    # draws anything over the signed page ("PRIX : 0 EUR") and every signature still shows
    # green. A contract of this platform only ever gains signatures after the first one, so a
    # revision after a signature that is not itself a signature is a change, whatever it holds.
    signed_revisions = {embedded.signed_revision for embedded in embedded_signatures}
    revisions = reader.xrefs.total_revisions
    for embedded in embedded_signatures:
        signed_at = embedded.self_reported_timestamp
        # Signers' certificates live a day: each is checked at the time it signed (a time
        # inside the signed attributes), not at the time of verification.
        context = ValidationContext(trust_roots=roots, moment=signed_at, allow_fetching=False)
        status = validate_pdf_signature(embedded, context)
        level = status.modification_level
        covers = status.coverage == SignatureCoverageLevel.ENTIRE_FILE or (
            status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
            and level is not None
            and level <= ModificationLevel.FORM_FILLING
            and status.docmdp_ok is not False
        )
        unsigned_after = any(
            revision not in signed_revisions
            for revision in range(embedded.signed_revision + 1, revisions)
        )
        covers = covers and not unsigned_after
        email, role, serial = _identity(status.signing_cert)
        reports.append(
            SignatureReport(
                field=embedded.field_name,
                signer=_subject_name(status.signing_cert),
                signed_at=status.signer_reported_dt or signed_at,
                valid=bool(status.intact and status.valid and status.trusted),
                intact=bool(status.intact),
                trusted=bool(status.trusted),
                covers_rest_of_document=bool(covers),
                email=email,
                role=role,
                serial=serial,
            )
        )
    # A signature whose bytes no longer match, or after which something other than a further
    # signature was added, both mean the document is not what was signed.
    changed = any(not (r.intact and r.covers_rest_of_document) for r in reports) or (
        bool(reports) and _trailing_bytes(pdf)
    )
    reason = None
    altered = next((r for r in reports if not r.intact), None)
    untrusted = next((r for r in reports if not r.valid), None)
    if not reports:
        reason = "the document carries no signature"
    elif altered is not None:
        reason = f"the document changed after it was signed: {altered.field} no longer matches"
    elif changed:
        reason = "the document changed after it was signed"
    elif untrusted is not None:
        why = "not trusted" if not untrusted.trusted else "invalid"
        reason = f"the signature in {untrusted.field} is {why}"
    return VerificationReport(
        signatures=reports,
        changed_after_signing=changed,
        ok=reason is None,
        reason=reason,
    )
