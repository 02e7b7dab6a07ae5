"""The terms of an exchange contract: a validated, hashable model, its default clauses and the
readable diff between two versions."""

from __future__ import annotations

import enum
import hashlib
import json
import re
from datetime import date
from functools import lru_cache, partial
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from stdnum.fr import siret as siret_number

from core.inputs import NOT_BOOLEAN, clean_text
from core.reference.loader import read_csv


class PartyRole(enum.StrEnum):
    GIVER = "giver"
    TAKER = "taker"
    CARRIER = "carrier"
    # The territory's association: it drafts and countersigns.
    FACILITATOR = "facilitator"


class Unit(enum.StrEnum):
    """The base units a flow's quantity is normalised to (per year)."""

    TONNE = "t"
    MWH = "MWh"
    CUBIC_METRE = "m3"


class Regularity(enum.StrEnum):
    """The same words as a flow's regularity (marketplace/flows/models.py)."""

    CONTINUOUS = "continuous"
    BATCH = "batch"
    SEASONAL = "seasonal"
    ONE_OFF = "one-off"


# Bounded texts, cleaned as every input of the project is (core.inputs.clean_text: NFC, trimmed,
# control characters and text-direction overrides refused, not dropped): a name or a place fits a
# line of the PDF; a clause a few paragraphs. The bounds keep one contract's PDF and hash input
# small whatever a client sends.
ONE_LINE = BeforeValidator(clean_text)
MULTI_LINE = BeforeValidator(partial(clean_text, multiline=True))
Name = Annotated[str, StringConstraints(min_length=1, max_length=200), ONE_LINE]
Place = Annotated[str, StringConstraints(min_length=1, max_length=500), ONE_LINE]
Clause = Annotated[str, StringConstraints(min_length=1, max_length=8000), MULTI_LINE]
Specification = Annotated[str, StringConstraints(min_length=1, max_length=4000), MULTI_LINE]

MAX_PARTIES = 8
# A year's quantity beyond this is a typing error, not a flow (the largest plants give millions).
MAX_QUANTITY_PER_YEAR = 1e9
# One billion euros in cents: beyond it a price is a typing error too.
MAX_AMOUNT_CENTS = 100_000_000_000


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, frozen=True, allow_inf_nan=False
    )


class PartyTerms(_Strict):
    role: PartyRole
    legal_name: Name
    siret: Annotated[str, StringConstraints(max_length=40), ONE_LINE] | None = None
    address: Place
    site_name: Name | None = None
    site_address: Place | None = None
    representative: Name | None = None

    @field_validator("siret")
    @classmethod
    def _valid_siret(cls, value: str | None) -> str | None:
        if value is None:
            return None
        compact = re.sub(r"[\s.\-]", "", value)
        if not siret_number.is_valid(compact):
            raise ValueError("not a valid SIRET (14 digits with a valid check digit)")
        return compact


