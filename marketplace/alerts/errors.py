"""Errors of this domain: the shared hierarchy, re-exported so callers import from their domain,
and one class per case a user can meet (translated by class in web/messages.py)."""

from core.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge, Unauthorized

__all__ = ["Conflict", "Forbidden", "Invalid", "NotFound", "TooLarge", "Unauthorized"]


class SearchNameLength(Invalid):
    message = "a name of 1 to {count} characters"


class TooManySavedSearches(Invalid):
    message = "at most {count} saved searches per person"
