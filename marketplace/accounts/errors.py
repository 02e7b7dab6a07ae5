"""Errors of this domain: the shared hierarchy, re-exported so callers import from their domain,
and one class per case a user can meet (translated by class in web/messages.py)."""

from core.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited, TooLarge, Unauthorized

__all__ = ["Conflict", "Forbidden", "Invalid", "NotFound", "TooLarge", "Unauthorized"]


class WrongCredentials(Unauthorized):
    message = "wrong e-mail or password"


class TooManyFailedLogins(RateLimited):
    message = "too many failed logins, retry in {seconds} s"


class TokenRequired(Unauthorized):
    message = "a bearer token is required"


class TokenNotValid(Unauthorized):
    message = "invalid or revoked token"


class StaffOnly(Forbidden):
    message = "reserved to the facilitating association"


class CompanyAccountOnly(Forbidden):
    message = "this action belongs to a company account"


class CompanyAdminOnly(Forbidden):
    message = "only the company's administrator may do this"


class PasswordTooShort(Invalid):
    message = "password must have at least {count} characters"


class NotAnEmail(Invalid):
    message = "not an e-mail address"


class CompanyRoleNeedsCompany(Invalid):
    message = "a company role needs a company"


class StaffHaveNoCompany(Invalid):
    message = "the association's staff belong to no company"


class EmailTaken(Conflict):
    message = "an account with this e-mail already exists"


class AddingUsersAdminOnly(Invalid):
    message = "only a company administrator may add users"


class CompanyRolesOnly(Invalid):
    message = "a company administrator adds company roles only"


class PlatformAdminsOnly(Invalid):
    message = "only a platform administrator adds platform administrators"


class TokenLifetimeNotPositive(Invalid):
    message = "a token's lifetime must be positive"


class NoSuchToken(NotFound):
    message = "no such token"


class TooManyPasswordResets(RateLimited):
    message = "too many password reset requests, retry in {seconds} s"


class ResetLinkNotValid(Invalid):
    # One answer for unknown, used and expired links: which one it was helps nobody but a guesser.
    message = "this password reset link is not valid: it was used, it expired or it is wrong"


class PasswordsDiffer(Invalid):
    message = "the two passwords differ"
