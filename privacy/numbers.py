"""Numbers in public text that locate or name a company: SIREN, SIRET, VAT, IBAN, phone numbers
(in digits or in words), GPS coordinates and postcodes.

The text given here is already normalised (privacy.scrubbing: NFKC, every Unicode digit made ASCII,
invisible characters dropped). Separators between digits are whatever is not a letter, a digit or a
line break, up to three in a row: "732/829/320/00074", "732,829,320,00074", "732 829 320-00074"
are one SIRET. Identifiers count only when their checksum holds (python-stdnum), phone numbers only
when valid for their country (phonenumbers, Google's libphonenumber metadata), so that List of Waste
codes ("10 01 02"), quantities ("1 200 t/an"), temperatures and dates stay readable.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import phonenumbers
from stdnum import iban as stdnum_iban
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret
from stdnum.fr import tva as stdnum_tva

from core.text import fold


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str


# --- digit runs ----------------------------------------------------------------------------------

_GROUP = re.compile(r"[0-9]+")
# What may separate two digit groups of one number: up to three characters that are neither word
# characters nor line breaks, but not a list's comma or semicolon followed by a space ("10 01 02,
# 1 200 t") nor a clock's colon.
_GAP = re.compile(r"[^\w\n:]{1,3}")
_LIST_BREAK = re.compile(r"[,;]\s")
# A figure followed by a unit is a quantity, not an identifier or a phone number ("125 000 000
# kWh"); "l" must not be the article of "l'usine", nor "t" the start of "Tél".
_UNIT_AFTER = re.compile(
    r"\s?(?:t|kt|kg|g|tonnes?|kwh|mwh|gwh|twh|kw|mw|gw|gj|mj|th|m3|m³|m2|m²|nm3|l|ml|hl|litres?"
    r"|€|k€|m€|eur|euros?|%|°c|°|km|m|mm|cm|ha|bars?|ppm|h|j|jours?|ans?|mois)(?![\w'’])",
    re.IGNORECASE,
)
# Dates ("12/03/2024", "01.02.2023") are blanked before runs are cut: a date and a time next to it
# make ten digits that may well be a valid Paris number.
_DATE = re.compile(r"(?<![0-9])[0-3]?[0-9]([/.\-])[01]?[0-9]\1(?:19|20)[0-9]{2}(?![0-9])")


# Letters written for the digits they look like, inside a written number: "06 l2 34 56 78",
# "O6 12…", "06 12 3l 56 78"; not in a word ("CO2") nor a unit ("12l").
_LOOKALIKE = re.compile(
    r"(?<![^\W\d_])[OoIl](?=[0-9])|(?<=[0-9])[OoIl](?=[0-9]|[^\w\n:]{1,3}[0-9])"
)
_LOOKALIKE_DIGIT = str.maketrans("OoIl", "0011")


def _runs(text: str) -> Iterator[list[tuple[int, int]]]:
    """Digit groups of one written number: consecutive groups joined by a short separator."""
    text = _DATE.sub(lambda m: "x" * len(m.group()), text)
    run: list[tuple[int, int]] = []
    for m in _GROUP.finditer(text):
        if run:
            gap = text[run[-1][1] : m.start()]
            if not _GAP.fullmatch(gap) or _LIST_BREAK.search(gap):
                yield run
                run = []
        run.append((m.start(), m.end()))
    if run:
        yield run


def _is_quantity(text: str, end: int) -> bool:
    return bool(_UNIT_AFTER.match(text, end))


def _windows(digits: list[str], lengths: tuple[int, ...]) -> Iterator[tuple[int, int, str]]:
    """(first, last, digits) of each run of consecutive groups whose digits number ``lengths``."""
    for i in range(len(digits)):
        joined = ""
        for j in range(i, len(digits)):
            joined += digits[j]
            if len(joined) in lengths:
                yield i, j, joined
            if len(joined) >= max(lengths):
                break


def _identifier_kind(digits: str) -> str | None:
    if len(digits) == 14:
        if stdnum_siret.is_valid(digits):
            return "siret"
        # A valid SIREN with a mistyped NIC still names the company.
        return "siren" if stdnum_siren.is_valid(digits[:9]) else None
    return "siren" if len(digits) == 9 and stdnum_siren.is_valid(digits) else None


def _is_french_phone(digits: str) -> bool:
    if len(digits) != 10 or digits[0] != "0" or digits[1] == "0":
        return False
    return phonenumbers.is_valid_number(phonenumbers.parse(digits, "FR"))


def _is_quantity_window(text: str, run: list[tuple[int, int]], i: int, j: int) -> bool:
    """Digits grouped by thousands and followed by a unit: "125 000 000 kWh", "+12 000 000 t"."""
    thousands = all(end - start == 3 for start, end in run[i + 1 : j + 1])
    return j > i and thousands and _is_quantity(text, run[j][1])


def digit_spans(text: str) -> list[Span]:
    """SIRENs, SIRETs and French phone numbers written with any separators between digits.

    Runs of groups are tried longest first, so "lot 12 732 829 320 00074" finds the SIRET after
    "12"; a nine-digit figure is taken for a SIREN only when its Luhn sum holds.
    """
    spans: list[Span] = []
    text = _LOOKALIKE.sub(lambda m: m.group().translate(_LOOKALIKE_DIGIT), text)
    for run in _runs(text):
        digits = [text[start:end] for start, end in run]
        taken: set[int] = set()
        windows = sorted(_windows(digits, (9, 10, 14)), key=lambda w: (-len(w[2]), w[0]))
        for i, j, joined in windows:
            if taken.intersection(range(i, j + 1)) or _is_quantity_window(text, run, i, j):
                continue
            kind = _identifier_kind(joined) or ("phone" if _is_french_phone(joined) else None)
            if kind is not None:
                spans.append(Span(run[i][0], run[j][1], kind))
                taken.update(range(i, j + 1))
    return spans


# --- phones as libphonenumber reads them ---------------------------------------------------------


def phone_spans(text: str) -> list[Span]:
    """Valid numbers in any national or international format: "(03) 28 61 22 33",
    "032 861 2233", "+33 (0)3 28…", "+44 20 7946 0958"."""
    return [
        Span(m.start, m.end, "phone")
        for m in phonenumbers.PhoneNumberMatcher(text, "FR", leniency=phonenumbers.Leniency.VALID)
        if not _is_quantity(text, m.end)
    ]


# --- numbers in words ----------------------------------------------------------------------------

_UNITS = {
    "zero": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6,
    "sept": 7, "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13,
    "quatorze": 14, "quinze": 15, "seize": 16,
    "oh": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "vingt": 20, "vingts": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60,
    "septante": 70, "huitante": 80, "octante": 80, "nonante": 90,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_LINK_WORDS = frozenset({"et", "and"})
_HUNDRED = frozenset({"cent", "cents", "hundred"})
_NUMBER_WORD = re.compile(r"[^\W_]+")
# A run worth reading needs two number words at least; its digits must then make a valid number.
_MIN_WORDS = 2


def _spoken_groups(words: list[str], breaks: frozenset[int] = frozenset()) -> list[str]:
    """The numbers a run of number words says, each as digits: "zero trois vingt huit" → 0 3 28,
    "sept cent trente-deux" → 732. A word at a position of ``breaks`` (after a comma) starts a
    number of its own: "zéro zéro trois, cent quarante-huit" → 0 0 3 148, not 0 0 348."""
    groups: list[int | str] = []
    for position, word in enumerate(words):
        last = groups[-1] if groups and isinstance(groups[-1], int) else None
        if position in breaks:
            last = None
        hundreds = last is not None and last >= 100 and last % 100 == 0
        if word.isdigit():
            groups.append(word)
        elif word in _LINK_WORDS:
            continue
        elif word in _HUNDRED:
            if last is not None and 1 < last < 10:
                groups[-1] = last * 100  # sept cent
            else:
                groups.append(100)
        elif hundreds and last is not None and (_TENS.get(word) or _UNITS[word]):
            groups[-1] = last + (_TENS.get(word) or _UNITS[word])  # cent vingt, sept cent deux
        elif last is not None and last > 100 and last % 100 == 4 and _TENS.get(word) == 20:
            groups[-1] = last + 76  # huit cent quatre-vingt
        elif word in _TENS:
            if last == 4 and _TENS[word] == 20:  # quatre-vingt
                groups[-1] = 80
            else:
                groups.append(_TENS[word])
        elif (
            last is not None
            and last >= 20
            and last % 10 == 0
            and (0 < _UNITS[word] < 10 or (last % 100 in (60, 80) and 10 <= _UNITS[word] < 20))
        ):
            groups[-1] = last + _UNITS[word]  # vingt-deux, soixante-et-onze, quatre-vingt-dix
        elif last == 10 and _UNITS[word] in (7, 8, 9):
            groups[-1] = last + _UNITS[word]  # dix-sept
        else:
            groups.append(_UNITS[word])
    return [str(g) for g in groups]


def _is_number_word(word: str) -> bool:
    return word in _UNITS or word in _TENS or word in _HUNDRED or word.isdigit()


def spoken_spans(text: str) -> list[Span]:
    """Phone numbers and identifiers said in words, or half in words: "zéro trois, vingt-huit,
    soixante et un, vingt-deux, trente-trois"."""
    spans: list[Span] = []
    words = list(_NUMBER_WORD.finditer(text))
    folded = [fold(w.group()) for w in words]
    i = 0
    while i < len(words):
        if not _is_number_word(folded[i]):
            i += 1
            continue
        j = i
        while (
            j + 1 < len(words)
            and (_is_number_word(folded[j + 1]) or folded[j + 1] in _LINK_WORDS)
            and _GAP.fullmatch(text[words[j].end() : words[j + 1].start()])
        ):
            j += 1
        run = folded[i : j + 1]
        breaks = frozenset(
            k - i
            for k in range(i + 1, j + 1)
            if re.search(r"[,;.:/]", text[words[k - 1].end() : words[k].start()])
        )
        if sum(1 for w in run if w in _UNITS or w in _TENS) >= _MIN_WORDS:
            groups = _spoken_groups(run, breaks)
            if any(
                _identifier_kind(joined) or _is_french_phone(joined)
                for _first, _last, joined in _windows(groups, (9, 10, 14))
            ):
                spans.append(Span(words[i].start(), words[j].end(), "phone"))
        i = j + 1
    return spans


