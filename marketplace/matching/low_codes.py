"""The List of Waste picker's search: codes typed as digits, the official labels' words, and the
words practitioners use, through the knowledge base's vocabulary (« palettes » → 15 01 03,
« gypse de désulfuration » → 10 01 05, "fly ash" → 10 01 02).

It lives here, not in ``reference``: the vocabulary is the knowledge base's, and ``reference``,
the lowest domain, may not import ``matching``.
"""

from __future__ import annotations

from sqlmodel import Session

from core.reference.models import LowCode
from marketplace.matching.knowledge import codes_for_words
from marketplace.reference.service import low_codes_by_code, search_low_codes

# What an official label holding every word typed adds to the knowledge base's weight (in (0, 1]):
# such a code ranks above the codes only the vocabulary names, unless they are named strongly.
LABEL_MATCH = 0.5
# The least weight a code only the vocabulary names needs to be proposed: a residue's name or a
# use named by most of the words, not a virgin material one word shares ("charbon" names the
# tyres burnt in its place).
VOCABULARY_ONLY = 0.5


def find_low_codes(
    session: Session, query: str, *, entries_only: bool = True, limit: int = 20
) -> list[LowCode]:
    """The codes a query names, best first: a code whose label (or code) holds every word typed
    scores LABEL_MATCH plus its knowledge-base weight (``codes_for_words``), a code only the
    knowledge base names its weight, when at least VOCABULARY_ONLY; ties by code. Digits typed
    find the codes they start, by code, as before (the vocabulary ignores digits)."""
    labelled = {
        row.code: row
        for row in search_low_codes(session, query, entries_only=entries_only, limit=None)
    }
    scores = dict.fromkeys(labelled, LABEL_MATCH)
    for code, weight in codes_for_words(query):
        if code in labelled or weight >= VOCABULARY_ONLY:
            scores[code] = scores.get(code, 0.0) + weight
    ranked = sorted(scores, key=lambda code: (-scores[code], code))[:limit]
    named = low_codes_by_code(session, set(ranked) - set(labelled))
    rows = labelled | {row.code: row for row in named}
    return [rows[code] for code in ranked if code in rows]
