"""The one error hierarchy: every domain error carries its HTTP status and a human message.

The kinds below (Invalid, Conflict, NotFound...) give the HTTP status and the API's `error` name.
Each case a user can meet is a subclass of a kind in its domain's `errors.py`: its English
`detail` is its `message` formatted with its parameters, and the web pages translate it by class
(web/messages.py), so rewording a message never loses its translation.
"""

from __future__ import annotations

import logging
import traceback
from typing import ClassVar


class DomainError(Exception):
    status_code = 400
    # The English text of a case (str.format with the error's parameters); the kinds have none.
    message: ClassVar[str] = ""

    def __init__(
        self,
        detail: str | None = None,
        *,
        field: str | None = None,
        extra: dict[str, object] | None = None,
        **params: object,
    ) -> None:
        detail = self.message.format(**params) if detail is None else detail
        super().__init__(detail)
        self.detail = detail
        self.field = field
        # More machine-readable context for the error body (e.g. the import job to read).
        self.extra = extra or {}
        # What the case's translations are formatted with (web/messages.py).
        self.params = params

    @property
    def name(self) -> str:
        """The kind's name (Invalid, Conflict...), the nearest class giving a status: the API's
        clients rely on these few names, whichever case of the kind was met."""
        kind = next(c for c in type(self).__mro__ if "status_code" in vars(c))
        return kind.__name__


def log_unexpected(log: logging.Logger, exc: BaseException, request_id: str) -> None:
    """Log an exception no handler knows, as the API and the pages both do: its type and where it
    was raised, with the request id the client is given. Neither its message nor its values
    (they may hold a company's data), so never the exception itself for a handler to print."""
    where = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
    log.error("unexpected %s, request id %s\n%s", type(exc).__name__, request_id, where.rstrip())


class NotFound(DomainError):
    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Unauthorized(DomainError):
    status_code = 401


class Conflict(DomainError):
    status_code = 409


class Invalid(DomainError):
    status_code = 422


class Unavailable(DomainError):
    """Something the request needs is missing on the server's side (a key, a service): the
    request was right and may succeed later, so not a 4xx of the client's, and not a 500."""

    status_code = 503


class TooLarge(DomainError):
    status_code = 413


class RateLimited(DomainError):
    status_code = 429

    def __init__(
        self,
        detail: str | None = None,
        *,
        retry_after: int | None = None,
        field: str | None = None,
        extra: dict[str, object] | None = None,
        **params: object,
    ) -> None:
        super().__init__(detail, field=field, extra=extra, **params)
        # Seconds until a retry can succeed: the Retry-After header of the answer.
        self.retry_after = retry_after


# --- the cases met at the edge, before any domain ---------------------------------------------


class RefusedCharacter(Invalid):
    """A web form's one-line text holding a character the schemas refuse (core.inputs)."""

    message = "contains a character that is not allowed: {character}"


class TooManySearches(RateLimited):
    message = "too many searches, retry in {seconds} s"


class ValueRefused(Invalid):
    """A schema's refusal (pydantic) met inside a service, naming the first field at fault: the
    pages say it by its pydantic `type` and limits, as they say a form's (web/messages.py)."""

    message = "{where}: {reason}"
