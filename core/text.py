"""Text folding shared by search and scrubbing: accent- and case-insensitive comparisons."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """Lower-case, strip accents (é → e, œ → oe) and collapse everything but letters and digits."""
    text = text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", stripped.lower()).strip()


_DIGITS = re.compile(r"(\d+)")


def collation_key(text: str) -> tuple[tuple[tuple[int, int | str], ...], str]:
    """How a French reader expects names and codes in order: accents and case ignored at first
    (« Béton » between « Aciérie » and « Briqueterie », « Énergie » among the E), digits as numbers
    (« D 2 » before « D 10 »). The text itself breaks ties, so the order is total and stable.
    Code points alone put every accented capital after « Z » and « 10 » before « 2 »."""
    parts: list[tuple[int, int | str]] = []
    for index, chunk in enumerate(_DIGITS.split(fold(text))):
        if index % 2:
            parts.append((0, int(chunk)))
        elif chunk.strip():
            parts.append((1, chunk.strip()))
    # Numbers before words at the same place, as in a phone book ("D 9" before "D 9 F").
    return tuple(parts), text