# --- IBAN and VAT --------------------------------------------------------------------------------

# Country, check digits, then 11 to 30 letters or digits; between them up to two separators.
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?:[^\w\n]{0,2}[A-Z0-9]){11,30}", re.I)
_VAT = re.compile(
    r"(?<![A-Za-z0-9])FR[^\w\n]{0,2}[0-9A-Z]{2}(?:[^\w\n]{0,2}[0-9]){9}(?![0-9])", re.I
)


def iban_spans(text: str) -> list[Span]:
    spans = []
    for m in _IBAN.finditer(text):
        # The pattern runs on into the next words: keep the longest prefix that is a valid IBAN.
        ends = [m.start() + i + 1 for i, c in enumerate(m.group()) if c.isalnum()]
        for end in reversed(ends[14:]):
            compact = re.sub(r"[^0-9A-Za-z]", "", text[m.start() : end]).upper()
            if stdnum_iban.is_valid(compact):
                spans.append(Span(m.start(), end, "iban"))
                break
    return spans


def vat_spans(text: str) -> list[Span]:
    spans = []
    for m in _VAT.finditer(text):
        compact = re.sub(r"[^0-9A-Za-z]", "", m.group()).upper()
        if stdnum_tva.is_valid(compact):
            spans.append(Span(m.start(), m.end(), "vat"))
        elif stdnum_siren.is_valid(compact[-9:]):
            # A wrong key ("FR00…") does not make the SIREN inside any less identifying.
            spans.append(Span(m.start(), m.end(), "siren"))
    return spans