class Price(_Strict):
    kind: Literal["price", "gate_fee", "free"]
    # Defaults validated too: a price without an amount or a payer is refused, not assumed.
    amount_cents: Annotated[int, Field(ge=0, le=MAX_AMOUNT_CENTS), NOT_BOOLEAN] = Field(
        default=0, validate_default=True
    )
    currency: Literal["EUR"] = "EUR"
    per_unit: Unit
    # Who pays: the taker for a price, usually the giver for a gate fee; None only when free.
    payer: Literal["giver", "taker"] | None = Field(default=None, validate_default=True)

    @field_validator("amount_cents")
    @classmethod
    def _amount_fits_kind(cls, value: int, info: ValidationInfo) -> int:
        kind = info.data.get("kind")
        if kind == "free" and value != 0:
            raise ValueError("a free exchange has no amount")
        if kind in ("price", "gate_fee") and value == 0:
            raise ValueError("a price or a gate fee needs an amount above zero")
        return value

    @field_validator("payer")
    @classmethod
    def _payer_fits_kind(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if kind == "free" and value is not None:
            raise ValueError("nobody pays for a free exchange")
        if kind in ("price", "gate_fee") and value is None:
            raise ValueError("say who pays: giver or taker")
        return value


@lru_cache
def _low_rows() -> dict[str, dict[str, str]]:
    return {row["code"]: row for row in read_csv("list_of_waste.csv") if row["level"] == "entry"}


@lru_cache
def _low_entries() -> dict[str, str]:
    """The six-digit List of Waste entries, "10 01 05" → entry type (Absolute hazardous...)."""
    return {code: row["entry_type"] for code, row in _low_rows().items()}


def low_description(code: str, locale: str = "fr") -> str:
    """The List of Waste's wording of an entry, French unless locale is "en" ("" if unknown)."""
    row = _low_rows().get(code)
    if row is None:
        return ""
    return row["description_en" if locale == "en" else "description_fr"]


_LOW_FORM = re.compile(r"(\d{2})\s?(\d{2})\s?(\d{2})\*?")


def normalise_low_code(value: str) -> str:
    """ "100105", "10 01 05" or "10 01 04*" → the spaced form of the List of Waste; refused when
    it is no entry of the list."""
    match = _LOW_FORM.fullmatch(value.strip())
    if match is None:
        raise ValueError('a List of Waste code has six digits, as "10 01 05"')
    code = " ".join(match.groups())
    if code not in _low_entries():
        raise ValueError(f"{code} is not an entry of the List of Waste")
    return code


class Terms(_Strict):
    parties: list[PartyTerms] = Field(min_length=2, max_length=MAX_PARTIES)
    material_label: Name
    low_code: Annotated[str, StringConstraints(max_length=20), ONE_LINE] | None = None
    hazardous: bool
    quantity_per_year: Annotated[
        float, Field(gt=0, le=MAX_QUANTITY_PER_YEAR, allow_inf_nan=False), NOT_BOOLEAN
    ]
    unit: Unit
    regularity: Regularity
    quality_specification: Specification
    acceptance_tests: Specification
    price: Price
    delivery_point: Place
    transport: Specification
    start_date: date
    end_date: date
    termination: Clause
    liability: Clause
    confidentiality: Clause
    non_circumvention: Clause
    dispute_resolution: Clause

    @field_validator("parties")
    @classmethod
    def _one_giver_one_taker(cls, parties: list[PartyTerms]) -> list[PartyTerms]:
        roles = [party.role for party in parties]
        for role in (PartyRole.GIVER, PartyRole.TAKER):
            if roles.count(role) != 1:
                raise ValueError(f"a contract has exactly one {role.value}")
        if roles.count(PartyRole.FACILITATOR) > 1:
            raise ValueError("a contract has at most one facilitator")
        return parties

    @field_validator("low_code")
    @classmethod
    def _known_low_code(cls, value: str | None) -> str | None:
        return None if value is None else normalise_low_code(value)

    @field_validator("hazardous")
    @classmethod
    def _hazardous_as_listed(cls, value: bool, info: ValidationInfo) -> bool:
        # An absolute entry decides the flag; a mirror entry depends on the lot's analysis.
        row = _low_rows().get(info.data.get("low_code") or "")
        entry = row["entry_type"] if row else None
        if entry == "Absolute hazardous" and not value:
            raise ValueError("this List of Waste code is always hazardous")
        if entry == "Absolute non-hazardous" and value:
            raise ValueError("this List of Waste code is never hazardous")
        return value

    @field_validator("end_date")
    @classmethod
    def _after_start(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("start_date")
        if start is not None and value <= start:
            raise ValueError("the end date comes after the start date")
        return value

    def party(self, role: PartyRole) -> PartyTerms | None:
        """The party of that role (the first carrier for a carrier)."""
        return next((p for p in self.parties if p.role == role), None)

    def canonical_bytes(self) -> bytes:
        """Sorted-key compact JSON of every field, UTF-8: the same terms give the same bytes on
        every machine and version of this code."""
        return json.dumps(
            self.model_dump(mode="json"),
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
            allow_nan=False,
        ).encode("utf-8")

    def sha256(self) -> str:
        """Hex SHA-256 of `canonical_bytes()`: the hash frozen when a version is ready to sign."""
        return hashlib.sha256(self.canonical_bytes()).hexdigest()


CLAUSES = ("termination", "liability", "confidentiality", "non_circumvention", "dispute_resolution")

_DEFAULT_CLAUSES: dict[str, dict[str, str]] = {
    "fr": {
        "termination": (
            "Chaque partie peut résilier le contrat par lettre recommandée avec accusé de "
            "réception moyennant un préavis de trois mois. En cas de manquement grave d'une "
            "partie à ses obligations, non réparé dans les trente jours suivant une mise en "
            "demeure, l'autre partie peut résilier le contrat sans préavis ni indemnité. Les "
            "livraisons effectuées avant la résiliation restent dues."
        ),
        "liability": (
            "Le cédant garantit que la matière livrée est conforme à la spécification de "
            "qualité et à la caractérisation déclarée. Le preneur répond de l'usage qu'il fait "
            "de la matière à compter de sa réception au point de livraison. Chaque partie "
            "répond des dommages directs causés par sa faute ; aucune partie ne répond des "
            "dommages indirects. L'association, tiers de confiance, n'est pas partie à "
            "l'échange de matière et ne répond ni de sa qualité ni de son exécution."
        ),
        "confidentiality": (
            "Les parties tiennent confidentielles les informations échangées pour la "
            "préparation et l'exécution du contrat (procédés, quantités, prix, analyses), "
            "pendant sa durée et trois ans après son terme, sauf obligation légale ou "
            "demande d'une autorité administrative ou judiciaire."
        ),
        "non_circumvention": (
            "Les parties s'interdisent, pendant la durée du contrat et douze mois après son "
            "terme, de conclure entre elles un échange de la même matière en dehors de la "
            "plateforme de l'association pour éviter les frais de mise en relation convenus."
        ),
        "dispute_resolution": (
            "Le contrat est régi par le droit français. Les parties recherchent d'abord une "
            "solution amiable, avec la médiation de l'association si l'une d'elles le "
            "demande. À défaut d'accord dans les soixante jours, le litige est porté devant "
            "le tribunal compétent du ressort du siège du cédant."
        ),
    },
    "en": {
        "termination": (
            "Either party may terminate the contract by registered letter with acknowledgement "
            "of receipt, giving three months' notice. If a party seriously breaches its "
            "obligations and does not remedy the breach within thirty days of formal notice, "
            "the other party may terminate the contract without notice or compensation. "
            "Deliveries made before termination remain payable."
        ),
        "liability": (
            "The giver warrants that the material delivered meets the quality specification "
            "and the declared characterisation. The taker is responsible for its use of the "
            "material from its receipt at the delivery point. Each party is liable for direct "
            "damage caused by its fault; neither party is liable for indirect damage. The "
            "association, as trusted third party, is not a party to the exchange of material "
            "and answers neither for its quality nor for its performance."
        ),
        "confidentiality": (
            "The parties keep confidential the information exchanged to prepare and perform "
            "the contract (processes, quantities, prices, analyses), during its term and for "
            "three years after it ends, save a legal obligation or a request from an "
            "administrative or judicial authority."
        ),
        "non_circumvention": (
            "During the contract and for twelve months after it ends, the parties shall not "
            "agree between themselves an exchange of the same material outside the "
            "association's platform in order to avoid the agreed introduction fees."
        ),
        "dispute_resolution": (
            "The contract is governed by French law. The parties first seek an amicable "
            "settlement, with the association's mediation if either asks for it. Failing "
            "agreement within sixty days, the dispute is brought before the competent court "
            "of the giver's registered office."
        ),
    },
}


def default_clauses(locale: str) -> dict[str, str]:
    """Default texts of the five clauses (keys of CLAUSES), French unless locale is "en"; the
    facilitator edits them in the draft."""
    return dict(_DEFAULT_CLAUSES["en" if locale == "en" else "fr"])


class TermChange(_Strict):
    # A dotted path: "price.amount_cents", "parties[1].site_name".
    field: str
    before: str
    after: str


def _text(value: Any) -> str:
    """A leaf value as the diff shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, float):
        # 1200.0 reads as 1200; other floats keep every digit.
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _party_summary(party: PartyTerms) -> str:
    return f"{party.role.value}: {party.legal_name}"


def _leaf_changes(path: str, old: BaseModel, new: BaseModel) -> list[TermChange]:
    changes = []
    for name in type(old).model_fields:
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            changes.append(
                TermChange(field=f"{path}{name}", before=_text(before), after=_text(after))
            )
    return changes


def diff(old: Terms, new: Terms) -> list[TermChange]:
    """Every changed leaf, in the fields' declaration order (parties by index), values as text
    ("" for an absent one); a party added or removed shows as "role: legal name"."""
    changes: list[TermChange] = []
    for name in Terms.model_fields:
        before, after = getattr(old, name), getattr(new, name)
        if before == after:
            continue
        if name == "parties":
            for index in range(max(len(before), len(after))):
                here = f"parties[{index}]"
                if index >= len(after):
                    changes.append(
                        TermChange(field=here, before=_party_summary(before[index]), after="")
                    )
                elif index >= len(before):
                    changes.append(
                        TermChange(field=here, before="", after=_party_summary(after[index]))
                    )
                else:
                    changes.extend(_leaf_changes(f"{here}.", before[index], after[index]))
        elif name == "price":
            changes.extend(_leaf_changes("price.", before, after))
        else:
            changes.append(TermChange(field=name, before=_text(before), after=_text(after)))
    return changes
