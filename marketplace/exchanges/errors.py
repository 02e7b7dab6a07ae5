"""Errors of the contract lifecycle: the shared hierarchy, re-exported, and one class per case a
user can meet (translated by class in web/messages.py)."""

from core.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited, Unavailable

__all__ = ["Conflict", "Forbidden", "Invalid", "NotFound", "RateLimited", "Unavailable"]


class NoSuchContract(NotFound):
    message = "no such contract"


class NoSuchVersion(NotFound):
    message = "no such version of this contract: {number}"


class NoSuchContractNotice(NotFound):
    message = "no such notice"


class NoSuchDocument(NotFound):
    message = "no such document attached to this contract"


class IntroductionNotRevealed(Conflict):
    message = "a contract is drafted from a revealed introduction only (this one is {state})"


class PooledIntroduction(Invalid):
    message = (
        "an introduction to a pooled offer gives one contract per contributor: name the "
        "contributor who accepted (contributor_company_id)"
    )


class NotAnAcceptingContributor(Invalid):
    message = "this company is not a contributor who accepted this pooled introduction"


class AlreadyDrafted(Conflict):
    message = "this introduction already has its contract (for this contributor, if pooled)"


class ContractStateRefuses(Conflict):
    message = "cannot {event}: the contract is {state}"


class NotYourStep(Forbidden):
    message = "{event} is not for the {party} of this contract"


class WrongPassword(Forbidden):
    message = "the password is not right: signing asks for your password again"


class PartiesByFacilitator(Forbidden):
    message = "the parties' identities come from the reveal: only the facilitator changes them"


class AlreadySigned(Conflict):
    message = "the {role} already signed this version"


class StaleVersion(Conflict):
    message = "the contract is at version {current}, not {given}: read it again"


class StatusNotQualified(Invalid):
    message = "answer the status questions before the contract is ready for signature"


class EvidenceMissing(Invalid):
    message = "evidence missing for {condition}: {label}"


class UnknownEvidenceDocument(Invalid):
    message = "no document with this SHA-256 is attached to the contract"


class UnknownCondition(Invalid):
    message = "{condition} is not a condition of the {route} route"


class UnitNotContracted(Invalid):
    message = "deliveries of this contract are counted in {unit}"


class DeliveryInFuture(Invalid):
    message = "a delivery is recorded once made: its date cannot be in the future"


class ConformityStatementNeeded(Invalid):
    message = "an end-of-waste delivery needs its statement of conformity for the lot"


class RegisterNotKept(Conflict):
    message = "no {register} register for a contract whose material travels as {route}"


class DocumentTooLarge(Invalid):
    message = "a document is at most {limit} MB"


class DocumentEmpty(Invalid):
    message = "the document is empty"


class SigningUnavailable(Unavailable):
    message = (
        "the contract cannot be signed now: the platform's certificate authority is not "
        "available; nothing was changed, retry later"
    )