# --- coordinates and postcodes -------------------------------------------------------------------

_DECIMAL = r"-?[0-9]{1,3}[.,][0-9]{3,}"
_COORDINATES = (
    # 51°02'03.5"N, 2° 22′ 36″ E, 51°02.05'
    re.compile(
        r"[0-9]{1,3}\s?°\s?[0-9]{1,2}(?:[.,][0-9]+)?\s?['′’]"
        r"(?:\s?[0-9]{1,2}(?:[.,][0-9]+)?\s?(?:[\"″”]|''))?(?:\s?[NSEOW](?![A-Za-z]))?"
    ),
    # 51.0343° N, 2,3768 E
    re.compile(rf"{_DECIMAL}\s?°?\s?[NSEOW](?![A-Za-z])"),
    # 51.0343, 2.3768 — two decimals of four places or more, in latitude and longitude ranges.
    re.compile(r"-?[0-9]{1,2}[.,][0-9]{4,}\s?°?\s?[,;/ ]\s?-?[0-9]{1,3}[.,][0-9]{4,}"),
    # GPS : 51.03 / lat 51,034 / longitude 2.37
    re.compile(
        r"(?<![A-Za-z])(?:gps|lat|latitude|lon|lng|longitude)\s?[:=]?\s?"
        r"-?[0-9]{1,3}[.,][0-9]{2,}",
        re.I,
    ),
)
# A French postcode: département 01–98 (2A/2B are written 20), then three digits.
_POSTCODE = re.compile(r"(?<![0-9.,])(?:0[1-9]|[1-8][0-9]|9[0-8])(\s?)[0-9]{3}(?![0-9.,])")
_CAPITALISED_AFTER = re.compile(r"\s+[A-ZÀ-Ý][a-zà-ÿA-ZÀ-Ý'\-]+")
_POSTCODE_WORDS = re.compile(r"(?:\bcp|code postal|cedex)\s?:?\s?$", re.I)


def coordinate_spans(text: str) -> list[Span]:
    return [Span(m.start(), m.end(), "coordinates") for p in _COORDINATES for m in p.finditer(text)]


def postcode_spans(text: str) -> list[Span]:
    """Postcodes: five digits unbroken and no unit after them ("59140"), or spaced before a
    capitalised word, a town ("59 140 Dunkerque"), or after "CP" ("CP 59 140")."""
    spans = []
    for m in _POSTCODE.finditer(text):
        if _is_quantity(text, m.end()):
            continue
        named = bool(_CAPITALISED_AFTER.match(text, m.end())) or bool(
            _POSTCODE_WORDS.search(text, 0, m.start())
        )
        if not m.group(1) or named:
            spans.append(Span(m.start(), m.end(), "postcode"))
    return spans
