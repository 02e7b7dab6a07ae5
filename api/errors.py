"""One handler for every error: bodies are {"error": name, "detail": message, "field": ...,
"request_id": ...}, JSON whatever went wrong, an unexpected exception included."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

from api.request_id import HEADER, request_id_of
from core.errors import DomainError, log_unexpected

log = logging.getLogger("symbiose.api")


class ErrorBody(BaseModel):
    """Every error's body, whatever the status: `field` names the input at fault (null when no
    one input is), `request_id` is the `X-Request-ID` header of the answer, to quote to support.
    Some errors add machine-readable context (an import's `job_id` and `rows`)."""

    error: str
    detail: str
    field: str | None
    request_id: str


def error_response(description: str) -> dict[str, object]:
    """An OpenAPI `responses` entry for an error status, with the one error schema."""
    return {"model": ErrorBody, "description": description}


UNAUTHORIZED = error_response("No valid credential (missing, wrong, expired or revoked)")
RATE_LIMITED = error_response("Too many requests: retry after the Retry-After header's seconds")

# Starlette's and FastAPI's own refusals, by status.
HTTP_ERROR_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    413: "TooLarge",
    415: "UnsupportedMediaType",
    429: "RateLimited",
}


def error_body(
    scope: Scope, name: str, detail: str, field: str | None = None
) -> dict[str, str | None]:
    return {"error": name, "detail": detail, "field": field, "request_id": request_id_of(scope)}


def _location(loc: tuple[object, ...] | list[object]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form", "cookie")]
    return ".".join(parts) or "body"


def _problem(error: Mapping[str, Any]) -> tuple[str, str]:
    """(field, message) of one validation error; a body that is not JSON at all is the body's."""
    if error.get("type") == "json_invalid":
        return "body", "the body is not valid JSON"
    return _location(error["loc"]), str(error["msg"])


def _json(scope: Scope, status: int, body: dict[str, Any], **kwargs: Any) -> JSONResponse:
    response = JSONResponse(body, status_code=status, **kwargs)
    # Set here too: a 500 is sent by Starlette's outermost middleware, outside the request id's.
    response.headers[HEADER] = request_id_of(scope)
    return response


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        body = {**exc.extra, **error_body(request.scope, exc.name, exc.detail, exc.field)}
        retry_after = getattr(exc, "retry_after", None)
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        return _json(request.scope, exc.status_code, body, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [_problem(e) for e in exc.errors()] or [("body", "invalid request")]
        detail = "; ".join(f"{field}: {message}" for field, message in problems)
        body = error_body(request.scope, "Invalid", detail, problems[0][0])
        return _json(request.scope, 422, body)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        name = HTTP_ERROR_NAMES.get(exc.status_code, "HTTPError")
        body = error_body(request.scope, name, str(exc.detail))
        return _json(request.scope, exc.status_code, body, headers=exc.headers)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        # A concurrent request wrote the same unique value first; nothing of this one was kept.
        detail = "this conflicts with a record written meanwhile"
        return _json(request.scope, 409, error_body(request.scope, "Conflict", detail))

    @app.exception_handler(OperationalError)
    async def _busy(request: Request, exc: OperationalError) -> JSONResponse:
        request_id = request_id_of(request.scope)
        log.warning("database busy: %s, request id %s", type(exc.orig).__name__, request_id)
        detail = "the database is busy, try again"
        return _json(request.scope, 503, error_body(request.scope, "Unavailable", detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return unexpected_error(request.scope, exc)


def unexpected_error(scope: Scope, exc: Exception) -> JSONResponse:
    """The 500 of an exception no handler knows. Neither its message nor its values leave the
    server, nor reach the log (they may hold a company's data): its type and where it was raised
    do, with the request id the client is given."""
    request_id = request_id_of(scope)
    log_unexpected(log, exc, request_id)
    detail = f"an unexpected error occurred; it has been recorded as request id {request_id}"
    return _json(scope, 500, error_body(scope, "InternalError", detail))
