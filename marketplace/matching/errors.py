"""Errors of this domain: the shared hierarchy, re-exported so callers import from their domain,
and one class per case a user can meet (translated by class in web/messages.py)."""

from core.errors import Forbidden, Invalid, NotFound

__all__ = ["Forbidden", "Invalid", "NotFound"]


class NoSuchMatch(NotFound):
    message = "no such match"


class NotAnOffer(Invalid):
    message = "prospects are found for an offer, not a request"
