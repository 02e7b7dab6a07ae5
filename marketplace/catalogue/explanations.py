"""Plain words beside every generalised value a card shows: why a listing shows a subchapter, a
département, a quantity band, « présent » or a distance band instead of the exact value.

One source for the pages and the alert e-mails, whose gettext catalogues are separate: like the
family labels (privacy/generalisation.py), each text is kept here in French and in English. Each
says what the code does (privacy/generalisation.py, catalogue/pools.py, privacy/places.py,
introductions/views.py), with k read from the settings; tests/test_explanations.py checks that
every level, class and band the generaliser can produce has its words in both languages.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from core.settings import get_settings
from marketplace.catalogue.cards import PRESENT_FR
from privacy.generalisation import (
    DEFAULT_DOMINANCE,
    DISTANCE_BANDS,
    FARTHEST_BAND,
    QUANTITY_BOUNDS,
    TEMPERATURE_LABELS,
    UNIT_LABELS,
    LocationLevel,
    MaterialLevel,
    quantity_class,
)

# The page that explains all of it at more length (web/pages_help.py), and its sections.
HELP_PATH = "/aide/anonymat"
HELP_SECTIONS = ("materiau", "emplacement", "quantite", "distance", "k-anonymat")


@dataclass(frozen=True)
class Words:
    """One explanation in both languages; ``%(k)s`` stands for the settings' k."""

    fr: str
    en: str

    def say(self, locale: str) -> str:
        text = self.fr if locale == "fr" else self.en
        return text % {"k": get_settings().k_anonymity, "share": round(DEFAULT_DOMINANCE * 100)}


@dataclass(frozen=True)
class Note:
    """An explanation as a page shows it: the words, and the glossary section they belong to."""

    text: str
    section: str

    @property
    def href(self) -> str:
        return f"{HELP_PATH}#{self.section}"


# Each level is where the ladder placed the listing: the finest step at which the listings
# grouped with it hold k legal units (counting those shown there lately); a coarser level says
# that the finer step did not gather k when it was placed, as a shown listing never becomes finer.
MATERIAL_LEVELS: dict[MaterialLevel, Words] = {
    MaterialLevel.CODE: Words(
        "Code exact de la Liste des déchets : au moins %(k)s entreprises distinctes (comptées "
        "par SIREN) sont, ou étaient il y a peu, montrées avec ce même code, la même mention "
        "dangereux ou non, dans la même zone.",
        "Exact List of Waste code: at least %(k)s distinct companies (counted by SIREN) are, or "
        "lately were, shown with this same code, the same hazardous flag, in the same area.",
    ),
    MaterialLevel.SUBCHAPTER: Words(
        "Sous-chapitre (4 premiers chiffres) : le code exact ne réunissait pas %(k)s entreprises "
        "dans la région ; le sous-chapitre est le niveau le plus précis qui en réunit assez.",
        "Subchapter (first 4 digits): the exact code did not gather %(k)s companies in the "
        "region; the subchapter is the finest level that gathers enough.",
    ),
    MaterialLevel.CHAPTER: Words(
        "Chapitre (2 premiers chiffres) : ni le code ni le sous-chapitre ne réunissaient %(k)s "
        "entreprises dans la région ; le chapitre en réunit assez.",
        "Chapter (first 2 digits): neither the code nor the subchapter gathered %(k)s companies "
        "in the region; the chapter gathers enough.",
    ),
    MaterialLevel.FAMILY: Words(
        "Chaleur, eau, gaz ou matière sans code de la Liste des déchets : seule la nature du "
        "flux est publiée.",
        "Heat, water, gas or a material without a List of Waste code: only the kind of flow is "
        "published.",
    ),
}
# A pooled offer's material level is the facilitator's choice when it is created.
POOLED_MATERIAL_LEVELS: dict[MaterialLevel, Words] = {
    MaterialLevel.CODE: Words(
        "Offre groupée : tous les flux réunis par l'animateur ont ce code.",
        "Pooled offer: every flow the facilitator gathered has this code.",
    ),
    MaterialLevel.SUBCHAPTER: Words(
        "Offre groupée : les flux réunis par l'animateur sont tous de ce sous-chapitre, leurs "
        "codes peuvent différer.",
        "Pooled offer: the flows the facilitator gathered all belong to this subchapter; their "
        "codes may differ.",
    ),
}

