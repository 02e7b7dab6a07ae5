"""Regulatory status of the material exchanged (waste, by-product, end-of-waste, outside waste
law): the legal conditions of each route, the guided qualification, the evidence still missing
and the obligations that follow. Pure rules over the reference lists."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, field_validator

from contracts.terms import MULTI_LINE, ONE_LINE
from core.reference.loader import read_csv


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


def _condition(id: str, basis: str, fr: str, en: str, *, document: bool = False) -> Condition:
    return Condition(
        id=id,
        route=Route(id.split(".", 1)[0]),
        legal_basis=basis,
        label_fr=fr,
        label_en=en,
        needs_document=document,
    )


CONDITIONS: dict[Route, tuple[Condition, ...]] = {
    Route.BY_PRODUCT: (
        _condition(
            "by_product.certain_further_use",
            "Directive 2008/98/CE art. 5 §1 a ; C. env. L541-4-2 1°",
            "L'utilisation ultérieure de la matière est certaine.",
            "Further use of the material is certain.",
        ),
        _condition(
            "by_product.no_further_processing",
            "Directive 2008/98/CE art. 5 §1 b ; C. env. L541-4-2 2°",
            "La matière peut être utilisée directement sans traitement supplémentaire autre que "
            "les pratiques industrielles courantes.",
            "The material can be used directly without any further processing other than "
            "normal industrial practice.",
        ),
        _condition(
            "by_product.integral_part_of_production",
            "Directive 2008/98/CE art. 5 §1 c ; C. env. L541-4-2 3°",
            "La matière est produite en faisant partie intégrante d'un processus de production.",
            "The material is produced as an integral part of a production process.",
        ),
        _condition(
            "by_product.lawful_use",
            "Directive 2008/98/CE art. 5 §1 d ; C. env. L541-4-2 4°",
            "L'utilisation ultérieure est légale : la matière répond à toutes les prescriptions "
            "relatives au produit, à l'environnement et à la protection de la santé pour cet "
            "usage, sans incidence globale nocive pour l'environnement ou la santé humaine.",
            "Further use is lawful: the material meets all relevant product, environmental and "
            "health protection requirements for this use and will not lead to overall adverse "
            "environmental or human health impacts.",
            document=True,
        ),
    ),
    Route.END_OF_WASTE: (
        _condition(
            "end_of_waste.recovery_operation",
            "Directive 2008/98/CE art. 6 §1 ; C. env. L541-4-3",
            "Le déchet a subi une opération de valorisation dans une installation autorisée.",
            "The waste has undergone a recovery operation in an authorised facility.",
            document=True,
        ),
        _condition(
            "end_of_waste.criteria",
            "Directive 2008/98/CE art. 6 §1 et §4 ; C. env. L541-4-3, D541-12-4 et suivants",
            "Les critères de sortie du statut de déchet sont fixés par un acte de la liste de "
            "référence ou par une décision au cas par cas, et ils sont respectés.",
            "The end-of-waste criteria are set by an act of the reference list or by a "
            "case-by-case decision, and they are met.",
        ),
        _condition(
            "end_of_waste.conformity_statement",
            "C. env. D541-12-13 ; Règlements (UE) 333/2011 art. 5, 1179/2012 art. 5",
            "Une attestation de conformité est établie pour chaque lot.",
            "A statement of conformity is issued for each lot.",
        ),
    ),
    Route.WASTE: (
        _condition(
            "waste.receiving_facility_authorised",
            "C. env. L541-2, L541-22 ; L512-1 (installations classées)",
            "L'installation de réception est autorisée à recevoir ce code déchet.",
            "The receiving facility is authorised to receive this waste code.",
            document=True,
        ),
        _condition(
            "waste.operation_code",
            "Directive 2008/98/CE annexes I et II ; C. env. L541-1-1",
            "Le code de l'opération de valorisation ou d'élimination (R/D) est celui de la "
            "liste de référence.",
            "The recovery or disposal operation code (R/D) is one of the reference list.",
        ),
        _condition(
            "waste.registers",
            "C. env. R541-43 ; arrêté du 31 mai 2021 (registres chronologiques)",
            "Le producteur et l'installation de réception tiennent leurs registres "
            "chronologiques des déchets sortants et entrants.",
            "The producer and the receiving facility keep their chronological registers of "
            "outgoing and incoming waste.",
        ),
    ),
    Route.OUTSIDE_WASTE_LAW: (
        _condition(
            "outside_waste_law.utility",
            "Directive 2008/98/CE art. 2 ; C. env. L541-4-1",
            "Le flux est une utilité (chaleur, eau, CO₂ fourni comme utilité), hors du champ "
            "de la réglementation des déchets.",
            "The flow is a utility (heat, water, CO₂ supplied as a utility), outside the scope "
            "of waste law.",
        ),
    ),
}

_BY_ID: dict[str, Condition] = {c.id: c for route in CONDITIONS.values() for c in route}


def condition(condition_id: str) -> Condition:
    """The condition of that id (KeyError when unknown)."""
    return _BY_ID[condition_id]


class Operation(_Strict):
    code: str
    type: str
    description_fr: str


class EndOfWasteAct(_Strict):
    reference: str
    description_fr: str


@lru_cache
def _operations() -> tuple[Operation, ...]:
    return tuple(
        Operation(code=r["code"], type=r["type"], description_fr=r["description_fr"])
        for r in read_csv("recovery_disposal_operations.csv")
    )


@lru_cache
def _acts() -> tuple[EndOfWasteAct, ...]:
    return tuple(
        EndOfWasteAct(reference=r["reference"], description_fr=r["description_fr"])
        for r in read_csv("end_of_waste_acts.csv")
    )


def recovery_operations() -> list[Operation]:
    """The R/D operation codes of the reference list (core/reference/data)."""
    return list(_operations())


def end_of_waste_acts() -> list[EndOfWasteAct]:
    """The acts setting end-of-waste criteria, from the reference list."""
    return list(_acts())


_OPERATION_FORM = re.compile(r"([RD])\s*(\d{1,2})\s*(F?)", re.IGNORECASE)


def normalise_operation_code(value: str) -> str:
    """ "R3", "r 3" or "D9F" → the reference list's form ("R 3", "D 9 F"); ValueError when it
    is not an operation of the list."""
    match = _OPERATION_FORM.fullmatch(value.strip())
    code = ""
    if match is not None:
        letter, number, final = match.groups()
        code = f"{letter.upper()} {int(number)}" + (" F" if final else "")
    if code not in {op.code for op in _operations()}:
        raise ValueError("not a recovery or disposal operation code of the reference list")
    return code


def _space_folded(value: str) -> str:
    return " ".join(value.split()).casefold()


def normalise_end_of_waste_act(value: str) -> str:
    """An act's reference as the reference list spells it (case and spaces aside); ValueError
    when the list has no such act."""
    wanted = _space_folded(value)
    for act in _acts():
        if _space_folded(act.reference) == wanted:
            return act.reference
    raise ValueError("not an act of the end-of-waste reference list")


def _valid(normalise: Callable[[str], str], value: str | None) -> str | None:
    if not value:
        return None
    try:
        return normalise(value)
    except ValueError:
        return None


Reference = Annotated[str, StringConstraints(min_length=1, max_length=300), ONE_LINE]


class Answers(_Strict):
    """The status wizard's questions; None is "not answered yet" (counts as no)."""

    is_utility: bool = False
    produced_as_integral_part: bool | None = None
    further_use_certain: bool | None = None
    used_without_further_processing: bool | None = None
    lawful_use: bool | None = None
    recovered: bool | None = None
    # One of end_of_waste_acts()' references, else refused naming this field.
    end_of_waste_act: Reference | None = None
    # The prefect's case-by-case decision (its reference), when no act sets the criteria.
    case_by_case_decision: Reference | None = None

    @field_validator("end_of_waste_act")
    @classmethod
    def _listed_act(cls, value: str | None) -> str | None:
        return None if value is None else normalise_end_of_waste_act(value)


