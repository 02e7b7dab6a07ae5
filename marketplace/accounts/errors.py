"""Errors of this domain: the shared hierarchy, re-exported so callers import from their domain,
and one class per case a user can meet (translated by class in web/messages.py)."""

from core.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited, TooLarge, Unauthorized

__all__ = ["Conflict", "Forbidden", "Invalid", "NotFound", "TooLarge", "Unauthorized"]


class WrongCredentials(Unauthorized):
    message = "wrong e-mail or password"


class TooManyFailedLogins(RateLimited):
    message = "too many failed logins, retry in {seconds} s"
