"""The error statuses of the OpenAPI, in one place: read from each route, so a route added later
documents what it can answer without anyone listing it by hand.

Every error is the one `ErrorBody` (api/errors.py). What each operation can answer:
- every operation: 413 (the request guard bounds any body), 500 (an unexpected error) and 503
  (the database busy);
- a route that requires a credential: 401 and 403 (a role or company that may not);
- a public route that reads an optional token declares its 401 itself (`responses=`), as a route
  with a rate limit declares its 429: neither can be read from the route's signature;
- an id anywhere in the input (path, query or body): 404, since a service looks it up (and
  answers 404 rather than 403 for another company's object);
- a request body: 400 (one the framework cannot parse: bad multipart, wrong encoding) and 422;
- any parameter: 422 (FastAPI's validation, the service's own checks);
- a write (POST, PUT, PATCH, DELETE): 409 (a state that forbids it, a unique value taken) and 422.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts

from api.errors import ErrorBody

ERROR_SCHEMA = "ErrorBody"
ERROR_REF = f"#/components/schemas/{ERROR_SCHEMA}"
WRITES = {"post", "put", "patch", "delete"}
DESCRIPTIONS = {
    "400": "The body could not be parsed (malformed multipart or form, wrong encoding)",
    "401": "No valid credential (missing, wrong, expired or revoked)",
    "403": "The credential's role or company may not do this",
    "404": "An object named by the request does not exist or is not yours to see",
    "409": "The object's current state forbids this, or a concurrent write came first",
    "413": "The request body exceeds its size limit",
    "422": "Invalid input: `field` names the first input at fault, `detail` says why",
    "429": "Too many requests: retry after the Retry-After header's seconds",
    "500": "An unexpected error: nothing internal is shown; quote the request id",
    "503": "The database is busy: retry",
}
# FastAPI's own description of its 422, replaced by ours.
FASTAPI_DESCRIPTIONS = (None, "Validation Error")
# FastAPI's own validation schemas, which no answer of this API has.
FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for child in dependant.dependencies:
        if child.call is not None:
            yield child.call
        yield from _calls(child)


def _names_an_id(schema: Any, components: dict[str, Any], seen: frozenset[str]) -> bool:
    """Whether a JSON schema holds a UUID anywhere (directly, in a list, a union or a $ref)."""
    if isinstance(schema, list):
        return any(_names_an_id(item, components, seen) for item in schema)
    if not isinstance(schema, dict):
        return False
    if schema.get("format") == "uuid":
        return True
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        return name not in seen and _names_an_id(components.get(name), components, seen | {name})
    children: list[Any] = list((schema.get("properties") or {}).values())
    children += [schema[k] for k in ("items", "anyOf", "oneOf", "allOf") if k in schema]
    return _names_an_id(children, components, seen)


def error_statuses(
    method: str, operation: dict[str, Any], authenticated: bool, components: dict[str, Any]
) -> set[str]:
    """The error statuses an operation can answer (see the module's docstring)."""
    statuses = {"413", "500", "503"}
    parameters = operation.get("parameters", [])
    body = operation.get("requestBody")
    if authenticated:
        statuses |= {"401", "403"}
    if parameters or body:
        statuses.add("422")
    if body:
        statuses.add("400")
    if any(p.get("in") == "path" for p in parameters) or _names_an_id(
        [p.get("schema") for p in parameters]
        + [m.get("schema") for m in (body or {}).get("content", {}).values()],
        components,
        frozenset(),
    ):
        statuses.add("404")
    if method in WRITES:
        statuses |= {"409", "422"}
    return statuses


def document_errors(app: FastAPI, prefix: str, credentials: set[Callable[..., Any]]) -> None:
    """Make `app.openapi()` list each operation's error statuses, all with `ErrorBody`.
    `credentials`: the dependencies that make a route require a credential."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components[ERROR_SCHEMA] = ErrorBody.model_json_schema(ref_template=ERROR_REF)
        for name in FASTAPI_VALIDATION_SCHEMAS:
            components.pop(name, None)
        for route in iter_route_contexts(app.routes):
            dependant: Dependant | None = getattr(route, "dependant", None)
            path = route.path_format or ""
            if dependant is None or not path.startswith(prefix) or path not in schema["paths"]:
                continue
            authenticated = any(call in credentials for call in _calls(dependant))
            for method in route.methods or ():
                operation = schema["paths"][path].get(method.lower())
                if operation is None:
                    continue
                responses = operation["responses"]
                needed = error_statuses(method.lower(), operation, authenticated, components)
                for status in needed | {s for s in responses if s[0] in "45"}:
                    entry = responses.setdefault(status, {})
                    if status in DESCRIPTIONS and entry.get("description") in FASTAPI_DESCRIPTIONS:
                        entry["description"] = DESCRIPTIONS[status]
                    entry.setdefault("description", "Error")
                    entry["content"] = {"application/json": {"schema": {"$ref": ERROR_REF}}}
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
