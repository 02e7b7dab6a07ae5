"""Ed25519 keys that sign the audit chain's checkpoints, from the settings, never the database."""

from __future__ import annotations

import base64
import binascii
import hashlib
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from core.settings import get_settings


class InvalidKey(ValueError):
    """A key in the settings or on the command line that is not a base64 Ed25519 key."""


def _raw(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidKey(f"{what} is not base64") from None
    if len(raw) != 32:
        raise InvalidKey(f"{what} must hold 32 bytes, not {len(raw)}")
    return raw


@lru_cache(maxsize=4)
def _private_key(encoded: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_raw(encoded, "SYMBIOSE_AUDIT_SIGNING_KEY"))


def signing_key() -> Ed25519PrivateKey:
    return _private_key(get_settings().audit_signing_key.get_secret_value())


def public_key_text(key: Ed25519PublicKey) -> str:
    """The form in which a public key is published and passed to `audit verify --public-key`."""
    return base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def key_id(key: Ed25519PublicKey) -> str:
    """A short fingerprint stored with each checkpoint, naming the key that must verify it."""
    return hashlib.sha256(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()[:16]


def public_key(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_raw(text, "a public key"))


def trusted_keys(published: list[str] | None = None) -> dict[str, Ed25519PublicKey]:
    """The keys a verification trusts, by key id.

    A third party passes the published public keys and needs no secret; otherwise the signing
    key's public half and the former keys of SYMBIOSE_AUDIT_TRUSTED_KEYS are trusted."""
    if published:
        keys = [public_key(text) for text in published]
    else:
        former = [t for t in get_settings().audit_trusted_keys.split(",") if t.strip()]
        keys = [signing_key().public_key(), *(public_key(t) for t in former)]
    return {key_id(key): key for key in keys}


def verifies(key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True
