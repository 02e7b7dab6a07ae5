"""Errors of this domain: the shared hierarchy, re-exported so callers import from their domain,
and one class per case a user can meet (translated by class in web/messages.py)."""

from core.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    TooLarge,
    Unauthorized,
)

__all__ = [
    "Conflict",
    "Forbidden",
    "Invalid",
    "NotFound",
    "RateLimited",
    "TooLarge",
    "Unauthorized",
]


class InvalidSiret(Invalid):
    message = "not a valid SIRET (14 digits with a valid checksum)"


class InvalidNace(Invalid):
    message = "not a NACE class or NAF subclass code, such as 23.51 or 23.51Z"


class UnknownNace(Invalid):
    message = "{code} is not a code of the NAF rév. 2 / NACE Rev. 2 nomenclature"


class UnknownSizeClass(Invalid):
    message = "size class must be one of {choices}"


class SiretTaken(Conflict):
    message = "a company with this SIRET is already registered"


class SiteNameTaken(Conflict):
    message = "this company already has a site with this name"


class NoSuchSite(NotFound):
    message = "no such site"


class OutsideFrance(Invalid):
    message = "position outside France (metropolitan and overseas départements)"


class NotInDepartement(Invalid):
    message = "position is not within a French département"


class MovedTooOften(RateLimited):
    message = (
        "{whose} moved {count} times in the last 24 hours, the most allowed; "
        "the position can change again in {wait} s"
    )


class NoSuchCompany(NotFound):
    # The same for a company that does not exist and another one: its existence is not disclosed.
    message = "no such company"


class IdentityAdminOnly(Forbidden):
    message = "only the company's administrator may change its identity"
