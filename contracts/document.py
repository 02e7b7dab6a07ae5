"""The contract as rendered and signed: one frozen version of the terms with its regulatory
status, evidence, obligations and the signers planned."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from contracts.status import Evidence, Obligation, Route
from contracts.terms import ONE_LINE, PartyRole, Terms


class PlannedSigner(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    # giver, taker, or facilitator (the association, which signs last).
    role: PartyRole
    name: Annotated[str, StringConstraints(min_length=1, max_length=200), ONE_LINE]


# The signature field of each signing role, drawn as a box on the evidence page.
SIGNATURE_FIELDS: dict[PartyRole, str] = {
    PartyRole.GIVER: "Signature_giver",
    PartyRole.TAKER: "Signature_taker",
    PartyRole.FACILITATOR: "Signature_association",
}


class ContractDocument(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Printed in the page margins too, hence the narrow alphabet.
    reference: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{2,39}$")]
    version: int = Field(ge=1)
    terms: Terms
    route: Route
    # The qualification's reasons, French then English.
    reasons: list[str]
    reasons_en: list[str] = []
    evidence: list[Evidence]
    obligations: list[Obligation]
    # Must equal terms.sha256().
    terms_hash: str
    frozen_at: datetime
    signers: list[PlannedSigner]
    r_code: str | None = None
    end_of_waste_act: str | None = None
    case_by_case_decision: str | None = None

    @field_validator("terms_hash")
    @classmethod
    def _hash_of_terms(cls, value: str, info: ValidationInfo) -> str:
        terms = info.data.get("terms")
        if terms is not None and value != terms.sha256():
            raise ValueError("the terms hash is not the hash of these terms")
        return value

    @field_validator("signers")
    @classmethod
    def _one_signer_per_role(cls, value: list[PlannedSigner]) -> list[PlannedSigner]:
        roles = [signer.role for signer in value]
        if len(set(roles)) != len(roles):
            raise ValueError("one signer per role")
        if not set(roles) <= set(SIGNATURE_FIELDS):
            raise ValueError("the signers are the giver, the taker and the association")
        return value

    @field_validator("frozen_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("a timezone-aware time is needed")
        return value
