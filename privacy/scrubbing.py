"""Public free text: finds what would name or locate a company, so that such text is refused
(marketplace.catalogue.public_text) rather than published with holes in it.

A listing's title and description are shown to the public and to other members before any reveal.
Anything in them that would let a reader name the company is found here:

- SIREN, SIRET and French VAT numbers, only when their checksum holds, and IBANs (privacy.numbers);
- phone numbers in any national or international format, also said in words;
- e-mails, also obfuscated ("jean at papeterie dot fr", "jean (arobase) x (point) fr");
- URLs and bare domains ("papeterie-du-canal.fr");
- GPS coordinates (decimal or degrees-minutes-seconds) and postcodes;
- the company's own names: legal name, brands, sites, their towns and its contacts, with typos,
  splits, leetspeak and initials (privacy.names), and people's names.

Detectors run on a normalised copy of the text: NFKC (full-width "７３２" is "732"), every Unicode
digit made ASCII (Arabic-Indic, Devanagari…), invisible characters (zero-width spaces, soft
hyphens) dropped; what they find is mapped back to the original text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from privacy.names import company_name_spans, company_names, person_spans
from privacy.numbers import (
    Span,
    coordinate_spans,
    digit_spans,
    iban_spans,
    phone_spans,
    postcode_spans,
    spoken_spans,
    vat_spans,
)

# What a text may be refused for, in the order a message names them. Spans carry finer kinds
# ("siren", "siret", "vat"); ``kind_of`` folds them into these.
KINDS = (
    "identifier",
    "iban",
    "phone",
    "email",
    "url",
    "coordinates",
    "postcode",
    "name",
    "person",
)
_KIND_OF = {"siren": "identifier", "siret": "identifier", "vat": "identifier"}


def kind_of(span_kind: str) -> str:
    return _KIND_OF.get(span_kind, span_kind)


# When spans of several detectors overlap, the merged span is reported under the longest one's
# kind; on a tie, under the kind listed first here (an IBAN contains digit runs, a VAT number a
# SIREN, an e-mail a domain and often a name).
_KIND_ORDER = (
    "iban", "vat", "siret", "siren", "email", "url", "phone", "coordinates", "postcode", "name",
    "person",
)  # fmt: skip

# --- normalisation -------------------------------------------------------------------------------


def normalise(text: str) -> tuple[str, list[int]]:
    """NFKC, ASCII digits, no invisible characters; and for each character the index of its
    source character in ``text``."""
    chars: list[str] = []
    source: list[int] = []
    for i, char in enumerate(text):
        digit = unicodedata.decimal(char, None)
        if digit is not None:
            piece = str(digit)
        elif unicodedata.category(char) == "Cf":
            continue  # zero-width spaces and joiners, soft hyphens, direction marks
        else:
            piece = unicodedata.normalize("NFKC", char)
        for c in piece:
            chars.append(c)
            source.append(i)
    return "".join(chars), source


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


def _email_spans(text: str) -> list[Span]:
    return [Span(m.start(), m.end(), "email") for m in _EMAIL.finditer(text)]


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


def _url_spans(text: str) -> list[Span]:
    spans = []
    for pattern in (_URL_SCHEME, _BARE_DOMAIN, _SPELLED_DOMAIN):
        for m in pattern.finditer(text):
            # A sentence's final full stop or a closing bracket is not part of the address.
            end = m.start() + len(m.group().rstrip(_URL_TRAILING))
            spans.append(Span(m.start(), end, "url"))
    return spans


# --- finding and masking -------------------------------------------------------------------------


# A spelling out, one character at a time: "c o n t a c t @ e x a m p l e . f r".
_SPELT = re.compile(r"(?<!\S)\S(?: \S){3,}(?!\S)")


def _unspelt(text: str) -> tuple[str, list[int]]:
    """``text`` with the spaces of its spellings out dropped, and for each character its index
    in ``text``."""
    dropped = {
        m.start() + i for m in _SPELT.finditer(text) for i, c in enumerate(m.group()) if c == " "
    }
    kept = [i for i in range(len(text)) if i not in dropped]
    return "".join(text[i] for i in kept), kept


def find(text: str, deny: Iterable[str] = ()) -> list[Span]:
    """Spans of ``text`` that name or locate the company, merged, in reading order.

    ``deny`` holds the company's legal name, brands, contacts, site names and towns.
    """
    if not text:
        return []
    norm, source = normalise(text)
    spans = [
        *iban_spans(norm),
        *vat_spans(norm),
        *digit_spans(norm),
        *phone_spans(norm),
        *spoken_spans(norm),
        *_email_spans(norm),
        *_url_spans(norm),
        *coordinate_spans(norm),
        *postcode_spans(norm),
    ]
    unspelt, kept = _unspelt(norm)
    if len(unspelt) < len(norm):
        spelt = [*_email_spans(unspelt), *_url_spans(unspelt)]
        spans += [Span(kept[s.start], kept[s.end - 1] + 1, s.kind) for s in spelt]
    names = company_names(deny)
    spans += [Span(s, e, "name") for s, e in company_name_spans(norm, names)]
    spans += [Span(s, e, "person") for s, e in person_spans(norm)]
    return [
        Span(source[span.start], source[span.end - 1] + 1, span.kind)
        for span in _merge(spans)
        if span.end > span.start
    ]


def identifying_kinds(text: str, deny: Iterable[str] = ()) -> list[str]:
    """What a text must lose before it may be public ("phone", "name", …), in ``KINDS`` order;
    empty when it is clean."""
    found = {kind_of(span.kind) for span in find(text, deny)}
    return [kind for kind in KINDS if kind in found]


def _merge(spans: Sequence[Span]) -> list[Span]:
    """Overlapping or touching spans become one, named after its longest part."""
    merged: list[tuple[int, int, Span]] = []  # (start, end, longest part)
    rank = {kind: i for i, kind in enumerate(_KIND_ORDER)}

    def better(a: Span, b: Span) -> Span:
        key_a = (a.end - a.start, -rank[a.kind])
        key_b = (b.end - b.start, -rank[b.kind])
        return a if key_a >= key_b else b

    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start <= merged[-1][1]:
            start, end, longest = merged[-1]
            merged[-1] = (start, max(end, span.end), better(longest, span))
        else:
            merged.append((span.start, span.end, span))
    return [Span(start, end, longest.kind) for start, end, longest in merged]