LOCATION_LEVELS: dict[LocationLevel, Words] = {
    LocationLevel.CELL: Words(
        "Le site est dans ce département, dans une maille hexagonale d'environ 36 km² où au "
        "moins %(k)s entreprises sont, ou étaient il y a peu, montrées avec une annonce "
        "semblable ; sa position exacte n'est jamais publiée.",
        "The site is in this département, in a hexagonal cell of about 36 km² where at least "
        "%(k)s companies are, or lately were, shown with a similar listing; its exact position "
        "is never published.",
    ),
    LocationLevel.DEPARTEMENT: Words(
        "Emplacement donné au département : la maille d'environ 36 km² autour du site ne "
        "réunissait pas %(k)s entreprises avec une annonce semblable (ou elle est pour plus de "
        "moitié hors du département : mer, frontière).",
        "Location given to the département: the cell of about 36 km² around the site did not "
        "gather %(k)s companies with a similar listing (or it lies more than half outside the "
        "département: sea, border).",
    ),
    LocationLevel.REGION: Words(
        "Emplacement donné à la région : le département ne réunissait pas %(k)s entreprises "
        "avec une annonce semblable.",
        "Location given to the region: the département did not gather %(k)s companies with a "
        "similar listing.",
    ),
}
POOLED_LOCATION = Words(
    "Offre groupée : zone choisie par l'animateur pour l'ensemble des flux réunis, venant d'au "
    "moins %(k)s entreprises.",
    "Pooled offer: area chosen by the facilitator for all the flows gathered, from at least "
    "%(k)s companies.",
)

QUANTITY_BAND = Words(
    "Tranche de la quantité annuelle (de dix en dix fois : moins de 10, 10 à 100, 100 à "
    "1 000…) ; la quantité exacte n'est donnée qu'après une mise en relation acceptée des deux "
    "côtés.",
    "Band of the yearly quantity (tenfold steps: under 10, 10 to 100, 100 to 1,000…); the "
    "exact quantity is given only after an introduction accepted by both sides.",
)
POOLED_QUANTITY_BAND = Words(
    "Tranche du total de l'offre groupée, chaque part comptée au milieu de sa propre tranche : "
    "le total ne révèle la quantité exacte d'aucune entreprise.",
    "Band of the pooled offer's total, each share counted at the middle of its own band: the "
    "total reveals no company's exact quantity.",
)
# « présent »: the quantity_band is None (catalogue/cards.py).
PRESENT_POOLED = Words(
    "« Présent » : une seule entreprise apporte plus de %(share)s %% de cette offre groupée "
    "(parts comptées au milieu de leur tranche) ; le total la désignerait, il est donc masqué. "
    "L'animateur connaît les quantités.",
    "“Present”: one company brings more than %(share)s%% of this pooled offer (shares counted "
    "at the middle of their band); the total would point to it, so it is hidden. The "
    "facilitator knows the quantities.",
)
PRESENT_UNPLACED = Words(
    "« Présent » : la tranche de quantité s'affiche dès que l'annonce figure au catalogue ; "
    "tant qu'elle n'y est pas (en attente, ou proposée par l'animateur seulement), elle n'en a "
    "pas.",
    "“Present”: the quantity band shows once the listing is in the catalogue; until then "
    "(waiting, or brokered by the facilitator only) it has none.",
)
TEMPERATURE = Words(
    "Tranche de température (moins de 40 °C, 40–90 °C, 90–150 °C, plus de 150 °C) : la "
    "température exacte n'est pas publiée.",
    "Temperature band (under 40 °C, 40–90 °C, 90–150 °C, over 150 °C): the exact temperature "
    "is not published.",
)
DISTANCE_FROM_OWN_SITE = Words(
    "Distance à vol d'oiseau depuis votre site jusqu'au point que publie l'annonce (centre de "
    "sa maille, ou point fixe de son département ou de sa région), jamais jusqu'au site "
    "lui-même ; donnée en tranche pour que personne ne retrouve un site en déplaçant les siens.",
    "Straight-line distance from your site to the point the listing publishes (the centre of "
    "its cell, or a fixed point of its département or region), never to the site itself; "
    "given as a band so that no one can find a site by moving their own.",
)
DISTANCE_TO_REQUESTER = Words(
    "Distance à vol d'oiseau entre le point publié de votre annonce et un point fixe de la "
    "région du demandeur, en tranche : ni son site ni son département ne sont donnés.",
    "Straight-line distance between your listing's published point and a fixed point of the "
    "requester's region, as a band: neither its site nor its département is given.",
)
REQUESTER_QUANTITY = Words(
    "Tranche de la quantité annuelle du flux du demandeur ; la quantité exacte est donnée après "
    "la révélation des identités.",
    "Band of the yearly quantity of the requester's flow; the exact quantity is given after "
    "the identities are revealed.",
)
REQUESTER_SECTOR = Words(
    "Division du secteur d'activité (2 chiffres NAF), affichée seulement si au moins %(k)s "
    "entreprises la partagent dans sa région et là où sont ses annonces ; sinon « — ».",
    "Sector division (2 NACE digits), shown only when at least %(k)s companies share it in its "
    "region and where its listings are; otherwise “—”.",
)

