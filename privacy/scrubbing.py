"""Scrubbing of public free text: masks identifiers, contacts and the company's own names.

A listing's description is shown to the public and to other members before any reveal, so
anything that would let a reader name the company is replaced by ``[masqué]``:

- SIREN, SIRET and French VAT numbers, only when their checksum holds (python-stdnum), in any
  spacing ("732 829 320 00074", "FR 40 303 265 045");
- e-mails, including the obfuscated "jean at papeterie dot fr" or "jean (arobase) x (point) fr";
- phone numbers, French and international;
- URLs and bare domains ("papeterie-du-canal.fr");
- IBANs (checksum-validated, in groups of four or not);
- the deny-list: legal name, brands, site and town names, matched accent-, case- and
  punctuation-insensitively, also inside longer words ("Dunor" masks "Dunorgaz"), plus each
  distinctive word of a multi-word name on its own.

Every detector reports spans of the original text; overlapping spans are merged before masking,
so one placeholder replaces, say, an e-mail whose domain is also a denied name. The original text
is kept by the caller (the counterpart sees it after the reveal); this module only makes the public
version. Privacy comes first: when in doubt a span is masked (see the limits in ``scrub``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from stdnum import iban as stdnum_iban
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret
from stdnum.fr import tva as stdnum_tva

from core.text import fold

PLACEHOLDER = "[masqué]"


@dataclass(frozen=True)
class ScrubResult:
    """The public text, and one kind per masked span in reading order ("siret", "email", …)."""

    text: str
    removed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    kind: str


# When spans of several detectors overlap, the merged span is reported under the longest one's
# kind; on a tie, under the kind listed first here (an IBAN contains digit runs, a VAT number a
# SIREN, an e-mail a domain and often a name).
_KIND_ORDER = ("iban", "vat", "siret", "siren", "email", "url", "phone", "name")

# Characters that may separate the digits of an identifier or a phone number. Newlines are left
# out on purpose: two numbers on consecutive lines are two numbers.
_SEP = "[ \t.\\-\u00a0\u202f\u2009]"

# --- SIREN, SIRET, VAT --------------------------------------------------------------------------

# A run of digit groups separated by at most two separator characters ("123 456 789", "123.456").
_DIGIT_RUN = re.compile(rf"(?<![0-9])[0-9]+(?:{_SEP}{{1,2}}[0-9]+)*(?![0-9])")
_DIGIT_GROUP = re.compile(r"[0-9]+")
# A figure followed by a unit ("125 000 000 kWh", "+12 000 000 t") is a quantity, not a SIREN
# or a phone number; "l" must not be the article of "l'usine", nor "t" the start of "Tél".
_UNIT_AFTER = re.compile(
    r"\s?(?:t|kg|tonnes?|kwh|mwh|gwh|m3|m³|l|litres?|€|eur|euros?|%|°c|km)(?![\w'’])",
    re.IGNORECASE,
)
_VAT = re.compile(
    rf"(?<![A-Za-z0-9])FR{_SEP}{{0,2}}[0-9A-Z]{{2}}(?:{_SEP}{{0,2}}[0-9]){{9}}(?![0-9])", re.I
)


def _identifier_spans(text: str) -> list[_Span]:
    spans = []
    for m in _VAT.finditer(text):
        compact = re.sub(r"[^0-9A-Za-z]", "", m.group()).upper()
        if stdnum_tva.is_valid(compact):
            spans.append(_Span(m.start(), m.end(), "vat"))
        elif stdnum_siren.is_valid(compact[-9:]):
            # A wrong key ("FR00…") does not make the SIREN inside any less identifying.
            spans.append(_Span(m.start(), m.end(), "siren"))
    for run in _DIGIT_RUN.finditer(text):
        groups = [
            (g.start() + run.start(), g.end() + run.start())
            for g in _DIGIT_GROUP.finditer(run.group())
        ]
        spans.extend(_identifiers_in_groups(text, groups))
    return spans


def _is_quantity(text: str, groups: list[tuple[int, int]]) -> bool:
    """Digits grouped by thousands and followed by a unit: "125 000 000 kWh"."""
    thousands = all(end - start == 3 for start, end in groups[1:])
    return len(groups) > 1 and thousands and bool(_UNIT_AFTER.match(text, groups[-1][1]))


def _identifiers_in_groups(text: str, groups: list[tuple[int, int]]) -> list[_Span]:
    """Valid SIRETs or SIRENs made of consecutive digit groups, longest first, left to right.

    Trying every run of consecutive groups rather than the whole run finds "732 829 320 00074"
    inside "lot 12 732 829 320 00074", whatever the spacing; only checksum-valid numbers are kept,
    so a nine-digit figure is masked only in the rare case its Luhn sum holds.
    """
    spans: list[_Span] = []
    i = 0
    while i < len(groups):
        found: tuple[int, str] | None = None  # (index of the last group, kind)
        siren_end: int | None = None
        digits = ""
        for j in range(i, len(groups)):
            digits += text[groups[j][0] : groups[j][1]]
            if (
                len(digits) == 9
                and stdnum_siren.is_valid(digits)
                and not _is_quantity(text, groups[i : j + 1])
            ):
                siren_end = j
            if len(digits) >= 14:
                if len(digits) == 14 and stdnum_siret.is_valid(digits):
                    found = (j, "siret")
                elif len(digits) == 14 and siren_end is not None:
                    # A valid SIREN with a mistyped NIC still names the company: mask the NIC too.
                    found = (j, "siren")
                break
        if found is None and siren_end is not None:
            found = (siren_end, "siren")
        if found is None:
            i += 1
            continue
        spans.append(_Span(groups[i][0], groups[found[0]][1], found[1]))
        i = found[0] + 1
    return spans


# --- e-mails --------------------------------------------------------------------------------------

# Bare domains (and spaced-out e-mail dots) are recognised by a known top-level domain only: "3.5"
# or "p.ex" are not websites.
_TLDS = (
    "fr|com|net|org|eu|info|biz|io|co|be|de|es|it|nl|lu|ch|uk|ca|us|pro|bzh|paris|alsace|corsica"
    "|eus|tech|app|dev|online|site|shop|xyz|me|tv|ai"
)

# A letter or digit of any script, then word characters, dots, "+" or "-": "jean.dupont", "x-y.fr".
# Spelled-out dots between labels are bounded ({0,4}) so that prose like "x point x point …" cannot
# make the search quadratic.
_LABEL = r"[^\W_][\w.+\-]*"
_OPEN, _CLOSE = r"[\[({<]", r"[\])}>]"
# "@", "[at]", "(arobase)", " at ", " arobase ": the spelled-out forms need spaces around them so
# that "chat" or "format" never count as an "at".
_AT = rf"(?:\s?@\s?|\s?{_OPEN}\s?(?:at|arobase|@)\s?{_CLOSE}\s?|\s+(?:at|arobase)\s+)"
# A plain dot takes no spaces: "écrire à x@y.fr. Merci" must not swallow "Merci" as a domain.
_DOT_WORD = rf"(?:\s?{_OPEN}\s?(?:dot|point|\.)\s?{_CLOSE}\s?|\s+(?:dot|point)\s+)"
_DOT = rf"(?:\.|{_DOT_WORD})"
_EMAIL = re.compile(
    rf"(?<![\w.+\-]){_LABEL}(?:{_DOT_WORD}{_LABEL}){{0,4}}{_AT}"
    rf"{_LABEL}(?:{_DOT_WORD}{_LABEL}){{0,4}}"
    # The last dot may be spaced out ("dunor . fr") only before a known TLD (see _TLDS).
    rf"(?:{_DOT}[a-z]{{2,12}}|\s?\.\s?(?:{_TLDS}))(?!\w)",
    re.IGNORECASE,
)


def _email_spans(text: str) -> list[_Span]:
    return [_Span(m.start(), m.end(), "email") for m in _EMAIL.finditer(text)]


# --- URLs -----------------------------------------------------------------------------------------

# Spelled-out dots ("papeterie point fr") only before TLDs that are not French words ("net",
# "de", "info" are): "le point de livraison" stays.
_WORD_TLDS = "fr|com|org|eu|io"
_URL_SCHEME = re.compile(r"(?<![\w.])(?:(?:https?|ftp)://|www\.)[^\s<>\"]+", re.IGNORECASE)
_BARE_DOMAIN = re.compile(
    rf"(?<![\w@.\-/]){_LABEL}\.(?:{_TLDS})(?![\w\-])(?:/[^\s<>\"]*)?", re.IGNORECASE
)
_SPELLED_DOMAIN = re.compile(
    rf"(?<![\w@.\-/]){_LABEL}(?:{_DOT_WORD}{_LABEL}){{0,4}}{_DOT_WORD}(?:{_WORD_TLDS})(?!\w)",
    re.IGNORECASE,
)
_URL_TRAILING = ".,;:!?)]}'\"»"


def _url_spans(text: str) -> list[_Span]:
    spans = []
    for pattern in (_URL_SCHEME, _BARE_DOMAIN, _SPELLED_DOMAIN):
        for m in pattern.finditer(text):
            # A sentence's final full stop or a closing bracket is not part of the address.
            end = m.start() + len(m.group().rstrip(_URL_TRAILING))
            spans.append(_Span(m.start(), end, "url"))
    return spans


# --- phones ---------------------------------------------------------------------------------------

_PHONE_SEP = rf"{_SEP}{{0,3}}"
_PHONES = (
    # 03 28 12 34 56, 03.28.12.34.56, 0328123456: ten digits in pairs, starting 0 then 1–9.
    re.compile(rf"(?<![0-9.,])0[1-9](?:{_PHONE_SEP}[0-9]{{2}}){{4}}(?![0-9])"),
    # 0 800 123 456: the French special-rate numbers are written in threes.
    re.compile(rf"(?<![0-9.,])0{_SEP}?[89][0-9]{{2}}(?:{_PHONE_SEP}[0-9]{{3}}){{2}}(?![0-9])"),
    # +33 3 28 12 34 56, +33 (0)3 28…, 0033 3 28…
    re.compile(
        rf"(?<![\w+])(?:\+|(?<![0-9.,])00){_SEP}?33{_SEP}{{0,2}}(?:\(0\){_SEP}{{0,2}})?[1-9]"
        rf"(?:{_PHONE_SEP}[0-9]{{2}}){{4}}(?![0-9])"
    ),
    # Any other international number: + or 00, then 8 to 15 digits with spaces, dots, brackets.
    re.compile(
        r"(?<![\w+.,])(?:\+|00)[1-9](?:[ .\-\u00a0\u202f\u2009()]{0,2}[0-9]){7,14}(?![0-9])"
    ),
)


def _phone_spans(text: str) -> list[_Span]:
    return [
        _Span(m.start(), m.end(), "phone")
        for pattern in _PHONES
        for m in pattern.finditer(text)
        # "+12 000 000 t" is a quantity, however it is signed.
        if not _UNIT_AFTER.match(text, m.end())
    ]


# --- IBANs ----------------------------------------------------------------------------------------

_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?:[ \u00a0]?[A-Z0-9]){11,30}", re.IGNORECASE)


def _iban_spans(text: str) -> list[_Span]:
    spans = []
    for m in _IBAN.finditer(text):
        # The pattern runs on into the next words ("… 189 pour le paiement"): keep the longest
        # prefix that is a valid IBAN.
        ends = [m.start() + i + 1 for i, c in enumerate(m.group()) if c.isalnum()]
        for end in reversed(ends[14:]):
            compact = re.sub(r"[^0-9A-Za-z]", "", text[m.start() : end]).upper()
            if stdnum_iban.is_valid(compact):
                spans.append(_Span(m.start(), end, "iban"))
                break
    return spans


# --- deny-list ------------------------------------------------------------------------------------

# A word of a multi-word term is masked on its own when it has at least _TOKEN_MIN_LENGTH letters
# ("SA", "du", "Bois" never are) and is not listed here: legal forms, corporate boilerplate, and the
# words that site and town names are built from ("Usine de Mardyck", "Saint-Pol-sur-Mer"), which
# would otherwise vanish from every description. Any other word is masked wherever it appears, even
# a common one ("Cimenterie" of "Cimenterie Valdune SAS"): privacy first.
_NOT_DISTINCTIVE = frozenset(
    {
        "sarlu", "selarl", "selas", "societe", "groupe", "compagnie", "etablissement",
        "etablissements", "entreprise", "entreprises", "holding", "industrie", "industries",
        "industriel", "industrielle", "industriels", "services", "france", "international",
        "cooperative",
        "usine", "usines", "sites", "plateforme", "entrepot", "depot", "atelier", "ateliers",
        "agence", "siege", "centre", "portuaire", "saint", "sainte", "grand", "grande", "petit",
        "petite", "ville", "plage",
    }
)  # fmt: skip
_TOKEN_MIN_LENGTH = 5
# Shorter folded terms carry too little to match safely; up to this length they match whole words
# only, so "Sol" masks "Sol" but not "solide".
_TERM_MIN_LENGTH = 3
_INSIDE_WORD_MIN_LENGTH = 5


def _fold_with_map(text: str) -> tuple[str, list[int]]:
    """``core.text.fold(text)``, and for each folded character the index of its source character."""
    folded: list[str] = []
    source: list[int] = []
    gap = False
    for i, char in enumerate(text):
        piece = {"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE"}.get(char, char)
        for c in unicodedata.normalize("NFKD", piece):
            if unicodedata.combining(c):
                continue
            for lower in c.lower():
                if "a" <= lower <= "z" or "0" <= lower <= "9":
                    if gap and folded:
                        folded.append(" ")
                        source.append(i)
                    gap = False
                    folded.append(lower)
                    source.append(i)
                else:
                    gap = True
    return "".join(folded), source


def _deny_patterns(deny: Iterable[str]) -> list[re.Pattern[str]]:
    """Regexes over folded text: each deny term, and each distinctive word of a multi-word one."""
    terms: set[str] = set()
    for raw in deny:
        term = fold(raw or "")
        if len(term.replace(" ", "")) < _TERM_MIN_LENGTH:
            continue
        terms.add(term)
        words = term.split()
        if len(words) > 1:
            terms.update(
                w for w in words if len(w) >= _TOKEN_MIN_LENGTH and w not in _NOT_DISTINCTIVE
            )
    patterns = []
    for term in sorted(terms, key=len, reverse=True):
        # "papeterie du canal" also matches "papeterieducanal" (a folded "PapeterieDuCanal").
        body = " ?".join(re.escape(w) for w in term.split())
        if len(term.replace(" ", "")) < _INSIDE_WORD_MIN_LENGTH:
            body = rf"(?<![a-z0-9]){body}(?![a-z0-9])"
        patterns.append(re.compile(body))
    return patterns


def _is_word_char(char: str) -> bool:
    return char.isalnum() or bool(unicodedata.combining(char))


def _deny_spans(text: str, patterns: list[re.Pattern[str]]) -> list[_Span]:
    if not patterns:
        return []
    folded, source = _fold_with_map(text)
    spans = []
    for pattern in patterns:
        for m in pattern.finditer(folded):
            start, end = source[m.start()], source[m.end() - 1] + 1
            # Mask the whole word around the name: "Dunorgaz" gives away "Dunor" even half-hidden.
            while start > 0 and _is_word_char(text[start - 1]):
                start -= 1
            while end < len(text) and _is_word_char(text[end]):
                end += 1
            spans.append(_Span(start, end, "name"))
    return spans


# --- masking --------------------------------------------------------------------------------------


def _merge(spans: list[_Span]) -> list[_Span]:
    """Overlapping or touching spans become one, named after its longest part."""
    merged: list[tuple[int, int, _Span]] = []  # (start, end, longest part)
    rank = {kind: i for i, kind in enumerate(_KIND_ORDER)}

    def better(a: _Span, b: _Span) -> _Span:
        key_a = (a.end - a.start, -rank[a.kind])
        key_b = (b.end - b.start, -rank[b.kind])
        return a if key_a >= key_b else b

    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start <= merged[-1][1]:
            start, end, longest = merged[-1]
            merged[-1] = (start, max(end, span.end), better(longest, span))
        else:
            merged.append((span.start, span.end, span))
    return [_Span(start, end, longest.kind) for start, end, longest in merged]


def scrub(text: str, deny: Iterable[str] = ()) -> ScrubResult:
    """The public version of ``text``: identifiers, contacts and denied names become "[masqué]".

    ``deny`` holds the company's legal name, brands, site names and town. ``removed`` lists the
    kind of each masked span in reading order ("siren", "siret", "vat", "email", "phone", "url",
    "iban", "name").

    Known limits, chosen for privacy over readability: a distinctive word of the legal name is
    masked even where it is used as a common word, and inside longer words ("Canal" of "Papeterie
    du Canal" masks "canalisation"); a nine- or fourteen-digit figure whose Luhn sum happens to hold
    is masked as an identifier unless a unit follows it. Names spelled with letters spaced out
    ("D u n o r"), numbers written in words and identifiers split across lines are not caught.
    """
    if not text:
        return ScrubResult(text=text, removed=[])
    spans = [
        *_iban_spans(text),
        *_identifier_spans(text),
        *_email_spans(text),
        *_url_spans(text),
        *_phone_spans(text),
        *_deny_spans(text, _deny_patterns(deny)),
    ]
    pieces: list[str] = []
    removed: list[str] = []
    cursor = 0
    for span in _merge(spans):
        pieces.append(text[cursor : span.start])
        pieces.append(PLACEHOLDER)
        removed.append(span.kind)
        cursor = span.end
    pieces.append(text[cursor:])
    return ScrubResult(text="".join(pieces), removed=removed)
