"""Regulatory status of the material exchanged (waste, by-product, end-of-waste, outside waste
law): the legal conditions of each route, the guided qualification, the evidence still missing
and the obligations that follow. Pure rules over the reference lists."""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict


class Route(enum.StrEnum):
    WASTE = "waste"
    BY_PRODUCT = "by_product"
    END_OF_WASTE = "end_of_waste"
    OUTSIDE_WASTE_LAW = "outside_waste_law"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Condition(_Strict):
    id: str
    route: Route
    legal_basis: str
    label_fr: str
    label_en: str
    needs_document: bool


CONDITIONS: dict[Route, tuple[Condition, ...]] = {}


class Answers(_Strict):
    """The status wizard's questions; None is "not answered yet" (counts as no)."""

    is_utility: bool = False
    produced_as_integral_part: bool | None = None
    further_use_certain: bool | None = None
    used_without_further_processing: bool | None = None
    lawful_use: bool | None = None
    recovered: bool | None = None
    # One of end_of_waste_acts()' references, else refused naming this field.
    end_of_waste_act: str | None = None
    # The prefect's case-by-case decision (its reference), when no act sets the criteria.
    case_by_case_decision: str | None = None


class Qualification(_Strict):
    route: Route
    # Why, in French (the contract's language) and the same reasons in English.
    reasons: list[str]
    reasons_en: list[str]


def qualify(answers: Answers) -> Qualification:
    """utility → outside waste law; the four by-product conditions → by-product; recovered with
    an act or a case-by-case decision → end-of-waste; anything else → waste."""
    raise NotImplementedError


class Evidence(_Strict):
    # A Condition.id of CONDITIONS.
    condition: str
    text: str
    document_name: str | None = None
    # 64 lowercase hex digits of the attached document's SHA-256.
    document_sha256: str | None = None


def missing_evidence(
    route: Route,
    evidence: list[Evidence],
    *,
    r_code: str | None = None,
    end_of_waste_act: str | None = None,
    case_by_case_decision: str | None = None,
) -> list[Condition]:
    """The route's conditions not evidenced yet, in CONDITIONS order (empty: complete). A
    condition with needs_document needs a document hash; waste needs a valid R/D code."""
    raise NotImplementedError


class Obligation(_Strict):
    id: str
    label_fr: str
    label_en: str


def obligations(
    route: Route,
    *,
    hazardous: bool,
    r_code: str | None = None,
    end_of_waste_act: str | None = None,
) -> list[Obligation]:
    """What the parties must do because of the route (and a hazardous material)."""
    raise NotImplementedError


class Operation(_Strict):
    code: str
    type: str
    description_fr: str


class EndOfWasteAct(_Strict):
    reference: str
    description_fr: str


def recovery_operations() -> list[Operation]:
    """The R/D operation codes of the reference list (core/reference/data)."""
    raise NotImplementedError


def end_of_waste_acts() -> list[EndOfWasteAct]:
    """The acts setting end-of-waste criteria, from the reference list."""
    raise NotImplementedError
