"""The SMTP gateway against a real local relay (aiosmtpd): STARTTLS, TLS from the first byte and a
login, with a certificate the test issues itself; mail is never sent in clear to a relay set up for
TLS, nor to one whose certificate does not verify."""

from __future__ import annotations

import datetime as dt
import ipaddress
import smtplib
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr, ValidationError

from core.mail import compose, mail_session
from core.settings import Settings, get_settings

USER, PASSWORD = "symbiose", "relay-password-1"


@dataclass
class Received:
    to: list[str]
    encrypted: bool
    login: bytes | None


@dataclass
class Relay:
    """A relay that records, for each message, whether it came encrypted and from whom."""

    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(
            Received(list(envelope.rcpt_tos), _encrypted(server, session), session.auth_data)
        )
        return "250 accepted"


def _encrypted(server: Any, session: Any) -> bool:
    """STARTTLS shows in the session; TLS from the first byte in the connection itself."""
    return session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    # What the relay remembers as the session's login (session.auth_data).
    return AuthResult(success=ok, handled=False, auth_data=data.login if ok else None)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: (certificate file, key file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "symbiose test relay")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("relay")
    cert_file, key_file = folder / "relay.pem", folder / "relay.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@dataclass
class Running:
    relay: Relay
    port: int
    mode: str


@pytest.fixture
def relay(
    request: pytest.FixtureRequest,
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Running]:
    """A relay in the mode the test names (parametrize indirect): none, starttls or tls."""
    mode = request.param
    handler, port = Relay(), _free_port()
    options: dict[str, Any] = {"authenticator": _authenticate}
    if mode == "starttls":
        options |= {
            "tls_context": _server_context(certificate),
            "require_starttls": True,
            "auth_require_tls": True,
        }
    elif mode == "tls":
        options |= {"ssl_context": _server_context(certificate), "auth_require_tls": False}
    else:
        options |= {"auth_require_tls": False}
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    settings = get_settings()
    monkeypatch.setattr(settings, "smtp_host", "127.0.0.1")
    monkeypatch.setattr(settings, "smtp_port", port)
    monkeypatch.setattr(settings, "smtp_ca_file", str(certificate[0]))
    monkeypatch.setattr(settings, "smtp_username", USER)
    monkeypatch.setattr(settings, "smtp_password", SecretStr(PASSWORD))
    try:
        yield Running(handler, port, mode)
    finally:
        controller.stop()


def _send(to: str = "achats@example.fr") -> None:
    with mail_session() as send:
        send(compose(to, "Alerte", "Bonjour"))


@pytest.mark.parametrize("relay", ["starttls", "tls"], indirect=True)
def test_mail_goes_encrypted_and_logged_in(relay: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "smtp_security", relay.mode)
    _send()
    assert relay.relay.received == [Received(["achats@example.fr"], True, USER.encode())]


@pytest.mark.parametrize("relay", ["starttls"], indirect=True)
def test_a_wrong_password_is_an_error_the_task_retries(
    relay: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "smtp_security", "starttls")
    monkeypatch.setattr(get_settings(), "smtp_password", SecretStr("not-the-password"))
    with pytest.raises(smtplib.SMTPAuthenticationError):
        _send()
    assert relay.relay.received == []


@pytest.mark.parametrize("relay", ["starttls"], indirect=True)
def test_a_certificate_that_does_not_verify_stops_the_mail(
    relay: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "smtp_security", "starttls")
    monkeypatch.setattr(get_settings(), "smtp_ca_file", "")  # the system's CAs do not know it
    with pytest.raises(ssl.SSLCertVerificationError):
        _send()
    assert relay.relay.received == []


@pytest.mark.parametrize("relay", ["none"], indirect=True)
def test_a_relay_without_starttls_is_not_used_in_clear(
    relay: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "smtp_security", "starttls")
    with pytest.raises(smtplib.SMTPNotSupportedError):
        _send()
    assert relay.relay.received == []


@pytest.mark.parametrize("relay", ["none"], indirect=True)
def test_a_local_relay_without_tls_or_login(
    relay: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "smtp_security", "none")
    monkeypatch.setattr(get_settings(), "smtp_username", "")
    _send()
    assert relay.relay.received == [Received(["achats@example.fr"], False, None)]


def test_production_refuses_a_password_in_clear() -> None:
    secrets = {
        "environment": "production",
        "secret_key": "s" * 40,
        "vault_keks": "k1:" + "A" * 43 + "=",
        "blind_index_key": "b" * 40,
        "audit_signing_key": "A" * 43 + "=",
    }
    with pytest.raises(ValidationError, match="SYMBIOSE_SMTP_SECURITY"):
        Settings(**secrets, smtp_username=USER, smtp_security="none")  # type: ignore[arg-type]
    assert Settings(**secrets, smtp_username=USER, smtp_security="starttls")  # type: ignore[arg-type]
