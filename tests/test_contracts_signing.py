"""The platform CA and PAdES signatures: three signers in turn (giver, taker, association) give
three valid, intact, trusted signatures; a flipped byte, an update after signing or a foreign
certificate is caught; `symbiose contracts verify` exits accordingly."""

from __future__ import annotations

import asyncio
import stat
from io import BytesIO
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pypdf import PdfReader

from contracts.authority import (
    CERT_FILE,
    KEY_FILE,
    AuthorityError,
    CertificateAuthority,
    trusted_root,
)
from contracts.document import SIGNATURE_FIELDS
from contracts.errors import FieldAlreadySigned, NotAPdf
from contracts.pdf import render_pdf
from contracts.signing import sign_pdf, verify_pdf
from contracts.terms import PartyRole
from tests.contracts_world import make_document
from tests.symbiose_process import symbiose

SIGNERS = (
    (PartyRole.GIVER, "Jeanne Dupré", "jeanne@centrale.example", "Centrale Thermique du Golfe"),
    (PartyRole.TAKER, "Paul Martin", "paul@platres.example", "Plâtres de Provence"),
    (PartyRole.FACILITATOR, "Élodie Roux", "elodie@eit.example", "Association EIT"),
)


@pytest.fixture(scope="module")
def ca_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ca")


@pytest.fixture(scope="module")
def ca(ca_dir: Path) -> CertificateAuthority:
    return CertificateAuthority.load_or_create(ca_dir)


@pytest.fixture(scope="module")
def unsigned() -> bytes:
    return render_pdf(make_document())


def _sign(
    pdf: bytes, ca: CertificateAuthority, role: PartyRole, name: str, email: str, org: str
) -> bytes:
    signer = ca.issue(name, email, org, role.value)
    return sign_pdf(pdf, signer, ca, field=SIGNATURE_FIELDS[role], reason="Accord", name=name)


@pytest.fixture(scope="module")
def signed(unsigned: bytes, ca: CertificateAuthority) -> bytes:
    pdf = unsigned
    for signer in SIGNERS:
        pdf = _sign(pdf, ca, *signer)
    return pdf


def test_the_ca_is_made_once_with_its_key_private(ca_dir: Path, ca: CertificateAuthority) -> None:
    key = ca_dir / KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    again = CertificateAuthority.load_or_create(ca_dir)
    assert again.certificate == ca.certificate
    assert trusted_root(ca_dir) == ca.certificate
    constraints = ca.certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.value.ca and constraints.critical


def test_processes_starting_at_once_make_one_root(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    directory = tmp_path / "fresh"
    with ThreadPoolExecutor(max_workers=4) as pool:
        made = list(pool.map(lambda _: CertificateAuthority.load_or_create(directory), range(4)))
    assert len({ca.certificate.fingerprint(hashes.SHA256()) for ca in made}) == 1
    assert sorted(p.name for p in directory.iterdir() if not p.name.startswith(".")) == [
        CERT_FILE,
        KEY_FILE,
    ]


def test_a_certificate_that_is_not_the_key_s_is_refused(tmp_path: Path) -> None:
    first = CertificateAuthority.load_or_create(tmp_path / "first")
    second_dir = tmp_path / "second"
    CertificateAuthority.load_or_create(second_dir)
    (second_dir / CERT_FILE).write_bytes(first.certificate_pem)
    with pytest.raises(AuthorityError):
        CertificateAuthority.load_or_create(second_dir)
    # A key left without its certificate gets one again, for the same key.
    (second_dir / CERT_FILE).unlink()
    remade = CertificateAuthority.load_or_create(second_dir)
    assert remade.certificate.public_key() != first.certificate.public_key()
    assert trusted_root(second_dir) == remade.certificate


def test_a_signer_certificate_is_short_lived_for_signing_with_the_email(
    ca: CertificateAuthority,
) -> None:
    issued = ca.issue("Paul Martin", "paul@platres.example", "Plâtres de Provence", "taker")
    cert = issued.certificate
    assert cert.serial_number == issued.serial
    assert cert.issuer == ca.certificate.subject
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days <= 2
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.RFC822Name) == ["paul@platres.example"]
    assert cert.subject.get_attributes_for_oid(NameOID.TITLE)[0].value == "taker"
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.EMAIL_PROTECTION in eku
    # Two signers never share a key or a serial.
    other = ca.issue("Paul Martin", "paul@platres.example", "Plâtres de Provence", "taker")
    assert other.serial != issued.serial and other.key_pem != issued.key_pem


