"""The contract as rendered and signed: one frozen version of the terms with its regulatory
status, evidence, obligations and the signers planned."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from contracts.status import Evidence, Obligation, Route
from contracts.terms import PartyRole, Terms


class PlannedSigner(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # giver, taker, or facilitator (the association, which signs last).
    role: PartyRole
    name: str


# The signature field of each signing role, drawn as a box on the evidence page.
SIGNATURE_FIELDS: dict[PartyRole, str] = {
    PartyRole.GIVER: "Signature_giver",
    PartyRole.TAKER: "Signature_taker",
    PartyRole.FACILITATOR: "Signature_association",
}


class ContractDocument(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reference: str
    version: int
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