class Qualification(_Strict):
    route: Route
    # Why, in French (the contract's language) and the same reasons in English.
    reasons: list[str]
    reasons_en: list[str]

    def reasons_in(self, locale: str) -> list[str]:
        return self.reasons_en if locale == "en" else self.reasons


# The by-product questions, with the condition each one answers.
_BY_PRODUCT_QUESTIONS = (
    ("further_use_certain", "by_product.certain_further_use"),
    ("used_without_further_processing", "by_product.no_further_processing"),
    ("produced_as_integral_part", "by_product.integral_part_of_production"),
    ("lawful_use", "by_product.lawful_use"),
)


def qualify(answers: Answers) -> Qualification:
    """utility → outside waste law; the four by-product conditions → by-product; recovered with
    an act or a case-by-case decision → end-of-waste; anything else → waste."""
    if answers.is_utility:
        utility = _BY_ID["outside_waste_law.utility"]
        return Qualification(
            route=Route.OUTSIDE_WASTE_LAW,
            reasons=[utility.label_fr],
            reasons_en=[utility.label_en],
        )
    unmet = [
        _BY_ID[cid] for question, cid in _BY_PRODUCT_QUESTIONS if not getattr(answers, question)
    ]
    if not unmet:
        met = CONDITIONS[Route.BY_PRODUCT]
        return Qualification(
            route=Route.BY_PRODUCT,
            reasons=["Les quatre conditions du sous-produit sont remplies :"]
            + [c.label_fr for c in met],
            reasons_en=["The four by-product conditions are met:"] + [c.label_en for c in met],
        )
    if answers.recovered and (answers.end_of_waste_act or answers.case_by_case_decision):
        if answers.end_of_waste_act:
            basis_fr = f"critères fixés par : {answers.end_of_waste_act}"
            basis_en = f"criteria set by: {answers.end_of_waste_act}"
        else:
            basis_fr = f"décision au cas par cas : {answers.case_by_case_decision}"
            basis_en = f"case-by-case decision: {answers.case_by_case_decision}"
        return Qualification(
            route=Route.END_OF_WASTE,
            reasons=[
                "Le déchet a subi une opération de valorisation et remplit les critères de "
                f"sortie du statut de déchet ({basis_fr})."
            ],
            reasons_en=[
                "The waste has undergone a recovery operation and meets the end-of-waste "
                f"criteria ({basis_en})."
            ],
        )
    reasons = ["Condition du sous-produit non remplie : " + c.label_fr for c in unmet]
    reasons_en = ["By-product condition not met: " + c.label_en for c in unmet]
    if not answers.recovered:
        reasons.append("La matière n'a pas subi d'opération de valorisation.")
        reasons_en.append("The material has not undergone a recovery operation.")
    else:
        reasons.append(
            "Aucun acte de la liste de référence ni décision au cas par cas ne fixe de critères "
            "de sortie du statut de déchet."
        )
        reasons_en.append(
            "No act of the reference list nor case-by-case decision sets end-of-waste criteria."
        )
    return Qualification(route=Route.WASTE, reasons=reasons, reasons_en=reasons_en)


