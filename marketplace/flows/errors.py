"""Errors of this domain: the shared hierarchy, re-exported so callers import from their domain,
and one class per case a user can meet (translated by class in web/messages.py)."""

from core.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge, Unauthorized

__all__ = ["Conflict", "Forbidden", "Invalid", "NotFound", "TooLarge", "Unauthorized"]


class BadMonths(Invalid):
    message = "months are numbers from 1 to 12"


class UnknownMonth(Invalid):
    message = "« {part} » is not a month (use 1 to 12 or a month's name, such as 10-3 or oct-mars)"


class MonthRangeIncomplete(Invalid):
    message = "« {part} » is not a range of months (write it as 10-3 or oct-mars)"


class UnknownLowCode(Invalid):
    message = "unknown List of Waste code (a six-digit entry is expected)"


class HeatHasNoLowCode(Invalid):
    message = "heat carries no List of Waste code"


class HazardousCodeDeclaredSafe(Invalid):
    message = "this code is hazardous and cannot be declared non-hazardous"


class SafeCodeDeclaredHazardous(Invalid):
    message = "this code is non-hazardous; a hazardous waste takes its hazardous (mirror) entry"


class MaterialNeedsLowCode(Invalid):
    message = "a material offer needs its List of Waste code"


class HazardousNeedsLowCode(Invalid):
    message = "a hazardous flow needs its List of Waste code"


class SeasonalNeedsMonths(Invalid):
    message = "a seasonal flow needs the months it runs"


class HeatNeedsTemperature(Invalid):
    message = "heat needs its temperature"


class OfferOnly(Invalid):
    message = "the current route and cost belong to an offer"


class RequestOnly(Invalid):
    message = "the replaced virgin material belongs to a request"


class UnknownOperation(Invalid):
    message = "unknown recovery/disposal operation (R 1…R 13, D 1…D 15)"


class QuantityNotPositive(Invalid):
    message = "quantity must be greater than zero"


class QuantityTooLarge(Invalid):
    message = (
        "the quantity is too large: at most {limit:.0f} of the base unit per year once converted"
    )


class UnknownUnit(Invalid):
    message = "unknown unit for {kind} (use one of: {units})"


class NoSuchFlow(NotFound):
    message = "no such flow"


class FlowWithdrawn(Conflict):
    message = "a withdrawn flow cannot be edited"


class FlowAlreadyWithdrawn(Conflict):
    message = "this flow is already withdrawn"


class WithdrawnFlowNotEdited(NotFound):
    message = "a withdrawn flow is not edited"


class NoSuchLowCode(NotFound):
    message = "no such List of Waste code"
