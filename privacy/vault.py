"""Identity vault: AES-256-GCM envelope encryption, one data key per company.

Each company's identity is encrypted with its own data key (DEK); the DEK is stored wrapped by a
key-encryption key (KEK) that lives in the settings, never in the database. Rotating the KEK
re-wraps the DEKs without touching the identities.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import LargeBinary
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from core.errors import DomainError
from core.settings import get_settings

_NONCE = 12


class VaultError(DomainError):
    status_code = 500


@dataclass(frozen=True)
class Sealed:
    """What the database stores for one company: the wrapped key and the encrypted identity."""

    kek_id: str
    wrapped_key: bytes
    ciphertext: bytes


def parse_keks(spec: str) -> dict[str, bytes]:
    keks: dict[str, bytes] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        kek_id, _, encoded = item.partition(":")
        key = base64.b64decode(encoded)
        if len(key) != 32:
            raise VaultError(f"key-encryption key {kek_id!r} must be 32 bytes (AES-256)")
        keks[kek_id] = key
    if not keks:
        raise VaultError("no key-encryption key configured (SYMBIOSE_VAULT_KEKS)")
    return keks


def _keks() -> tuple[str, dict[str, bytes]]:
    spec = get_settings().vault_keks
    keks = parse_keks(spec)
    return next(iter(keks)), keks


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(_NONCE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, blob: bytes, aad: bytes) -> bytes:
    return AESGCM(key).decrypt(blob[:_NONCE], blob[_NONCE:], aad)


@lru_cache(maxsize=4096)
def _unwrap(kek_id: str, wrapped_key: bytes, aad: bytes) -> bytes:
    _, keks = _keks()
    if kek_id not in keks:
        raise VaultError(f"key-encryption key {kek_id!r} is not configured")
    return _open(keks[kek_id], wrapped_key, b"dek:" + aad)


def new_data_key(aad: bytes) -> tuple[str, bytes, bytes]:
    """A fresh data key, its wrapped form and the id of the KEK that wrapped it."""
    kek_id, keks = _keks()
    dek = AESGCM.generate_key(bit_length=256)
    return kek_id, _seal(keks[kek_id], dek, b"dek:" + aad), dek


def seal_json(payload: dict[str, Any], *, aad: bytes, sealed: Sealed | None = None) -> Sealed:
    """Encrypt `payload`, reusing the data key of `sealed` when the owner already has one.

    `aad` binds the ciphertext to its owner (the company id): a row copied onto another company
    does not decrypt.
    """
    if sealed is None:
        kek_id, wrapped, dek = new_data_key(aad)
    else:
        kek_id, wrapped = sealed.kek_id, sealed.wrapped_key
        dek = _unwrap(kek_id, wrapped, aad)
    plaintext = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    return Sealed(kek_id=kek_id, wrapped_key=wrapped, ciphertext=_seal(dek, plaintext, aad))


def open_json(sealed: Sealed, *, aad: bytes) -> dict[str, Any]:
    dek = _unwrap(sealed.kek_id, sealed.wrapped_key, aad)
    result: dict[str, Any] = json.loads(_open(dek, sealed.ciphertext, aad))
    return result


def rewrap(sealed: Sealed, *, aad: bytes) -> Sealed:
    """Re-wrap the data key with the current (first) KEK; the ciphertext is unchanged."""
    kek_id, keks = _keks()
    if sealed.kek_id == kek_id:
        return sealed
    dek = _unwrap(sealed.kek_id, sealed.wrapped_key, aad)
    return Sealed(
        kek_id=kek_id,
        wrapped_key=_seal(keks[kek_id], dek, b"dek:" + aad),
        ciphertext=sealed.ciphertext,
    )


def can_unwrap(sealed: Sealed, *, aad: bytes) -> bool:
    """Whether the configured keys open this data key now, decrypting nothing else: a reveal
    asks before it changes anything, so a missing key refuses it cleanly rather than halfway."""
    try:
        _, keks = _keks()
        if sealed.kek_id not in keks:
            return False
        _open(keks[sealed.kek_id], sealed.wrapped_key, b"dek:" + aad)
    except (VaultError, InvalidTag, ValueError):
        return False
    return True


def clear_key_cache() -> None:
    _unwrap.cache_clear()


# --- free text at rest -------------------------------------------------------------------------
# A flow's label, description and quality specification are free text in which a user may type
# the company's name or SIRET. They are sealed with a platform text key derived from the KEK, so
# the database file alone shows none of it; the type below does it transparently for every query.

_TEXT_PREFIX = b"T1"


@lru_cache(maxsize=16)
def _text_aead(kek: bytes) -> AESGCM:
    # One cipher object per key: an import seals hundreds of thousands of texts.
    return AESGCM(hmac.new(kek, b"symbiose free-text key v1", hashlib.sha256).digest())


def seal_text(value: str) -> bytes:
    kek_id, keks = _keks()
    tag = kek_id.encode()
    nonce = os.urandom(_NONCE)
    blob = nonce + _text_aead(keks[kek_id]).encrypt(nonce, value.encode(), _TEXT_PREFIX + tag)
    return _TEXT_PREFIX + bytes([len(tag)]) + tag + blob


def open_text(blob: bytes) -> str:
    if not blob.startswith(_TEXT_PREFIX):
        raise VaultError("not a sealed text")
    size = blob[2]
    tag, sealed = blob[3 : 3 + size], blob[3 + size :]
    _, keks = _keks()
    kek = keks.get(tag.decode())
    if kek is None:
        raise VaultError(f"key-encryption key {tag.decode()!r} is not configured")
    return _text_aead(kek).decrypt(sealed[:_NONCE], sealed[_NONCE:], _TEXT_PREFIX + tag).decode()


class SealedText(TypeDecorator[str]):
    """A str column stored as AES-256-GCM ciphertext (sealed on write, opened on read)."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> bytes | None:
        return None if value is None else seal_text(value)

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> str | None:
        return None if value is None else open_text(bytes(value))