_SHA256 = re.compile(r"[0-9a-f]{64}")


class Evidence(_Strict):
    # A Condition.id of CONDITIONS.
    condition: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    text: Annotated[str, StringConstraints(min_length=1, max_length=4000), MULTI_LINE]
    document_name: (
        Annotated[str, StringConstraints(min_length=1, max_length=200), ONE_LINE] | None
    ) = None
    # 64 hex digits of the attached document's SHA-256 (lowercased).
    document_sha256: Annotated[str, StringConstraints(max_length=64)] | None = None

    @field_validator("condition")
    @classmethod
    def _known_condition(cls, value: str) -> str:
        if value not in _BY_ID:
            raise ValueError("not a condition of any route")
        return value

    @field_validator("document_sha256")
    @classmethod
    def _hex_digest(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.lower()
        if not _SHA256.fullmatch(value):
            raise ValueError("a SHA-256 is 64 hexadecimal digits")
        return value


def _evidenced(found: list[Evidence], needs_document: bool) -> bool:
    return any(e.text and (e.document_sha256 or not needs_document) for e in found)


def missing_evidence(
    route: Route,
    evidence: list[Evidence],
    *,
    r_code: str | None = None,
    end_of_waste_act: str | None = None,
    case_by_case_decision: str | None = None,
) -> list[Condition]:
    """The route's conditions not evidenced yet, in CONDITIONS order (empty: complete). A
    condition with needs_document needs a document hash; waste needs a valid R/D code; the
    end-of-waste criteria need an act of the reference list, or a case-by-case decision with
    its document."""
    by_condition: dict[str, list[Evidence]] = {}
    for item in evidence:
        by_condition.setdefault(item.condition, []).append(item)
    missing = []
    for cond in CONDITIONS[route]:
        found = by_condition.get(cond.id, [])
        if cond.id == "waste.operation_code":
            met = _valid(normalise_operation_code, r_code) is not None
        elif cond.id == "end_of_waste.criteria":
            # An act is public and checked against the list; a prefect's decision is not, so
            # the decision itself must be attached.
            met = _valid(normalise_end_of_waste_act, end_of_waste_act) is not None or bool(
                case_by_case_decision and _evidenced(found, needs_document=True)
            )
        else:
            met = _evidenced(found, cond.needs_document)
        if not met:
            missing.append(cond)
    return missing


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
    result: list[Obligation] = []
    if route is Route.OUTSIDE_WASTE_LAW:
        return result
    if hazardous:
        result.append(
            Obligation(
                id="tracking_slip",
                label_fr="Chaque enlèvement est accompagné d'un bordereau de suivi des déchets "
                "dangereux (BSDD) émis sur Trackdéchets (C. env. R541-45).",
                label_en="Each collection travels with a hazardous waste tracking slip (BSDD) "
                "issued on Trackdéchets (C. env. R541-45).",
            )
        )
    if route is Route.WASTE:
        code = _valid(normalise_operation_code, r_code)
        operation_fr = f", pour l'opération {code}" if code else ""
        operation_en = f", for operation {code}" if code else ""
        result += [
            Obligation(
                id="authorised_facility",
                label_fr="Le déchet est remis à une installation autorisée à le recevoir"
                f"{operation_fr} (C. env. L541-2).",
                label_en=f"The waste is handed to a facility authorised to receive it"
                f"{operation_en} (C. env. L541-2).",
            ),
            Obligation(
                id="registers",
                label_fr="Le producteur tient le registre chronologique des déchets sortants et "
                "l'installation de réception celui des déchets entrants (C. env. R541-43).",
                label_en="The producer keeps the chronological register of outgoing waste and "
                "the receiving facility that of incoming waste (C. env. R541-43).",
            ),
        ]
    elif route is Route.END_OF_WASTE:
        act = _valid(normalise_end_of_waste_act, end_of_waste_act)
        act_fr = f", selon {act}" if act else ""
        act_en = f", under {act}" if act else ""
        result += [
            Obligation(
                id="conformity_statement",
                label_fr=f"Une attestation de conformité est établie pour chaque lot{act_fr} "
                "(C. env. D541-12-13).",
                label_en=f"A statement of conformity is issued for each lot{act_en} "
                "(C. env. D541-12-13).",
            ),
            Obligation(
                id="end_of_waste_register",
                label_fr="L'exploitant de l'installation de valorisation tient le registre des "
                "lots sortis du statut de déchet.",
                label_en="The recovery facility's operator keeps the register of the lots that "
                "ceased to be waste.",
            ),
        ]
    elif route is Route.BY_PRODUCT:
        result.append(
            Obligation(
                id="lot_traceability",
                label_fr="Chaque lot livré est tracé (date, quantité, numéro de lot) et la "
                "conformité à la spécification de qualité est conservée.",
                label_en="Each lot delivered is traced (date, quantity, lot number) and its "
                "conformity with the quality specification is kept on record.",
            )
        )
    return result
