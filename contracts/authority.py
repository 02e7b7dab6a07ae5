"""The platform's own certificate authority: a self-signed root whose key lives in a directory
outside the database, issuing short-lived signing certificates to authenticated signers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509


@dataclass(frozen=True)
class IssuedSigner:
    """A signer's fresh key and certificate (PEM). The key is used once to sign and never
    stored."""

    key_pem: bytes
    cert_pem: bytes
    serial: int


class CertificateAuthority:
    @classmethod
    def load_or_create(cls, directory: Path) -> CertificateAuthority:
        """The CA of `directory`, made there on first use (key file mode 0600)."""
        raise NotImplementedError

    @property
    def certificate(self) -> x509.Certificate:
        raise NotImplementedError

    def issue(self, common_name: str, email: str, organisation: str, role: str) -> IssuedSigner:
        """A certificate for one signature: short validity, digitalSignature + nonRepudiation,
        the e-mail in the subject alternative name."""
        raise NotImplementedError
