"""The platform's own certificate authority: a self-signed root whose key lives in a directory
outside the database, issuing short-lived signing certificates to authenticated signers."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

KEY_FILE = "ca-key.pem"
CERT_FILE = "ca-cert.pem"
ROOT_NAME = "Symbiose platform signing CA"
ROOT_VALIDITY = timedelta(days=20 * 365)
# A signer's certificate serves one signature, made right after the signer authenticated: a day
# covers any clock skew, and a stolen key is worth little after it.
SIGNER_VALIDITY = timedelta(days=1)
# The signatures are checked at their signing time, which must fall inside this validity.
_BACKDATE = timedelta(minutes=5)
# id-kp-documentSigning (RFC 9336): what the certificate is for, stated for PDF readers.
DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")


@dataclass(frozen=True)
class IssuedSigner:
    """A signer's fresh key and certificate (PEM). The key is used once to sign and never
    stored."""

    key_pem: bytes
    cert_pem: bytes
    serial: int

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem)


class AuthorityError(Exception):
    """The CA directory holds something unusable (a key without its certificate's match...)."""


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    # Two processes starting at once (web and worker) must not each make a different root.
    with (directory / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` readable by this user only, atomically (never a half key)."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _root_certificate(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Symbiose"),
            x509.NameAttribute(NameOID.COMMON_NAME, ROOT_NAME),
        ]
    )
    now = datetime.now(UTC)
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + ROOT_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


def trusted_root(directory: Path) -> x509.Certificate:
    """The CA certificate of `directory` alone (no key read), to verify with; AuthorityError
    when the directory holds none (a verifier never makes a CA)."""
    path = directory / CERT_FILE
    if not path.exists():
        raise AuthorityError(f"no platform CA certificate in {directory}")
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except ValueError as error:
        raise AuthorityError(f"{path} is not a PEM certificate") from error


class CertificateAuthority:
    def __init__(self, key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate) -> None:
        self._key = key
        self._certificate = certificate

    @classmethod
    def load_or_create(cls, directory: Path) -> CertificateAuthority:
        """The CA of `directory`, made there on first use (key file mode 0600)."""
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        key_path, cert_path = directory / KEY_FILE, directory / CERT_FILE
        with _locked(directory):
            if key_path.exists():
                loaded = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
                if not isinstance(loaded, ec.EllipticCurvePrivateKey):
                    raise AuthorityError(f"{key_path} is not an EC private key")
                key = loaded
            else:
                key = ec.generate_private_key(ec.SECP256R1())
                _write_private(
                    key_path,
                    key.private_bytes(
                        serialization.Encoding.PEM,
                        serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption(),
                    ),
                )
            if cert_path.exists():
                certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
                if certificate.public_key() != key.public_key():
                    raise AuthorityError(f"{cert_path} does not belong to {key_path}")
            else:
                # A key left without its certificate (a crash between the two writes) gets one.
                certificate = _root_certificate(key)
                _write_private(cert_path, certificate.public_bytes(serialization.Encoding.PEM))
                cert_path.chmod(0o644)
        return cls(key, certificate)

    @property
    def certificate(self) -> x509.Certificate:
        return self._certificate

    @property
    def certificate_pem(self) -> bytes:
        return self._certificate.public_bytes(serialization.Encoding.PEM)

    def issue(self, common_name: str, email: str, organisation: str, role: str) -> IssuedSigner:
        """A certificate for one signature: short validity, digitalSignature + nonRepudiation,
        the e-mail in the subject alternative name, the signing role as the subject's title."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation[:64]),
                x509.NameAttribute(NameOID.TITLE, role[:64]),
                x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
            ]
        )
        now = datetime.now(UTC)
        serial = x509.random_serial_number()
        issuer_ski = self._certificate.extensions.get_extension_for_class(
            x509.SubjectKeyIdentifier
        ).value
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self._certificate.subject)
            .public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(now - _BACKDATE)
            .not_valid_after(now + SIGNER_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=True,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage([DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                critical=False,
            )
            .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski),
                critical=False,
            )
            .sign(self._key, hashes.SHA256())
        )
        return IssuedSigner(
            key_pem=key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            cert_pem=certificate.public_bytes(serialization.Encoding.PEM),
            serial=serial,
        )
