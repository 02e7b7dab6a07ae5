"""One handler for every error: bodies are {"error": name, "detail": message, "field": ...}."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import DomainError

log = logging.getLogger("symbiose.api")


class ErrorBody(BaseModel):
    """Every error's body (documented in the OpenAPI for 401, 413, 429...)."""

    error: str
    detail: str
    field: str | None = None


def error_response(description: str) -> dict[str, object]:
    """An OpenAPI `responses` entry for an error status, with the one error schema."""
    return {"model": ErrorBody, "description": description}


# Where the OpenAPI keeps ErrorBody (every route lists 413 with it, so it is always there).
ERROR_SCHEMA_REF = "#/components/schemas/ErrorBody"
UNAUTHORIZED = error_response("No valid credential (missing, wrong, expired or revoked)")
TOO_LARGE = error_response("The request body exceeds its size limit")
RATE_LIMITED = error_response("Too many requests: retry after the Retry-After header's seconds")


def error_body(name: str, detail: str, field: str | None = None) -> dict[str, str]:
    body = {"error": name, "detail": detail}
    if field:
        body["field"] = field
    return body


def _location(loc: tuple[object, ...] | list[object]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form", "cookie")]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        body: dict[str, object] = {**exc.extra, **error_body(exc.name, exc.detail, exc.field)}
        retry_after = getattr(exc, "retry_after", None)
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        return JSONResponse(body, status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [f"{_location(e['loc'])}: {e['msg']}" for e in exc.errors()]
        first = exc.errors()[0] if exc.errors() else {"loc": ()}
        return JSONResponse(
            error_body("Invalid", "; ".join(problems), _location(first["loc"])), status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        names = {
            401: "Unauthorized",
            403: "Forbidden",
            404: "NotFound",
            405: "MethodNotAllowed",
            413: "TooLarge",
        }
        name = names.get(exc.status_code, "HTTPError")
        return JSONResponse(
            error_body(name, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        # A concurrent request wrote the same unique value first; nothing of this one was kept.
        return JSONResponse(
            error_body("Conflict", "this conflicts with a record written meanwhile"),
            status_code=409,
        )

    @app.exception_handler(OperationalError)
    async def _busy(_: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database busy: %s", type(exc.orig).__name__)
        return JSONResponse(
            error_body("Unavailable", "the database is busy, try again"), status_code=503
        )
