"""The substitution knowledge base: which residue usually replaces which virgin material in which
receiving sector, with the words buyers use for that need, and the default economics, emission
factors and transport ranges of a match. All of it ships as data files in ``data/`` (see
data/SOURCES.md), loaded once and validated against the reference files of ``core/reference``
(List of Waste, NAF rév. 2, R/D operations, end-of-waste acts): a bad file raises
KnowledgeBaseError naming every bad line, it is never half-loaded.

Words are compared folded and stemmed (``words_of``): accents and case folded (core.text.fold),
a final s or x stripped (``-eaux`` → ``-eau``, ``-aux`` → ``-al``, ``-ies`` → ``-y``), a final e
stripped, and function words of French and English dropped, so « Ajouts cimentaires » and
"ajout cimentaire" are the same two words, and "raw material for bricks" is {raw, brick}.

Factor keys (``factor``; units in the files):
- ``cost.transport.{road,rail,barge}`` €/t·km, ``cost.transport.handling`` €/t,
  ``cost.pipe.{heat,water,gas}`` €/m, ``cost.disposal.<route>`` €/t (routes: ``disposal_route``),
  ``price.virgin.<slug>`` € per t, MWh or m³ (``virgin_slug``), ``ratio.<archetype id>`` t of
  virgin material replaced per t of residue (``substitution_ratio``, default 1),
  ``convert.*`` physical conversions;
- ``co2e.transport.{road,rail,barge}`` kgCO2e/t·km, ``co2e.disposal.<route>`` kgCO2e/t,
  ``co2e.virgin.<slug>`` kgCO2e per t, MWh or m³, ``co2e.heat.natural_gas_boiler`` and
  ``co2e.electricity.france`` kgCO2e/MWh.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from core.reference.loader import read_csv
from core.reference.sectors import sectors
from core.text import fold

DATA = Path(__file__).resolve().parent / "data"

KINDS = ("material", "heat", "water", "gas")
ROUTES = ("waste", "by-product", "end-of-waste", "outside-waste-law")
COLUMNS = (
    "id",
    "kind",
    "residue_low_codes",
    "residue_fr",
    "residue_en",
    "receiving_nace",
    "use_fr",
    "use_en",
    "words_fr",
    "words_en",
    "virgin_material_fr",
    "virgin_material_en",
    "recovery_operation",
    "regulatory_route",
    "end_of_waste_act",
    "source",
)
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

# Words that name no material and no use: function words of both languages, and what every
# request says ("we need a raw material...", "déchets", "sous-produit").
STOPWORDS = frozenset(
    fold(
        """
        a à au aux avec ce ces cet cette d dans de des du en est et il l la le les leur leurs
        ma mes mon nos notre nous on ou où par pas pour que qui sa sans se ses son sont sur
        ta un une vos votre y type types tout tous toute toutes autre autres non
        matière matières première premières produit produits déchet déchets résidu résidus
        sous co bio besoin besoins recherche recherchons cherche cherchons souhaite souhaitons
        achat achetons utilisation usage utilisé utilisée utilisés utilisées issu issus issue
        issues provenant provenance comme tonne tonnes an année par mois semaine jour
        the of and or for to in on at by with from as is are be been this that these those
        our we us need needs needed looking want wants seek seeking use used using uses
        material materials product products waste wastes residue residues byproduct
        other than mentioned containing contain not otherwise specified per year tonnes tonne
        which its their it into such e g eg ie etc
        """
    ).split()
)


class KnowledgeBaseError(ValueError):
    """A data file of the knowledge base is malformed; the message names every bad line."""


@dataclass(frozen=True)
class Archetype:
    id: str
    kind: str
    residue_low_codes: tuple[str, ...]
    residue_fr: str
    residue_en: str
    receiving_nace: tuple[str, ...]
    use_fr: str
    use_en: str
    words_fr: tuple[str, ...]
    words_en: tuple[str, ...]
    virgin_material_fr: str
    virgin_material_en: str
    recovery_operation: str
    regulatory_route: str
    end_of_waste_act: str | None
    source: str


@dataclass(frozen=True)
class Factor:
    key: str
    value: float
    unit: str
    source: str


# ------------------------------------------------------------------------------------ words


def _stem(token: str) -> str:
    if token.endswith("eaux"):
        token = token[:-1]
    elif token.endswith("aux") and len(token) > 4:
        token = token[:-3] + "al"
    elif token.endswith("ies") and len(token) > 4:
        token = token[:-3] + "y"
    elif token.endswith(("shes", "ches", "sses", "xes")) and len(token) > 4:
        token = token[:-2]
    elif token.endswith(("s", "x")) and not token.endswith("ss") and len(token) > 3:
        token = token[:-1]
    for _ in range(2):
        if token.endswith("e") and len(token) >= 4:
            token = token[:-1]
    if token.endswith("ell"):
        token = token[:-1]
    return token


@lru_cache(maxsize=65_536)
def words_of(text: str) -> frozenset[str]:
    """The folded, stemmed words of a text that may name a material or a use."""
    found = set()
    for token in fold(text).split():
        if len(token) < 2 or token.isdigit() or token in STOPWORDS:
            continue
        stem = _stem(token)
        if stem and stem not in STOPWORDS:
            found.add(stem)
    return frozenset(found)


def _phrases(text: str) -> list[str]:
    return [p.strip() for p in text.split(";") if p.strip()]


# ------------------------------------------------------------------------------------ files


def _rows(name: str) -> tuple[list[str], list[dict[str, str]]]:
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


@lru_cache(maxsize=1)
def _references() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    low = frozenset(row["code_compact"] for row in read_csv("list_of_waste.csv"))
    operations = frozenset(row["code"] for row in read_csv("recovery_disposal_operations.csv"))
    acts = frozenset(row["reference"] for row in read_csv("end_of_waste_acts.csv"))
    return low, operations, acts


def _check_archetype(row: dict[str, str]) -> list[str]:
    low, operations, acts = _references()
    naf = sectors()
    problems = []
    if not _SLUG.match(row["id"]):
        problems.append(f"id {row['id']!r} is not a slug")
    kind = row["kind"]
    if kind not in KINDS:
        problems.append(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    codes = row["residue_low_codes"].split()
    if kind == "material" and not codes:
        problems.append("a material archetype needs residue_low_codes")
    if kind != "material" and codes:
        problems.append(f"a {kind} archetype has no List of Waste code")
    problems += [
        f"residue code {c!r} is not in the List of Waste (2, 4 or 6 digits)"
        for c in codes
        if c not in low
    ]
    nace = row["receiving_nace"].split()
    if not nace:
        problems.append("receiving_nace is empty")
    problems += [f"NACE code {c!r} is not in NAF rév. 2" for c in nace if c not in naf]
    optional = ("residue_low_codes", "recovery_operation", "end_of_waste_act")
    problems += [
        f"{column} is empty"
        for column in COLUMNS
        if column not in optional and not row[column].strip()
    ]
    operation, route, act = (
        row["recovery_operation"],
        row["regulatory_route"],
        row["end_of_waste_act"],
    )
    if route not in ROUTES:
        problems.append(f"regulatory_route {route!r} is not one of {', '.join(ROUTES)}")
    if kind == "material":
        if not operation.startswith("R") or operation not in operations:
            problems.append(f"recovery_operation {operation!r} is not a recovery (R) operation")
        if route == "outside-waste-law":
            problems.append("a material archetype is under waste law")
    else:
        if operation:
            problems.append(f"a {kind} archetype has no recovery operation")
        if route != "outside-waste-law":
            problems.append(f"a {kind} archetype is outside waste law")
    if act and act not in acts:
        problems.append(f"end_of_waste_act {act!r} is not in the reference list of acts")
    if act and route != "end-of-waste":
        problems.append("an end-of-waste act needs the end-of-waste route")
    return problems


def _archetype(row: dict[str, str]) -> Archetype:
    return Archetype(
        id=row["id"],
        kind=row["kind"],
        residue_low_codes=tuple(row["residue_low_codes"].split()),
        residue_fr=row["residue_fr"].strip(),
        residue_en=row["residue_en"].strip(),
        receiving_nace=tuple(row["receiving_nace"].split()),
        use_fr=row["use_fr"].strip(),
        use_en=row["use_en"].strip(),
        words_fr=tuple(_phrases(row["words_fr"])),
        words_en=tuple(_phrases(row["words_en"])),
        virgin_material_fr=row["virgin_material_fr"].strip(),
        virgin_material_en=row["virgin_material_en"].strip(),
        recovery_operation=row["recovery_operation"].strip(),
        regulatory_route=row["regulatory_route"],
        end_of_waste_act=row["end_of_waste_act"].strip() or None,
        source=row["source"].strip(),
    )


def _fail(name: str, problems: Iterable[str]) -> None:
    listed = list(problems)
    if listed:
        raise KnowledgeBaseError(f"{name}: " + "; ".join(listed))


@lru_cache(maxsize=1)
def archetypes() -> tuple[Archetype, ...]:
    """Every archetype of data/substitutions.csv, in file order, validated."""
    columns, rows = _rows("substitutions.csv")
    if tuple(columns) != COLUMNS:
        raise KnowledgeBaseError(f"substitutions.csv: columns must be {', '.join(COLUMNS)}")
    problems, seen = [], set()
    for line, row in enumerate(rows, start=2):
        if row["id"] in seen:
            problems.append(f"line {line}: id {row['id']!r} is repeated")
        seen.add(row["id"])
        problems += [f"line {line}: {p}" for p in _check_archetype(row)]
    _fail("substitutions.csv", problems)
    found = tuple(_archetype(row) for row in rows)
    missing = [
        f"{a.id}: no {prefix}.virgin.{virgin_slug(a)}"
        for a in found
        for prefix in ("price", "co2e")
        if f"{prefix}.virgin.{virgin_slug(a)}" not in factors()
    ]
    _fail("substitutions.csv (virgin materials without a price or emission factor)", missing)
    return found


@lru_cache(maxsize=1)
def factors() -> Mapping[str, Factor]:
    """Every value of data/economics.csv and data/emission_factors.csv, by key."""
    found: dict[str, Factor] = {}
    problems = []
    for name in ("economics.csv", "emission_factors.csv"):
        columns, rows = _rows(name)
        if columns != ["key", "value", "unit", "source"]:
            raise KnowledgeBaseError(f"{name}: columns must be key, value, unit, source")
        for line, row in enumerate(rows, start=2):
            key = row["key"].strip()
            try:
                value = float(row["value"])
            except ValueError:
                problems.append(f"{name} line {line}: value {row['value']!r} is not a number")
                continue
            if not math.isfinite(value) or value < 0:
                problems.append(f"{name} line {line}: value {value} is not a finite number >= 0")
            if key in found:
                problems.append(f"{name} line {line}: key {key!r} is repeated")
            if not row["unit"].strip() or not row["source"].strip():
                problems.append(f"{name} line {line}: unit and source are required")
            found[key] = Factor(key, value, row["unit"].strip(), row["source"].strip())
    _fail("factors", problems)
    return found


def factor(key: str) -> float:
    """A value of economics.csv or emission_factors.csv (keys: see the module's doc)."""
    try:
        return factors()[key].value
    except KeyError:
        raise KeyError(f"no factor {key!r} in the knowledge base") from None


def virgin_slug(archetype: Archetype) -> str:
    """The key part naming an archetype's virgin material (``natural gypsum`` → ``natural_gypsum``)
    in ``price.virgin.<slug>`` and ``co2e.virgin.<slug>``."""
    return _slug(archetype.virgin_material_en)


@lru_cache(maxsize=1_024)
def _slug(words: str) -> str:
    # Once per material: a territory's recompute asks it of every match it stores.
    return "_".join(fold(words).split())


def substitution_ratio(archetype: Archetype) -> float:
    """Tonnes of virgin material one tonne of the residue replaces (1 unless the file says)."""
    entry = factors().get(f"ratio.{archetype.id}")
    return entry.value if entry else 1.0


_INERT = ("1701", "1705", "101208", "101314", "200202")
_ORGANIC = ("02", "0303", "1906", "1908", "200108", "200201", "200302", "200125")


def disposal_route(operation: str | None, hazardous: bool, low_code: str | None = None) -> str:
    """The route whose default cost (``cost.disposal.<route>``) and emissions
    (``co2e.disposal.<route>``) stand for an offer's current R/D operation; an unknown
    operation counts as landfill."""
    code = (operation or "").strip().upper()
    compact = (low_code or "").replace(" ", "")
    if code == "R 1":
        return "energy_recovery"
    if code == "R 10":
        return "land_spreading"
    if code.startswith("R "):
        return "recovery"
    if code == "D 10":
        return "incineration_hazardous" if hazardous else "incineration"
    if hazardous:
        return "landfill_hazardous"
    if compact.startswith(_INERT):
        return "landfill_inert"
    if compact.startswith(_ORGANIC):
        return "landfill_nonhazardous_organic"
    return "landfill_nonhazardous"


# ------------------------------------------------------------------------ transport ranges


@dataclass(frozen=True)
class _Range:
    kind: str
    material_class: str
    max_km: float
    low_codes: tuple[str, ...]


@lru_cache(maxsize=1)
def _ranges() -> tuple[dict[str, float], dict[str, float]]:
    """(default max km per kind, max km per List of Waste prefix for materials)."""
    columns, rows = _rows("transport_ranges.csv")
    if columns != ["kind", "material_class", "max_km", "low_codes", "source"]:
        raise KnowledgeBaseError(
            "transport_ranges.csv: columns must be kind, material_class, max_km, low_codes, source"
        )
    low = _references()[0]
    defaults: dict[str, float] = {}
    prefixes: dict[str, float] = {}
    problems = []
    for line, row in enumerate(rows, start=2):
        kind, codes = row["kind"], row["low_codes"].split()
        try:
            km = float(row["max_km"])
        except ValueError:
            problems.append(f"line {line}: max_km {row['max_km']!r} is not a number")
            continue
        if kind not in KINDS or km <= 0 or not row["source"].strip():
            problems.append(f"line {line}: needs a known kind, max_km > 0 and a source")
        problems += [
            f"line {line}: {c!r} is not a List of Waste code" for c in codes if c not in low
        ]
        if codes and kind != "material":
            problems.append(f"line {line}: only materials have List of Waste codes")
        for code in codes:
            if code in prefixes:
                problems.append(f"line {line}: {code!r} is in two classes")
            prefixes[code] = km
        if not codes:
            if kind in defaults:
                problems.append(f"line {line}: a second default for {kind}")
            defaults[kind] = km
    problems += [f"no default range for {kind}" for kind in KINDS if kind not in defaults]
    _fail("transport_ranges.csv", problems)
    return defaults, prefixes


def max_distance_km(kind: str, low_code: str | None) -> float:
    """The farthest a flow of this kind and List of Waste code usually travels: the class of the
    longest matching code prefix, else the kind's default."""
    defaults, prefixes = _ranges()
    if kind not in defaults:
        raise ValueError(f"unknown kind {kind!r}")
    compact = (low_code or "").replace(" ", "").rstrip("*")
    if kind == "material":
        for length in (6, 4, 2):
            if len(compact) >= length and compact[:length] in prefixes:
                return prefixes[compact[:length]]
    return defaults[kind]


# ------------------------------------------------------------------------------- vocabulary

RESIDUE_WEIGHT = 1.0
USE_WEIGHT = 0.7
LOW_WEIGHT = 0.6


@dataclass(frozen=True)
class Phrase:
    """One phrase of the vocabulary: an archetype's residue name or a use word (``owner`` is the
    archetype's index), or the label of a List of Waste entry (``owner`` = -1, ``code`` set)."""

    text: str
    words: frozenset[str]
    owner: int
    residue: bool
    code: str | None = None


@dataclass(frozen=True)
class Vocabulary:
    phrases: tuple[Phrase, ...]
    idf: Mapping[str, float]
    by_word: Mapping[str, tuple[int, ...]]

    def weight(self, words: Iterable[str]) -> float:
        return sum(self.idf.get(w, 1.0) for w in words)


def _archetype_phrases(index: int, archetype: Archetype) -> list[Phrase]:
    residue = _phrases(archetype.residue_fr) + _phrases(archetype.residue_en)
    uses = [
        *archetype.words_fr,
        *archetype.words_en,
        archetype.virgin_material_fr,
        archetype.virgin_material_en,
    ]
    found = [Phrase(t, _essential(t), index, True) for t in residue]
    found += [Phrase(t, _essential(t), index, False) for t in uses]
    return [p for p in found if p.words]


def _essential(phrase: str) -> frozenset[str]:
    """A phrase's words but those in parentheses, which qualify it: « cendres volantes (de
    charbon) » is named by "cendres volantes"."""
    return words_of(re.sub(r"\([^)]*\)", " ", phrase)) or words_of(phrase)


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The phrases of the knowledge base and of the List of Waste labels, indexed by word, with
    each word's rarity (inverse document frequency over archetypes and List of Waste entries)."""
    phrases: list[Phrase] = []
    for index, archetype in enumerate(archetypes()):
        phrases += _archetype_phrases(index, archetype)
    for row in read_csv("list_of_waste.csv"):
        if row["level"] == "entry":
            for label in (row["description_fr"], row["description_en"]):
                words = words_of(label)
                if words:
                    phrases.append(Phrase(label, words, -1, True, row["code_compact"]))
    documents: dict[tuple[int, str | None], set[str]] = {}
    for phrase in phrases:
        documents.setdefault((phrase.owner, phrase.code), set()).update(phrase.words)
    counts: dict[str, int] = {}
    for document in documents.values():
        for word in document:
            counts[word] = counts.get(word, 0) + 1
    total = len(documents)
    idf = {word: math.log(1 + total / count) for word, count in counts.items()}
    by_word: dict[str, list[int]] = {}
    for number, phrase in enumerate(phrases):
        for word in phrase.words:
            by_word.setdefault(word, []).append(number)
    return Vocabulary(tuple(phrases), idf, {w: tuple(n) for w, n in by_word.items()})


def _touched(words: frozenset[str]) -> set[int]:
    by_word = vocabulary().by_word
    return {number for word in words for number in by_word.get(word, ())}


@dataclass(frozen=True)
class Naming:
    """How strongly a text names an archetype: ``strength`` in (0, 1] (1 = one of its phrases is
    wholly in the text), through ``phrase``; ``residue`` when the phrase names the residue."""

    strength: float
    phrase: str
    residue: bool


@lru_cache(maxsize=65_536)
def named_archetypes(words: frozenset[str]) -> Mapping[int, Naming]:
    """The archetypes (by index) whose use words, virgin material or residue names a text's
    words name. A whole phrase is strength 1. Most of a phrase of several words (by rarity, at
    least half) is a partial naming, counting only the words no whole phrase of the text
    explains: "fish meal" is a whole phrase of fish by-products, so it does not half-name the
    "raw meal" of cement."""
    vocab = vocabulary()
    touched = [vocab.phrases[n] for n in _touched(words)]
    touched = [p for p in touched if p.owner >= 0]
    whole = [p for p in touched if p.words <= words]
    explained: frozenset[str] = frozenset().union(*(p.words for p in whole if len(p.words) > 1))
    best: dict[int, Naming] = {}

    def keep(phrase: Phrase, strength: float) -> None:
        known = best.get(phrase.owner)
        if known is None or (strength, not phrase.residue) > (known.strength, not known.residue):
            best[phrase.owner] = Naming(strength, phrase.text, phrase.residue)

    for phrase in whole:
        keep(phrase, 1.0)
    for phrase in touched:
        if len(phrase.words) < 2 or phrase.words <= words:
            continue
        fresh = (phrase.words & words) - explained
        covered = vocab.weight(fresh) / vocab.weight(phrase.words)
        if fresh and covered >= 0.5:
            keep(phrase, 0.8 * covered)
    return MappingProxyType(best)  # cached: shared by every caller, read only


def named_residues(words: frozenset[str], share: float = 1.0) -> frozenset[int]:
    """The archetypes (by index) one of whose residue names a text's words hold, wholly or at
    least for ``share`` of it (by rarity)."""
    vocab = vocabulary()
    found = set()
    for number in _touched(words):
        phrase = vocab.phrases[number]
        if phrase.owner < 0 or not phrase.residue:
            continue
        shared = phrase.words & words
        if shared == phrase.words or vocab.weight(shared) >= share * vocab.weight(phrase.words):
            found.add(phrase.owner)
    return frozenset(found)


@lru_cache(maxsize=4_096)
def codes_for_words(text: str) -> list[tuple[str, float]]:
    """List of Waste codes (6 digits) that practitioners' words name, best first, each with a
    weight in (0, 1]: through the knowledge base's residue names (strongest), its use and
    virgin-material words, then the official labels. « palettes » → 150103, « gypse de
    désulfuration » → 100105, "fly ash" → 100102."""
    words = words_of(text)
    if not words:
        return []
    vocab = vocabulary()
    asked = vocab.weight(words)
    scores: dict[str, tuple[float, int]] = {}
    for number in _touched(words):
        phrase = vocab.phrases[number]
        shared = phrase.words & words
        covered = vocab.weight(shared)
        score = 0.7 * covered / asked + 0.3 * covered / vocab.weight(phrase.words)
        if phrase.owner < 0:
            score *= LOW_WEIGHT
            codes: tuple[str, ...] = (phrase.code or "",)
        else:
            score *= RESIDUE_WEIGHT if phrase.residue else USE_WEIGHT
            codes = tuple(c for c in archetypes()[phrase.owner].residue_low_codes if len(c) == 6)
        for order, code in enumerate(codes):
            known = scores.get(code)
            if known is None or score > known[0]:
                scores[code] = (score, order)
    ranked = sorted(scores.items(), key=lambda item: (-item[1][0], item[1][1], item[0]))
    return [(code, round(min(1.0, score), 4)) for code, (score, _) in ranked[:50] if score > 0]


# ------------------------------------------------------------------------------- indexes


@lru_cache(maxsize=2)
def _index(field: str) -> Mapping[str, tuple[int, ...]]:
    found: dict[str, list[int]] = {}
    for index, archetype in enumerate(archetypes()):
        for code in getattr(archetype, field):
            found.setdefault(code, []).append(index)
    return {code: tuple(indexes) for code, indexes in found.items()}


def archetypes_by_code() -> Mapping[str, tuple[int, ...]]:
    """Archetype indexes by the residue code they list (6-digit, 4-digit or 2-digit)."""
    return _index("residue_low_codes")


def archetypes_for_code(low_code: str) -> tuple[int, ...]:
    """Indexes of the archetypes whose residue covers a List of Waste code (the code itself, its
    subchapter or its chapter)."""
    compact = low_code.replace(" ", "").rstrip("*")
    index = archetypes_by_code()
    found: list[int] = []
    for length in (6, 4, 2):
        if len(compact) >= length:
            found += [i for i in index.get(compact[:length], ()) if i not in found]
    return tuple(found)


def archetypes_by_sector() -> Mapping[str, tuple[int, ...]]:
    """Archetype indexes by receiving NACE code (division, group or class)."""
    return _index("receiving_nace")


def sector_prefixes(nace: str | None) -> tuple[str, ...]:
    """A sector code and the codes above it, most precise first: ``23.62Z`` → ``23.62Z``,
    ``23.62``, ``23.6``, ``23``. Accepts ``2362Z`` and lower case."""
    raw = re.sub(r"[\s.]", "", (nace or "").upper())
    if len(raw) < 2 or not raw[:2].isdigit():
        return ()
    code = raw[:2] if len(raw) == 2 else f"{raw[:2]}.{raw[2:]}"
    found = [code]
    while len(code) > 2:
        code = code[:-1].rstrip(".")
        found.append(code)
    return tuple(found)


def archetypes_for_sector(nace: str | None) -> Mapping[int, str]:
    """The archetypes whose receiving sectors hold a company's sector, each with the receiving
    code that matched."""
    index = archetypes_by_sector()
    found: dict[int, str] = {}
    for prefix in sector_prefixes(nace):
        for i in index.get(prefix, ()):
            found.setdefault(i, prefix)
    return found
