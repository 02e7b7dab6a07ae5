"""Errors of this domain: the shared hierarchy, re-exported so callers import from their domain,
and one class per case a user can meet (translated by class in web/messages.py)."""

from core.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge, Unauthorized

__all__ = ["Conflict", "Forbidden", "Invalid", "NotFound", "TooLarge", "Unauthorized"]


class SearchNameLength(Invalid):
    message = "a name of 1 to {count} characters"


class TooManySavedSearches(Invalid):
    message = "at most {count} saved searches per person"


class SearchesForMembers(Forbidden):
    message = "saved searches belong to company members and the facilitator"


class PagingNotSaved(Invalid):
    message = "a saved search keeps filters only, not {keys}"


class NoSuchSavedSearch(NotFound):
    message = "no such saved search"


class NoSuchNotification(NotFound):
    message = "no such notification"
