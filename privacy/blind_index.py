"""Blind index: a keyed HMAC that finds a SIRET (or another identifier) without decrypting."""

from __future__ import annotations

import hashlib
import hmac

from core.settings import get_settings
from core.text import fold


def blind_index(purpose: str, value: str) -> str:
    """HMAC-SHA256 of the normalised value, separated by purpose so indexes cannot be joined."""
    key = get_settings().blind_index_key.encode()
    normalised = fold(value).replace(" ", "")
    message = f"{purpose}\x1f{normalised}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