# Every distance band the server can show (privacy/generalisation.distance_band).
DISTANCE_LABELS: tuple[str, ...] = (*(label for _, label in DISTANCE_BANDS), FARTHEST_BAND)
QUANTITY_BANDS: tuple[int, ...] = tuple(range(len(QUANTITY_BOUNDS) + 1))


def material_note(level: MaterialLevel, locale: str, pooled: bool = False) -> Note:
    words = (POOLED_MATERIAL_LEVELS.get(level) if pooled else None) or MATERIAL_LEVELS[level]
    return Note(words.say(locale), "materiau")


def location_note(level: LocationLevel, locale: str, pooled: bool = False) -> Note:
    words = POOLED_LOCATION if pooled else LOCATION_LEVELS[level]
    return Note(words.say(locale), "emplacement")


def quantity_note(band: int | None, locale: str, pooled: bool = False) -> Note:
    """Why a quantity band (``band`` 0 to 5) or « présent » (None)."""
    if band is None:
        words = PRESENT_POOLED if pooled else PRESENT_UNPLACED
    elif band not in QUANTITY_BANDS:
        raise ValueError(f"not a quantity band: {band!r}")
    else:
        words = POOLED_QUANTITY_BAND if pooled else QUANTITY_BAND
    return Note(words.say(locale), "quantite")


@lru_cache
def _bands_by_label() -> dict[str, int]:
    """Every public quantity label, French and English, → its band (a handful per unit)."""
    samples = (0.0, *QUANTITY_BOUNDS)
    classes = [quantity_class("gas", q, base_unit=unit) for unit in UNIT_LABELS for q in samples]
    return {label: q.band for q in classes for label in (q.label, q.label_en)}


def quantity_label_note(label: str, locale: str, pooled: bool = False) -> Note:
    """quantity_note() for a card's quantity label: a band's, or « présent »."""
    if label == PRESENT_FR:
        return quantity_note(None, locale, pooled)
    band = _bands_by_label().get(label)
    if band is None:
        raise ValueError(f"not a quantity label: {label!r}")
    return quantity_note(band, locale, pooled)


def temperature_note(label: str, locale: str) -> Note:
    if label not in TEMPERATURE_LABELS:
        raise ValueError(f"not a temperature band: {label!r}")
    return Note(TEMPERATURE.say(locale), "quantite")


def distance_note(label: str, locale: str, to_requester: bool = False) -> Note:
    if label not in DISTANCE_LABELS:
        raise ValueError(f"not a distance band: {label!r}")
    words = DISTANCE_TO_REQUESTER if to_requester else DISTANCE_FROM_OWN_SITE
    return Note(words.say(locale), "distance")


def requester_quantity_note(locale: str) -> Note:
    return Note(REQUESTER_QUANTITY.say(locale), "quantite")


def requester_sector_note(locale: str) -> Note:
    return Note(REQUESTER_SECTOR.say(locale), "k-anonymat")


def shown_material_level(
    low_code: str | None, low_subchapter: str | None, low_chapter: str | None
) -> MaterialLevel:
    """The level a public card shows, from its public columns alone (catalogue/cards.to_public)."""
    if low_code:
        return MaterialLevel.CODE
    if low_subchapter:
        return MaterialLevel.SUBCHAPTER
    if low_chapter:
        return MaterialLevel.CHAPTER
    return MaterialLevel.FAMILY
