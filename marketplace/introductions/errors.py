"""Errors of this domain: the shared hierarchy, re-exported so callers import from their domain,
and one class per case a user can meet (translated by class in web/messages.py)."""

from core.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited, Unavailable

__all__ = ["Conflict", "Forbidden", "Invalid", "NotFound", "RateLimited", "Unavailable"]


class NoSuchIntroduction(NotFound):
    message = "no such introduction"


class NoSuchNotice(NotFound):
    message = "no such notice"


class NotAvailable(NotFound):
    """One answer for a listing that is withdrawn, never existed, is not shown to this company,
    or whose owner declined this company: the requester cannot tell them apart."""

    message = "this listing is not available"


class StateRefuses(Conflict):
    message = "cannot {event}: the introduction is {state}"


class NotYourDecision(Forbidden):
    message = "{event} is not for the {party} of this introduction"


class OneSourceNeeded(Invalid):
    message = "give exactly one of listing_id and match_id"


class OwnListing(Invalid):
    message = "this is your own company's listing"


class RequesterNeeded(Invalid):
    message = "the facilitator names the requesting company (requester_company_id)"


class NotYourFlow(NotFound):
    message = "choose one of your own flows"


class AlreadyExpressed(Conflict):
    message = "your company already expressed interest in this listing"


class TooManyInterests(RateLimited):
    message = "at most {limit} interests per company in 24 hours: retry in {hours} h"


class MessageNotPublic(Invalid):
    message = "the message would name or locate a company ({kinds}): rewrite it without that"


class MessagesClosed(Conflict):
    message = "no more messages: the introduction is {state}"


class RevealUnavailable(Unavailable):
    message = (
        "identities cannot be revealed now: the identity vault's key-encryption key is not "
        "available on the server; nothing was changed, retry once it is restored"
    )
