"""Errors of this domain: the shared hierarchy, re-exported so callers import from their domain,
and one class per case a user can meet (translated by class in web/messages.py)."""

from core.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge, Unauthorized

__all__ = ["Conflict", "Forbidden", "Invalid", "NotFound", "TooLarge", "Unauthorized"]


class CursorNotValid(Invalid):
    message = "this cursor is not valid for this search"


class NotYourSite(NotFound):
    message = "no such site among yours"


class ListingExists(Conflict):
    message = "this flow already has a listing"


class WithdrawnFlowNotListed(Invalid):
    message = "a withdrawn flow cannot be listed"


class ListingStatusRefuses(Conflict):
    message = "a {status} listing cannot {event}"


class WithdrawnFlowNotPooled(Invalid):
    message = "a withdrawn flow cannot be pooled"


class PoolMixesKinds(Invalid):
    message = "pooled flows share one direction and kind"


class PoolMixesMaterials(Invalid):
    message = "pooled flows share one material (List of Waste code)"


class PoolMixesSubchapters(Invalid):
    message = "pooled flows share one List of Waste subchapter (its first four digits)"


class PoolMixesHazard(Invalid):
    message = "pooled flows are all hazardous or all non-hazardous"


class PoolMixesUnits(Invalid):
    message = (
        "pooled flows must share one unit: a gas metered in energy (MWh) is not pooled with a "
        "gas metered in volume (m³)"
    )


class PoolArea(Invalid):
    message = "a pool covers a département or a région"


class PoolSpansDepartements(Invalid):
    message = "pooled flows lie in one departement"


class PoolSpansRegions(Invalid):
    message = "pooled flows lie in one region"


class PoolOfOneCompany(Invalid):
    message = "a pool gathers flows of at least two companies"


class NoSuchListing(NotFound):
    # The same for a listing that does not exist and one that is not the reader's to see.
    message = "no such listing"


class SignInForDistances(Invalid):
    message = "sign in to measure distances from one of your sites"
