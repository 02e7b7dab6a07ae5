"""Regulatory status: the guided questions lead to each route, each route's legal conditions need
their evidence (a document hash where the condition needs one), and the obligations follow from
the route and the hazardous flag."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from contracts.status import (
    CONDITIONS,
    Answers,
    Evidence,
    Route,
    end_of_waste_acts,
    missing_evidence,
    normalise_operation_code,
    obligations,
    qualify,
    recovery_operations,
)
from core.inputs import invalid_from
from tests.contracts_world import BY_PRODUCT_ANSWERS, BY_PRODUCT_EVIDENCE

ACT = "Arrêté du 29 juillet 2014"


def _ids(conditions: list) -> list[str]:
    return [c.id for c in conditions]


def test_a_utility_is_outside_waste_law_whatever_else_is_answered() -> None:
    answered = BY_PRODUCT_ANSWERS.model_copy(update={"is_utility": True})
    result = qualify(answered)
    assert result.route is Route.OUTSIDE_WASTE_LAW
    assert any("utilité" in reason for reason in result.reasons)
    assert any("utility" in reason for reason in result.reasons_en)


def test_all_four_conditions_make_a_by_product() -> None:
    result = qualify(BY_PRODUCT_ANSWERS)
    assert result.route is Route.BY_PRODUCT
    assert len(result.reasons) == len(result.reasons_en) == 5


@pytest.mark.parametrize(
    ("question", "condition"),
    [
        ("further_use_certain", "by_product.certain_further_use"),
        ("used_without_further_processing", "by_product.no_further_processing"),
        ("produced_as_integral_part", "by_product.integral_part_of_production"),
        ("lawful_use", "by_product.lawful_use"),
    ],
)
def test_one_condition_short_is_waste_and_the_reason_names_it(
    question: str, condition: str
) -> None:
    for answer in (False, None):
        result = qualify(BY_PRODUCT_ANSWERS.model_copy(update={question: answer}))
        assert result.route is Route.WASTE
        label = next(c for c in CONDITIONS[Route.BY_PRODUCT] if c.id == condition)
        assert any(label.label_fr in reason for reason in result.reasons)
        assert any(label.label_en in reason for reason in result.reasons_en)


def test_recovered_with_an_act_or_a_decision_is_end_of_waste() -> None:
    by_act = qualify(Answers(recovered=True, end_of_waste_act=ACT))
    assert by_act.route is Route.END_OF_WASTE
    assert ACT in by_act.reasons[0] and ACT in by_act.reasons_en[0]
    by_decision = qualify(
        Answers(recovered=True, case_by_case_decision="Arrêté préfectoral n° 2025-118")
    )
    assert by_decision.route is Route.END_OF_WASTE
    # Recovered without criteria, or criteria without recovery: still waste.
    assert qualify(Answers(recovered=True)).route is Route.WASTE
    assert qualify(Answers(recovered=False, end_of_waste_act=ACT)).route is Route.WASTE
    assert qualify(Answers()).route is Route.WASTE


def test_an_act_outside_the_reference_list_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        Answers.model_validate({"recovered": True, "end_of_waste_act": "Arrêté du 1er avril 2099"})
    refusal = invalid_from(caught.value)
    assert (refusal.status_code, refusal.field) == (422, "end_of_waste_act")
    # The list's own spelling is taken whatever the case and spaces.
    assert Answers(end_of_waste_act="arrêté du  29 JUILLET 2014").end_of_waste_act == ACT


def test_conditions_cover_every_route_with_a_legal_basis() -> None:
    assert set(CONDITIONS) == set(Route)
    assert _ids(list(CONDITIONS[Route.BY_PRODUCT])) == [
        "by_product.certain_further_use",
        "by_product.no_further_processing",
        "by_product.integral_part_of_production",
        "by_product.lawful_use",
    ]
    for route, conditions in CONDITIONS.items():
        for condition in conditions:
            assert condition.route is route and condition.id.startswith(route.value + ".")
            assert condition.legal_basis and condition.label_fr and condition.label_en
    assert "L541-4-2" in CONDITIONS[Route.BY_PRODUCT][0].legal_basis
    assert "L541-4-3" in CONDITIONS[Route.END_OF_WASTE][0].legal_basis


def test_complete_by_product_evidence_misses_nothing() -> None:
    assert missing_evidence(Route.BY_PRODUCT, BY_PRODUCT_EVIDENCE) == []


def test_a_by_product_with_one_condition_unevidenced_names_it() -> None:
    evidence = [e for e in BY_PRODUCT_EVIDENCE if e.condition != "by_product.no_further_processing"]
    missing = missing_evidence(Route.BY_PRODUCT, evidence)
    assert _ids(missing) == ["by_product.no_further_processing"]
    assert "traitement" in missing[0].label_fr


def test_a_condition_needing_a_document_is_missing_without_its_hash() -> None:
    without_document = [
        e.model_copy(update={"document_sha256": None, "document_name": None})
        if e.condition == "by_product.lawful_use"
        else e
        for e in BY_PRODUCT_EVIDENCE
    ]
    assert _ids(missing_evidence(Route.BY_PRODUCT, without_document)) == ["by_product.lawful_use"]


def test_waste_needs_a_valid_operation_code() -> None:
    evidence = [
        Evidence(
            condition="waste.receiving_facility_authorised",
            text="Arrêté préfectoral d'autorisation de la cimenterie, rubrique 2771.",
            document_name="arrete-icpe.pdf",
            document_sha256="ab" * 32,
        ),
        Evidence(condition="waste.registers", text="Registres tenus sur Trackdéchets."),
    ]
    assert _ids(missing_evidence(Route.WASTE, evidence)) == ["waste.operation_code"]
    assert _ids(missing_evidence(Route.WASTE, evidence, r_code="R 99")) == ["waste.operation_code"]
    assert missing_evidence(Route.WASTE, evidence, r_code="R5") == []
    assert missing_evidence(Route.WASTE, evidence, r_code="D 9 F") == []
    # Without any evidence, everything is missing, in the legal order.
    assert _ids(missing_evidence(Route.WASTE, [])) == [c.id for c in CONDITIONS[Route.WASTE]]


def test_end_of_waste_criteria_by_act_or_by_an_attached_decision() -> None:
    base = [
        Evidence(
            condition="end_of_waste.recovery_operation",
            text="Broyage et tri en installation autorisée.",
            document_sha256="cd" * 32,
        ),
        Evidence(condition="end_of_waste.conformity_statement", text="Attestation par lot."),
    ]
    assert _ids(missing_evidence(Route.END_OF_WASTE, base)) == ["end_of_waste.criteria"]
    assert missing_evidence(Route.END_OF_WASTE, base, end_of_waste_act=ACT) == []
    assert _ids(missing_evidence(Route.END_OF_WASTE, base, end_of_waste_act="Arrêté inventé")) == [
        "end_of_waste.criteria"
    ]
    # A prefect's decision is no public act: it must be attached.
    decision = "Arrêté préfectoral n° 2025-118"
    assert _ids(missing_evidence(Route.END_OF_WASTE, base, case_by_case_decision=decision)) == [
        "end_of_waste.criteria"
    ]
    attached = [
        *base,
        Evidence(condition="end_of_waste.criteria", text=decision, document_sha256="ef" * 32),
    ]
    assert missing_evidence(Route.END_OF_WASTE, attached, case_by_case_decision=decision) == []


def test_evidence_is_validated() -> None:
    for data, field in [
        ({"condition": "by_product.wishful_thinking", "text": "x"}, "condition"),
        ({"condition": "waste.registers", "text": ""}, "text"),
        (
            {"condition": "waste.registers", "text": "x", "document_sha256": "abc"},
            "document_sha256",
        ),
        (
            {"condition": "waste.registers", "text": "x", "document_sha256": "g" * 64},
            "document_sha256",
        ),
    ]:
        with pytest.raises(ValidationError) as caught:
            Evidence.model_validate(data)
        assert invalid_from(caught.value).field == field
    upper = Evidence(condition="waste.registers", text="x", document_sha256="AB" * 32)
    assert upper.document_sha256 == "ab" * 32


def test_hazardous_material_brings_the_tracking_slip() -> None:
    for route in (Route.WASTE, Route.END_OF_WASTE, Route.BY_PRODUCT):
        ids = [o.id for o in obligations(route, hazardous=True)]
        assert "tracking_slip" in ids
        assert "tracking_slip" not in [o.id for o in obligations(route, hazardous=False)]
    slip = obligations(Route.WASTE, hazardous=True)[0]
    assert "BSDD" in slip.label_fr and "Trackdéchets" in slip.label_en


def test_obligations_of_each_route() -> None:
    waste = obligations(Route.WASTE, hazardous=False, r_code="R5")
    assert [o.id for o in waste] == ["authorised_facility", "registers"]
    assert "R 5" in waste[0].label_fr and "R 5" in waste[0].label_en
    end = obligations(Route.END_OF_WASTE, hazardous=False, end_of_waste_act=ACT)
    assert end[0].id == "conformity_statement" and ACT in end[0].label_fr
    assert [o.id for o in obligations(Route.BY_PRODUCT, hazardous=False)] == ["lot_traceability"]
    assert obligations(Route.OUTSIDE_WASTE_LAW, hazardous=False) == []


def test_reference_lists_come_from_the_shipped_files() -> None:
    codes = {op.code for op in recovery_operations()}
    assert {"R 1", "R 5", "R 13", "D 10", "D 9 F"} <= codes
    assert len(codes) == 26
    acts = [act.reference for act in end_of_waste_acts()]
    assert ACT in acts and len(acts) == 14
    assert normalise_operation_code("r13") == "R 13"
    with pytest.raises(ValueError):
        normalise_operation_code("R 14")
