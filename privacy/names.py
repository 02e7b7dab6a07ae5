"""Names in public text: the company's own (with typos, splits, leetspeak, initials) and people's.

A company's names (legal name, brands, sites, their towns, its contacts) are matched on folded
tokens (no accents, no case, no punctuation) so that "Kervella", "KERVELLA", "Ker vella",
"K e r v e l l a", "Kerv3lla", "Kervela", "Kervellla" and "SDK" all name *Serres de Kervella*. A
word that is everyday vocabulary (a word of a French dictionary, of the List of Waste, or of
privacy/data's list: "serres", "chaleur", "urbaine"…) does not name anyone on its own, so it is
never matched alone; the whole name is ("Chaleur Urbaine"), and so are the name's distinctive words
and their near misses and sound-alikes ("Mardik" for "Mardyck").

People's names are found by their form: a civility ("M. Dupont", "Mme Le Gall"), initials before a
capitalised surname ("Y. Le Gall", "J.-P. Martin"), or a common first name before one ("Jean
Dupont"). A French named-entity model was measured against these rules on the corpus of
tests/data (bench/scrub_bench.py): see the README for why it is not used.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rapidfuzz.distance import DamerauLevenshtein
from spellchecker import SpellChecker

from core.reference.loader import read_csv
from core.text import fold

DATA = Path(__file__).resolve().parent / "data"

# A distinctive word must be this long to be matched on its own; shorter words ("Axa") only match
# as a whole term, exactly.
_WORD_MIN_LENGTH = 4
# Near misses: one edit (a typo, a doubled or dropped letter, two letters swapped) from 5 letters,
# two from 9. A four-letter word matches exactly only: one edit from "Axel" is half of French.
_ONE_EDIT_FROM, _TWO_EDITS_FROM = 5, 9
# Acronyms of three letters or more match as tokens ("PDC", "P.D.C."); two-letter ones are too
# common ("PC", "SA") to refuse a text for.
_ACRONYM_MIN_LENGTH = 3
# Digits read as letters inside a word: "Kerv3lla", "Dun0r", "V4ldune", "1ndustr1e".
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b"})
_LEET_ONE_AS_L = str.maketrans({"1": "l"})
# Small words left out of initials: "Papeterie du Canal" is "PC" or "PDC".
_LINKS = frozenset({"de", "du", "des", "la", "le", "les", "l", "d", "et", "en", "sur", "sous"})


def _word_list(name: str) -> frozenset[str]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@lru_cache
def common_words() -> frozenset[str]:
    """Folded words that name nobody on their own: the words of a French dictionary
    (pyspellchecker's frequency list, 140,000 words, in which proper nouns such as "Dunkerque",
    "Dupont" or "Kervella" are not), the domain's list, the List of Waste's words, and first names
    (a contact's surname is what names them). Built once per process (about a second)."""
    words = {fold(word) for word in SpellChecker(language="fr").word_frequency.dictionary}
    words |= _word_list("common_words_fr.txt") | first_names()
    for row in read_csv("list_of_waste.csv"):
        words.update(fold(row["description_fr"]).split())
        words.update(fold(row["description_en"]).split())
    return frozenset(words)


@lru_cache
def first_names() -> frozenset[str]:
    return _word_list("first_names_fr.txt")


# --- the company's names -------------------------------------------------------------------------


@dataclass(frozen=True)
class CompanyNames:
    """What of a company's names is matched in its public text (see the module's docstring)."""

    phrases: tuple[tuple[str, ...], ...]  # whole terms, folded words
    words: frozenset[str]  # distinctive words
    acronyms: frozenset[str]


def company_names(terms: Iterable[str]) -> CompanyNames:
    return _company_names(tuple(terms))


@lru_cache(maxsize=1024)
def _company_names(terms: tuple[str, ...]) -> CompanyNames:
    """Cached per list of names: an import checks many rows of each company."""
    phrases: set[tuple[str, ...]] = set()
    words: set[str] = set()
    acronyms: set[str] = set()
    common = common_words()
    for term in terms:
        folded = fold(term or "").split()
        if not folded or len("".join(folded)) < 3:
            continue
        # "Chaleur Urbaine" names *Chaleur Urbaine SA* as well as the whole legal name does; but a
        # site called "Serres" names nothing more than the word does.
        bare = [w for w in folded if w not in _LEGAL_FORMS] or folded
        if len(bare) > 1 or bare[0] not in common:
            phrases.update({tuple(folded), tuple(bare)})
        words.update(w for w in folded if len(w) >= _WORD_MIN_LENGTH and w not in common)
        if len(folded) > 1:
            legal = [w for w in folded if w not in _LEGAL_FORMS]
            for initials in (
                "".join(w[0] for w in legal if w not in _LINKS),
                "".join(w[0] for w in legal),
            ):
                if len(initials) >= _ACRONYM_MIN_LENGTH:
                    acronyms.add(initials)
    return CompanyNames(tuple(sorted(phrases)), frozenset(words), frozenset(acronyms))


_LEGAL_FORMS = frozenset(
    {"sa", "sas", "sasu", "sarl", "sarlu", "eurl", "snc", "sca", "scop", "scic", "gie", "sem"}
)


@dataclass(frozen=True)
class Token:
    text: str  # folded
    start: int  # in the text given to the matcher
    end: int


_TOKEN = re.compile(r"[^\W_]+")


def tokens(text: str) -> list[Token]:
    """Folded word tokens of ``text`` with their spans ("Kerv3lla" is one token)."""
    found = []
    for m in _TOKEN.finditer(text):
        folded = fold(m.group()).replace(" ", "")
        if folded:
            found.append(Token(folded, m.start(), m.end()))
    return found


def _readings(token: str) -> set[str]:
    """The token, and its leetspeak readings when it mixes letters and digits."""
    readings = {token}
    if not token.isalpha() and not token.isdigit():
        readings.add(token.translate(_LEET))
        readings.add(token.translate(_LEET_ONE_AS_L).translate(_LEET))
    return readings


# French spellings that sound alike: "Mardik" for "Mardyck", "Dunkerke" for "Dunkerque".
_SOUNDS = (
    (re.compile(r"([a-z])\1+"), r"\1"),
    (re.compile(r"ck|qu|q|c(?=[aour])|c$"), "k"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"y"), "i"),
    (re.compile(r"(?<=[^cs])h|^h"), ""),
    (re.compile(r"e?[stdx]?$"), ""),
)


