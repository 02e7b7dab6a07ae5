"""Months as plants write them: numbers, ranges across the new year, lists, and month names or
abbreviations in French and English, read into the 12-bit mask a flow stores (bit 0 = January).

    "1-12", "10-3" (October to March), "1-5,10-12", "10;11;12", "janv.-mars", "Sept", "nov-feb",
    "octobre à mars", "juin et juillet"

A part that is not a month is refused naming it, with its position in the text (an import's
report names the position only: it never quotes a cell).
"""

from __future__ import annotations

import re

from core.text import fold
from marketplace.flows.errors import MonthRangeIncomplete, UnknownMonth

_FULL_NAMES: tuple[tuple[str, ...], ...] = (
    ("janvier", "january"),
    ("fevrier", "february"),
    ("mars", "march"),
    ("avril", "april"),
    ("mai", "may"),
    ("juin", "june"),
    ("juillet", "july"),
    ("aout", "august"),
    ("septembre", "september"),
    ("octobre", "october"),
    ("novembre", "november"),
    ("decembre", "december"),
)
# A name is recognised by its first letters, at least this many, when they name one month only:
# the usual abbreviations are such ("janv", "fév", "avr", "juil", "aoû", "sept", "déc", "feb",
# "mar" for mars and march); "jui" could be June or July and is refused.
_SHORTEST_PREFIX = 3


def _names() -> dict[str, int]:
    months_of_prefix: dict[str, set[int]] = {}
    for month, spellings in enumerate(_FULL_NAMES, start=1):
        for spelling in spellings:
            for end in range(_SHORTEST_PREFIX, len(spelling) + 1):
                months_of_prefix.setdefault(spelling[:end], set()).add(month)
    return {
        prefix: next(iter(months))
        for prefix, months in months_of_prefix.items()
        if len(months) == 1
    }


MONTH_NAMES = _names()
ALL_MONTHS = (1 << 12) - 1

# Parts of a list: commas, semicolons, slashes, plus signs, "et"/"and", or spaces between parts.
_LIST_SEPARATORS = re.compile(r"\s*[,;/+]\s*|\s+(?:et|and|&)\s+|\s+", re.IGNORECASE)
# A range's two ends: a hyphen or a dash ("10-3", "oct – mars"), or the words "à", "au", "to".
_RANGE_WORDS = re.compile(r"\s*[-\u2010-\u2015\u2212]\s*|\s+(?:à|a|au|to|till|until)\s+", re.I)
_RANGE_MARK = "-"


def parse_months(text: str) -> int:
    """The mask of the months named in ``text`` (0 when it names none); raises UnknownMonth or
    MonthRangeIncomplete, with the ``part`` as written and its ``position`` (from 1)."""
    mask = 0
    joined = _RANGE_WORDS.sub(_RANGE_MARK, text.strip())
    parts = [part for part in _LIST_SEPARATORS.split(joined) if part]
    for position, part in enumerate(parts, start=1):
        ends = part.split(_RANGE_MARK)
        if len(ends) == 1:
            mask |= 1 << (_month(ends[0], part, position) - 1)
            continue
        if len(ends) != 2 or not all(ends):
            raise MonthRangeIncomplete(field="months", part=part, position=position)
        first, last = (_month(end, part, position) for end in ends)
        mask |= _range_mask(first, last)
    return mask


def months_of(mask: int) -> list[int]:
    """The month numbers of a mask, in the year's order."""
    return [month for month in range(1, 13) if mask & (1 << (month - 1))]


def _month(end: str, part: str, position: int) -> int:
    word = end.rstrip(".")
    if word.isascii() and word.isdigit():
        number = int(word)
        if 1 <= number <= 12:
            return number
    else:
        month = MONTH_NAMES.get(fold(word).replace(" ", ""))
        if month is not None:
            return month
    # The end alone when it is what is wrong in a range ("oct-juinet": « juinet »).
    raise UnknownMonth(field="months", part=end, position=position)


def _range_mask(first: int, last: int) -> int:
    """The months from ``first`` to ``last`` included; across the new year when ``last`` comes
    before ``first`` ("10-3": October to March)."""
    if first > last:
        return _range_mask(first, 12) | _range_mask(1, last)
    return sum(1 << (month - 1) for month in range(first, last + 1))