def test_three_signatures_are_valid_intact_and_trusted(
    signed: bytes, ca: CertificateAuthority
) -> None:
    report = verify_pdf(signed, [ca.certificate])
    assert report.ok and report.reason is None and not report.changed_after_signing
    assert [s.field for s in report.signatures] == list(SIGNATURE_FIELDS.values())
    assert [s.signer for s in report.signatures] == [name for _, name, _, _ in SIGNERS]
    assert [(s.email, s.role) for s in report.signatures] == [
        (email, role.value) for role, _, email, _ in SIGNERS
    ]
    for signature in report.signatures:
        assert signature.valid and signature.intact and signature.trusted
        assert signature.covers_rest_of_document
        assert signature.signed_at is not None
    # The boxes are filled: each field now holds its signature, as any PDF reader sees it.
    fields = PdfReader(BytesIO(signed)).get_fields() or {}
    assert all(fields[name].get("/V") is not None for name in SIGNATURE_FIELDS.values())


def test_an_earlier_signature_stays_valid_after_the_next(
    unsigned: bytes, ca: CertificateAuthority
) -> None:
    once = _sign(unsigned, ca, *SIGNERS[0])
    report = verify_pdf(once, [ca.certificate])
    assert report.ok and len(report.signatures) == 1
    # The field is taken: a second signature there is refused, not layered.
    with pytest.raises(FieldAlreadySigned):
        _sign(once, ca, *SIGNERS[0])


def test_signing_and_verifying_from_inside_an_event_loop(
    unsigned: bytes, ca: CertificateAuthority
) -> None:
    # As an async endpoint would: pyHanko's own asyncio.run must not meet the running loop.
    async def endpoint() -> bool:
        signed = _sign(unsigned, ca, *SIGNERS[0])
        return verify_pdf(signed, [ca.certificate]).ok

    assert asyncio.run(endpoint())


def test_a_flipped_byte_in_a_signed_range_fails(signed: bytes, ca: CertificateAuthority) -> None:
    # A byte of the page content, inside the first revision every signature covers.
    at = signed.index(b"stream") + 20
    tampered = signed[:at] + bytes([signed[at] ^ 0x01]) + signed[at + 1 :]
    report = verify_pdf(tampered, [ca.certificate])
    assert not report.ok and report.changed_after_signing
    assert not any(s.intact or s.valid for s in report.signatures)
    assert "no longer matches" in (report.reason or "")


def test_a_flipped_byte_in_the_last_revision_breaks_only_the_last_signature(
    signed: bytes, ca: CertificateAuthority
) -> None:
    # Inside the association's signature dictionary (its /Reason), after the taker's revision.
    at = signed.rindex(b"/Reason") + 10
    tampered = signed[:at] + bytes([signed[at] ^ 0x01]) + signed[at + 1 :]
    report = verify_pdf(tampered, [ca.certificate])
    assert not report.ok
    assert [s.intact for s in report.signatures] == [True, True, False]


def test_bytes_appended_after_signing_are_a_change(signed: bytes, ca: CertificateAuthority) -> None:
    report = verify_pdf(signed + b"\n% appended note\n", [ca.certificate])
    assert report.changed_after_signing and not report.ok
    assert "changed" in (report.reason or "")


def test_an_incremental_update_that_is_no_signature_is_a_change(
    signed: bytes, ca: CertificateAuthority
) -> None:
    writer = IncrementalPdfFileWriter(BytesIO(signed))
    writer.root["/Lang"] = generic.TextStringObject("en")
    writer.update_root()
    out = BytesIO()
    writer.write(out)
    report = verify_pdf(out.getvalue(), [ca.certificate])
    assert report.changed_after_signing and not report.ok
    assert all(s.intact for s in report.signatures)
    assert not any(s.covers_rest_of_document for s in report.signatures)