def sound(word: str) -> str:
    for pattern, replacement in _SOUNDS:
        word = pattern.sub(replacement, word)
    return word


def _near(candidate: str, word: str, *, inside: bool) -> bool:
    if inside and len(word) >= _ONE_EDIT_FROM and word in candidate:
        # Inside a longer word too: "Kervellagaz", "exKervella".
        return True
    if abs(len(candidate) - len(word)) > 2:
        return False
    if len(word) > _ONE_EDIT_FROM and sound(candidate) == sound(word):
        return True
    allowed = 2 if len(word) >= _TWO_EDITS_FROM else 1 if len(word) >= _ONE_EDIT_FROM else 0
    if allowed == 0 or abs(len(candidate) - len(word)) > allowed:
        return False
    return DamerauLevenshtein.distance(candidate, word, score_cutoff=allowed) <= allowed


def _candidates(toks: list[Token]) -> Iterator[tuple[str, int, int, bool]]:
    """What may spell a name: each token; each run of two to four adjacent tokens glued ("Ker
    vella"); each run of single letters glued ("K e r v e l l a", "P.D.C."). As (folded text, first
    and last token, whether near misses count): a glued run is matched with near misses only when
    each piece is a real fragment, so that "du Nord" is not one edit from "Dunor", nor "Mardyck à"
    from "Mardyck"."""
    for i in range(len(toks)):
        yield toks[i].text, i, i, True
        glued, fragments = toks[i].text, _is_fragment(toks[i].text)
        for j in range(i + 1, min(i + 4, len(toks))):
            if toks[j].text.isdigit() or toks[j - 1].text.isdigit():
                break
            glued += toks[j].text
            fragments = fragments and _is_fragment(toks[j].text)
            yield glued, i, j, fragments
    i = 0
    while i < len(toks):
        j = i
        while j < len(toks) and len(toks[j].text) == 1:
            j += 1
        if j - i >= 3:
            yield "".join(t.text for t in toks[i:j]), i, j - 1, False
        i = max(j, i + 1)


