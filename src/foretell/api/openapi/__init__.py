"""foretell's own OpenAPI 3.1 document, built from the operation table, served at
/openapi.json. Other parts describe their routes with `describe` (and `add_schemas`)."""

from __future__ import annotations

import functools
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

import foretell
from foretell.api.openapi import deployments
from foretell.api.openapi.operations import OPERATIONS, Operation, problem
from foretell.api.openapi.schemas import SCHEMAS, Schema
from foretell.api.responses import JSONResponse

__all__ = ["Operation", "add_schemas", "describe", "document", "openapi_json"]

_EXTRA: list[Operation] = []
_EXTRA_SCHEMAS: dict[str, Schema] = {}
_UNAUTHENTICATED = problem("No token, or a token of no account")

_INFO = {
    "title": "foretell",
    "summary": "Cog-style models behind a Replicate-compatible HTTP API",
    "description": (
        "Every `/v1/...` route is also served without the `/v1` prefix (the Python client 1.x "
        "uses base URLs without it). Authenticate with `Authorization: Bearer <token>` (the "
        "legacy `Token <token>` works too). Errors are problem-details JSON; 422s list "
        "`invalid_fields`."
    ),
}


def describe(*operations: Operation) -> None:
    """Add routes to the document (call at import, beside the routes themselves)."""
    _EXTRA.extend(operations)
    document.cache_clear()


def add_schemas(schemas: dict[str, Schema]) -> None:
    """Add component schemas that described routes refer to."""
    _EXTRA_SCHEMAS.update(schemas)
    document.cache_clear()


@functools.cache
def document() -> dict[str, Any]:
    """The whole document: every described operation, at each path it is served on."""
    paths: dict[str, dict[str, Any]] = {}
    for op in [*OPERATIONS, *deployments.OPERATIONS, *_EXTRA]:
        spellings = [("/v1" + op.path, op.operation_id)] if op.v1 else []
        spellings.append((op.path, f"{op.operation_id}.unprefixed" if op.v1 else op.operation_id))
        for path, operation_id in spellings:
            paths.setdefault(path, {})[op.method] = _operation(op, operation_id)
    return {
        "openapi": "3.1.0",
        "info": {**_INFO, "version": foretell.__version__},
        "paths": paths,
        "components": {
            "schemas": {**SCHEMAS, **deployments.SCHEMAS, **_EXTRA_SCHEMAS},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "tags": [
            {"name": n}
            for n in ("predictions", "deployments", "models", "files", "account", "meta")
        ],
    }


def _operation(op: Operation, operation_id: str) -> dict[str, Any]:
    responses = {**op.responses, **({401: _UNAUTHENTICATED} if op.auth else {})}
    body: dict[str, Any] = {
        "operationId": operation_id,
        "summary": op.summary,
        "tags": list(op.tags),
        "security": [{"bearer": []}] if op.auth else [],
        "responses": {
            str(status): {
                "description": description,
                **({"content": {t: {"schema": s} for t, s in media.items()}} if media else {}),
            }
            for status, (description, media) in sorted(responses.items())
        },
    }
    if op.parameters:
        body["parameters"] = list(op.parameters)
    if op.body is not None:
        body["requestBody"] = op.body
    return {**body, **op.extra}


async def openapi_json(request: Request) -> Response:
    """GET /openapi.json — this server's OpenAPI 3.1 document."""
    return JSONResponse(document())