def test_a_signer_from_another_ca_is_untrusted(
    unsigned: bytes, ca: CertificateAuthority, tmp_path: Path
) -> None:
    other = CertificateAuthority.load_or_create(tmp_path / "other-ca")
    forged = _sign(unsigned, other, *SIGNERS[0])
    report = verify_pdf(forged, [ca.certificate])
    assert not report.ok
    [signature] = report.signatures
    assert signature.intact and not signature.trusted and not signature.valid
    assert "not trusted" in (report.reason or "")
    # The same file checks out against the CA that did issue it, and against no root at all
    # nothing is trusted (never the system's own list).
    assert verify_pdf(forged, [other.certificate]).ok
    assert not verify_pdf(forged, []).signatures[0].trusted


@pytest.mark.parametrize(
    "data",
    [b"", b"hello, not a pdf", b"%PDF-1.7\n1 0 obj garbage", b"\x00" * 4096],
)
def test_a_non_pdf_gives_a_report_not_an_exception(data: bytes, ca: CertificateAuthority) -> None:
    report = verify_pdf(data, [ca.certificate])
    assert not report.ok and report.reason and report.signatures == []


def test_a_truncated_signed_pdf_is_not_ok(signed: bytes, ca: CertificateAuthority) -> None:
    report = verify_pdf(signed[: len(signed) * 2 // 3], [ca.certificate])
    assert not report.ok and report.reason


def test_an_unsigned_pdf_is_not_ok(unsigned: bytes, ca: CertificateAuthority) -> None:
    report = verify_pdf(unsigned, [ca.certificate])
    assert not report.ok and report.reason == "the document carries no signature"


def test_signing_a_non_pdf_is_refused(ca: CertificateAuthority) -> None:
    with pytest.raises(NotAPdf) as caught:
        sign_pdf(
            b"hello",
            ca.issue("A", "a@example.org", "O", "giver"),
            ca,
            field="x",
            reason="r",
            name="A",
        )
    assert caught.value.status_code == 422


def test_a_field_render_pdf_did_not_draw_becomes_an_invisible_signature(
    unsigned: bytes, ca: CertificateAuthority
) -> None:
    signer = ca.issue("Transports Rhodaniens", "t@example.org", "TR", "carrier")
    pdf = sign_pdf(unsigned, signer, ca, field="Signature_carrier", reason="Vu", name="TR")
    report = verify_pdf(pdf, [ca.certificate])
    assert report.ok and [s.field for s in report.signatures] == ["Signature_carrier"]


def test_the_verify_command_exit_codes(
    signed: bytes, ca_dir: Path, ca: CertificateAuthority, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'unused.db'}"
    env = {"SYMBIOSE_CONTRACTS_CA_DIR": str(ca_dir)}
    good = tmp_path / "good.pdf"
    good.write_bytes(signed)
    done = symbiose(database, "contracts", "verify", str(good), **env)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Signature_giver\tJeanne Dupré\t") and lines[0].endswith("\tvalid")
    assert lines[2].startswith("Signature_association\tÉlodie Roux\t")
    assert "document unchanged since the last signature" in done.stdout

    tampered = tmp_path / "tampered.pdf"
    at = signed.index(b"stream") + 20
    tampered.write_bytes(signed[:at] + bytes([signed[at] ^ 0x01]) + signed[at + 1 :])
    done = symbiose(database, "contracts", "verify", str(tampered), **env)
    assert done.returncode == 1
    assert "invalid (altered)" in done.stdout and "not ok" in done.stdout

    changed = tmp_path / "changed.pdf"
    changed.write_bytes(signed + b"% note\n")
    done = symbiose(database, "contracts", "verify", str(changed), **env)
    assert done.returncode == 1 and "document changed after signing" in done.stdout

    text = tmp_path / "notes.pdf"
    text.write_text("not a pdf")
    done = symbiose(database, "contracts", "verify", str(text), **env)
    assert done.returncode == 1 and "not a PDF" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr

    # Without the platform's CA there is nothing to trust: refused, no CA made.
    empty = tmp_path / "no-ca"
    done = symbiose(
        database, "contracts", "verify", str(good), SYMBIOSE_CONTRACTS_CA_DIR=str(empty)
    )
    assert done.returncode == 2 and "no platform CA" in done.stderr
    assert not empty.exists()