def _is_fragment(piece: str) -> bool:
    return len(piece) >= 2 and piece not in _LINKS and piece not in common_words()


def company_name_spans(text: str, names: CompanyNames) -> list[tuple[int, int]]:
    """Spans of ``text`` naming the company: a whole term, a distinctive word or a near miss of
    one, or its initials."""
    toks = tokens(text)
    spans: list[tuple[int, int]] = []
    folded = [t.text for t in toks]
    for phrase in names.phrases:
        n = len(phrase)
        joined = "".join(phrase)
        for i in range(len(toks)):
            # Whole words in a row, or glued together in fewer tokens ("PapeterieDuCanal").
            if tuple(folded[i : i + n]) == phrase:
                spans.append((toks[i].start, toks[i + n - 1].end))
                continue
            glued = ""
            for j in range(i, min(i + n, len(toks))):
                glued += folded[j]
                if glued == joined:
                    spans.append((toks[i].start, toks[j].end))
                    break
                if not joined.startswith(glued):
                    break
    if names.words or names.acronyms:
        for candidate, i, j, fuzzy in _candidates(toks):
            # Letters spelt one by one run the words together ("C i m e n t e r i e H a u t
            # p o n t"): a distinctive word anywhere in the run names the company.
            spelt = j - i >= 2 and all(len(toks[k].text) == 1 for k in range(i, j + 1))
            for reading in _readings(candidate):
                # A near miss that is itself a word ("comme" one edit from "Colme") is that word.
                near = fuzzy and reading not in common_words()
                if reading in names.acronyms or any(
                    reading == w
                    or (near and _near(reading, w, inside=i == j))
                    or (spelt and w in reading)
                    for w in names.words
                ):
                    spans.append((toks[i].start, toks[j].end))
                    break
    return spans


# --- people's names ------------------------------------------------------------------------------

_UPPER = "A-ZÀ-ÖØ-Þ"
_LOWER = "a-zß-öø-ÿ"
# A surname: "Dupont", "DUPONT", "Le Gall", "de la Tour", "Martin-Durand", "D'Armor".
_SURNAME = (
    rf"(?:(?:[Ll]e|[Ll]a|[Dd]e(?: [Ll]a)?|[Dd]u|[Dd]es|[Vv]an|[Vv]on|[Dd]i|[Dd]a|[Dd]'|[Ll]')\s?)?"
    rf"[{_UPPER}](?:[{_LOWER}]+|[{_UPPER}]+)(?:-[{_UPPER}][{_LOWER}]+)?"
)
_CIVILITY = re.compile(
    r"(?<![\w.])(?:M\.|MM\.|Mr\.?|Mrs\.?|Ms\.?|Mme\.?|Mmes\.?|Mlle\.?|Me|Dr\.?|Pr\.?|Monsieur|"
    r"Madame|Mademoiselle|Ma[iî]tre|Docteur|Professeur)"
    rf"\s+(?:[{_UPPER}]\.\s?)*{_SURNAME}"
)
_INITIALS = re.compile(rf"(?<![\w.])(?:[{_UPPER}]\.\s?-?){{1,3}}\s?{_SURNAME}(?!\.\w)")
_CAPITALISED = re.compile(rf"[{_UPPER}][{_LOWER}]+(?:-[{_UPPER}][{_LOWER}]+)?")
_NEXT_SURNAME = re.compile(rf"\s+({_SURNAME})")


def person_spans(text: str) -> list[tuple[int, int]]:
    spans = [(m.start(), m.end()) for m in _CIVILITY.finditer(text)]
    for m in _INITIALS.finditer(text):
        surname = fold(m.group().split(".")[-1]).split()
        # "N. B." or "E. Coli" are no one: the surname must not be everyday vocabulary.
        if surname and not all(w in common_words() for w in surname):
            spans.append((m.start(), m.end()))
    for m in _CAPITALISED.finditer(text):
        if not all(part in first_names() for part in fold(m.group()).split()):
            continue
        after = _NEXT_SURNAME.match(text, m.end())
        if after is None:
            continue
        surname = [w for w in fold(after.group(1)).split() if w not in _LINKS]
        if surname and not all(w in common_words() for w in surname):
            spans.append((m.start(), after.end()))
    return spans
