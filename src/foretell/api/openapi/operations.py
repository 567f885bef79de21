"""Every route foretell serves, described: a declarative table the document is built from.

Add a route's description here (or with `foretell.api.openapi.describe` from its own module)
when adding the route; tests/api/test_openapi.py fails for a route the document lacks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from foretell.api.openapi.schemas import Schema, ref


@dataclass(frozen=True)
class Operation:
    """One method on one path. `path` is without /v1: `v1` says it is served both ways."""

    method: str
    path: str
    operation_id: str
    summary: str
    #: status -> (description, {media type: schema}); 401 is added where `auth`
    responses: dict[int, tuple[str, dict[str, Schema]]]
    parameters: tuple[dict[str, Any], ...] = ()
    body: dict[str, Any] | None = None
    auth: bool = True
    v1: bool = True
    tags: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def json(name: str, description: str = "OK") -> tuple[str, dict[str, Schema]]:
    """A JSON response of the component schema `name`."""
    return description, {"application/json": ref(name)}


def problem(description: str) -> tuple[str, dict[str, Schema]]:
    """A problem-details error response."""
    return description, {"application/problem+json": ref("Problem")}


def path_param(name: str, description: str) -> dict[str, Any]:
    """A required path parameter (one segment)."""
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "minLength": 1},
    }


def query_param(name: str, description: str, schema: Schema | None = None) -> dict[str, Any]:
    """An optional query parameter."""
    return {
        "name": name,
        "in": "query",
        "description": description,
        "schema": schema or {"type": "string"},
    }


def header(name: str, description: str) -> dict[str, Any]:
    """An optional request header."""
    return {"name": name, "in": "header", "description": description, "schema": {"type": "string"}}


def json_body(name: str) -> dict[str, Any]:
    """A required JSON request body of the component schema `name`."""
    return {"required": True, "content": {"application/json": {"schema": ref(name)}}}


BAD = problem("The request can't be read (bad JSON, a malformed form or parameter)")
NOT_FOUND = problem("No such resource (for this account)")
TOO_LARGE = problem("The body or file is over the size limit")
INVALID = problem("Some fields are invalid: each is listed in invalid_fields")
UNAVAILABLE = problem("The model can't take predictions now")
THROTTLED = problem(
    "The token's rate limit or the model's queue cap was reached; nothing was created. "
    "Try again after Retry-After seconds"
)

_ID = path_param("id", "The prediction's id")
_OWNER, _NAME = path_param("owner", "Model owner"), path_param("name", "Model name")
_CURSOR = query_param("cursor", "The page to fetch, from a `next` or `previous` link")
_LIMIT = query_param(
    "limit", "At most this many items (1-100, default 100)",
    {"type": "integer", "minimum": 1, "maximum": 100},
)  # fmt: skip
_CREATE_HEADERS = (
    header("Prefer", "`wait` or `wait=N` (1-60): hold the response until done or N seconds"),
    header("Cancel-After", "Cancel the prediction after this long: `90`, `90s`, `1h30m`"),
    header("X-Foretell-Priority", "foretell: the queue level, 0 (first, the default) to 2"),
    header("X-Foretell-Queue-TTL", "foretell: cancel it if still queued after this long"),
)
_CREATED = (
    "Created; `Location` is its URL",
    {"application/json": ref("Prediction")},
)

PREDICTIONS = [
    Operation(
        "post", "/predictions", "predictions.create", "Create a prediction of a version",
        {201: _CREATED, 400: BAD, 404: NOT_FOUND, 413: TOO_LARGE, 422: INVALID,
         429: THROTTLED, 503: UNAVAILABLE},
        _CREATE_HEADERS, json_body("PredictionRequest"), tags=("predictions",),
    ),
    Operation(
        "get", "/predictions", "predictions.list", "List predictions, newest first",
        {200: json("PredictionPage"), 400: BAD, 422: INVALID},
        (_CURSOR, _LIMIT,
         query_param("created_after", "RFC 3339", {"type": "string", "format": "date-time"}),
         query_param("created_before", "RFC 3339", {"type": "string", "format": "date-time"})),
        tags=("predictions",),
    ),
    Operation(
        "get", "/predictions/{id}", "predictions.get", "Get a prediction",
        {200: json("Prediction"), 404: NOT_FOUND}, (_ID,), tags=("predictions",),
    ),
    Operation(
        "post", "/predictions/{id}/cancel", "predictions.cancel", "Cancel a prediction",
        {200: json("Prediction"), 404: NOT_FOUND}, (_ID,), tags=("predictions",),
    ),
    Operation(
        "get", "/predictions/{id}/webhooks", "predictions.webhooks",
        "Each webhook delivery of a prediction and its outcome (foretell's addition)",
        {200: json("WebhookDeliveries"), 404: NOT_FOUND}, (_ID,), tags=("predictions",),
    ),
]  # fmt: skip

MODELS = [
    Operation(
        "get", "/models", "models.list", "List the hosted models",
        {200: json("ModelPage"), 422: INVALID}, (_LIMIT,), tags=("models",),
        extra={"x-foretell-query": "QUERY /models with the search text as the body searches "
               "the models (OpenAPI 3.1 has no QUERY method)"},
    ),
    Operation(
        "get", "/models/{owner}/{name}", "models.get", "Get a model",
        {200: json("Model"), 404: NOT_FOUND}, (_OWNER, _NAME), tags=("models",),
    ),
    Operation(
        "post", "/models/{owner}/{name}/predictions", "models.predictions.create",
        "Create a prediction of a model's current version",
        {201: _CREATED, 400: BAD, 404: NOT_FOUND, 413: TOO_LARGE, 422: INVALID,
         429: THROTTLED, 503: UNAVAILABLE},
        (_OWNER, _NAME, *_CREATE_HEADERS), json_body("ModelPredictionRequest"),
        tags=("models",),
    ),
    Operation(
        "get", "/models/{owner}/{name}/versions", "models.versions.list",
        "List a model's versions", {200: json("VersionPage"), 404: NOT_FOUND},
        (_OWNER, _NAME), tags=("models",),
    ),
    Operation(
        "get", "/models/{owner}/{name}/versions/{version}", "models.versions.get",
        "Get a model version", {200: json("Version"), 404: NOT_FOUND},
        (_OWNER, _NAME, path_param("version", "The version id")), tags=("models",),
    ),
    Operation(
        "get", "/models/{owner}/{name}/readme", "models.readme.get",
        "A model's README (Markdown)",
        {200: ("The README", {"text/plain": {"type": "string"}}), 404: NOT_FOUND},
        (_OWNER, _NAME), tags=("models",),
    ),
    Operation(
        "get", "/models/{owner}/{name}/examples", "models.examples.list",
        "A model's example predictions", {200: json("ExamplePage"), 404: NOT_FOUND},
        (_OWNER, _NAME), tags=("models",),
    ),
    Operation(
        "get", "/search", "search", "Search the hosted models",
        {200: json("SearchResults"), 400: BAD, 422: INVALID},
        ({**query_param("query", "Words every match contains", {"type": "string"}),
          "required": True},
         query_param("limit", "At most this many models (1-50, default 20)",
                     {"type": "integer", "minimum": 0})),
        tags=("models",),
    ),
    Operation(
        "get", "/hardware", "hardware.list", "What models run on",
        {200: json("Hardware")}, tags=("account",),
    ),
    Operation(
        "get", "/account", "account.get", "The token's account",
        {200: json("Account")}, tags=("account",),
    ),
    Operation(
        "get", "/webhooks/default/secret", "webhooks.default.secret.get",
        "The key webhooks are signed with", {200: json("WebhookSecret")}, tags=("account",),
    ),
]  # fmt: skip

_FILE_ID = path_param("id", "The file's id")
_ANY_FILE = {"*/*": {"type": "string", "format": "binary"}}

FILES = [
    Operation(
        "post", "/files", "files.create", "Upload a file",
        {201: json("File", "Created"), 400: BAD, 413: TOO_LARGE, 422: INVALID},
        body={"required": True,
              "content": {"multipart/form-data": {"schema": ref("FileUpload")}}},
        tags=("files",),
    ),
    Operation(
        "get", "/files", "files.list", "List uploaded files, newest first",
        {200: json("FilePage"), 400: BAD, 422: INVALID}, (_CURSOR, _LIMIT), tags=("files",),
    ),
    Operation(
        "get", "/files/{id}", "files.get", "Get a file's details",
        {200: json("File"), 404: NOT_FOUND}, (_FILE_ID,), tags=("files",),
    ),
    Operation(
        "delete", "/files/{id}", "files.delete", "Delete a file",
        {204: ("Deleted", {}), 404: NOT_FOUND}, (_FILE_ID,), tags=("files",),
    ),
    Operation(
        "get", "/files/{id}/download", "files.download", "Download a file's bytes",
        {200: ("The file", _ANY_FILE), 404: NOT_FOUND}, (_FILE_ID,), tags=("files",),
    ),
    Operation(
        "get", "/outputs/{path}", "outputs.get",
        "An output file, by the signed URL a prediction's output gives (no token needed)",
        {200: ("The file", _ANY_FILE), 404: NOT_FOUND},
        (path_param("path", "The file's key (several segments)"),
         query_param("expiry", "Signed expiry time"),
         query_param("signature", "Signature over path and expiry")),
        auth=False, tags=("files",),
    ),
    Operation(
        "get", "/streams/{account}/{id}/{tag}", "predictions.stream",
        "A prediction's events as Server-Sent Events (the URL in urls.stream; no token needed)",
        {200: ("output, logs, error and done events", {"text/event-stream": {"type": "string"}}),
         404: NOT_FOUND, 422: INVALID},
        (path_param("account", "The prediction's account"), _ID,
         path_param("tag", "The URL's signature"),
         header("Last-Event-ID", "Resume after this event id"),
         query_param("last_event_id", "Resume after this event id (for clients without "
                     "headers)")),
        auth=False, tags=("predictions",),
    ),
]  # fmt: skip

DOCUMENT = Operation(
    "get", "/openapi.json", "openapi.get", "This document",
    {200: ("foretell's OpenAPI 3.1 document", {"application/json": {"type": "object"}})},
    auth=False, v1=False, tags=("meta",),
)  # fmt: skip

OPERATIONS: list[Operation] = [*PREDICTIONS, *MODELS, *FILES, DOCUMENT]
