"""The one error hierarchy: every domain error carries its HTTP status and a human message."""

from __future__ import annotations


class DomainError(Exception):
    status_code = 400

    def __init__(
        self, detail: str, *, field: str | None = None, extra: dict[str, object] | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        # More machine-readable context for the error body (e.g. the import job to read).
        self.extra = extra or {}

    @property
    def name(self) -> str:
        return type(self).__name__


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


class TooLarge(DomainError):
    status_code = 413


class RateLimited(DomainError):
    status_code = 429

    def __init__(
        self,
        detail: str,
        *,
        retry_after: int | None = None,
        field: str | None = None,
        extra: dict[str, object] | None = None,
    ) -> None:
        super().__init__(detail, field=field, extra=extra)
        # Seconds until a retry can succeed: the Retry-After header of the answer.
        self.retry_after = retry_after
