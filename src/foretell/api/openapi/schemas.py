"""The component schemas of foretell's OpenAPI document: the JSON bodies it sends and takes."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    """`schema` or null."""
    return {"anyOf": [schema, {"type": "null"}]}


_STRING: Schema = {"type": "string"}
_TIME: Schema = {"type": "string", "format": "date-time"}
_MAYBE_TIME = nullable(_TIME)
_MAYBE_STRING = nullable(_STRING)
_OBJECT: Schema = {"type": "object"}


def page(item: Schema) -> Schema:
    """A paginated list: absolute `next`/`previous` URLs and the page's results."""
    return {
        "type": "object",
        "required": ["next", "previous", "results"],
        "properties": {
            "next": _MAYBE_STRING,
            "previous": _MAYBE_STRING,
            "results": {"type": "array", "items": item},
        },
    }


PROBLEM: Schema = {
    "type": "object",
    "description": "An error, as RFC 9457 problem details (Replicate's shape).",
    "required": ["title", "detail", "status"],
    "properties": {
        "title": _STRING,
        "detail": _STRING,
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "invalid_fields": {
            "type": "array",
            "description": "On 422s: each invalid field (`input.<name>` for model inputs).",
            "items": {
                "type": "object",
                "required": ["type", "field", "description"],
                "properties": {"type": _STRING, "field": _STRING, "description": _STRING},
            },
        },
    },
}

_STATUS: Schema = {
    "type": "string",
    "enum": ["starting", "processing", "succeeded", "failed", "canceled"],
}
_EVENTS: Schema = {"type": "string", "enum": ["start", "output", "logs", "completed"]}
_PRIORITY: Schema = {"type": "integer", "enum": [0, 1, 2]}

PREDICTION: Schema = {
    "type": "object",
    "required": [
        "id",
        "model",
        "version",
        "input",
        "logs",
        "output",
        "data_removed",
        "error",
        "status",
        "source",
        "created_at",
        "started_at",
        "completed_at",
        "metrics",
        "urls",
    ],  # fmt: skip
    "properties": {
        "id": _STRING,
        "model": {"type": "string", "description": "owner/name"},
        "version": _STRING,
        "input": nullable(_OBJECT),
        "logs": _MAYBE_STRING,
        "output": {"description": "The model's output; file outputs are signed URLs."},
        "data_removed": {"type": "boolean"},
        "error": _MAYBE_STRING,
        "status": _STATUS,
        "source": {"type": "string", "description": "api, or web for the playground"},
        "created_at": _TIME,
        "started_at": _MAYBE_TIME,
        "completed_at": _MAYBE_TIME,
        "metrics": _OBJECT,
        "urls": {
            "type": "object",
            "required": ["get", "cancel", "stream", "web"],
            "properties": {k: _STRING for k in ("get", "cancel", "stream", "web")},
        },
        "webhook": _STRING,
        "webhook_events_filter": {"type": "array", "items": _EVENTS},
        "deadline": _TIME,
        "deployment": {"type": "string", "description": "owner/name, if made through one"},
        "priority": {**_PRIORITY, "description": "foretell: its queue level, when not 0"},
        "queue_ttl": {"type": "number", "description": "foretell: its queue TTL, seconds"},
        "queue_position": {
            "type": "integer",
            "minimum": 0,
            "description": "foretell: while it waits (`starting`), how many predictions of "
            "its model are claimed before it (0: next); absent otherwise",
        },
    },
}

_DURATION: Schema = {
    "anyOf": [
        {"type": "string", "maxLength": 64, "examples": ["90", "90s", "1h30m"]},
        {"type": "number", "minimum": 5, "maximum": 2592000},
    ],
    "description": "When to cancel the prediction, from creation: 5 s to 30 days.",
}

MODEL_PREDICTION_REQUEST: Schema = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "input": {"type": "object", "description": "The model's inputs (see its schema)."},
        "stream": {"type": "boolean", "description": "Accepted for compatibility; ignored."},
        "webhook": {"type": "string", "format": "uri", "description": "An https URL."},
        "webhook_events_filter": {"type": "array", "items": _EVENTS},
        "webhook_completed": {"type": "string", "format": "uri"},
        "lifetime": _DURATION,
        "priority": {
            **_PRIORITY,
            "default": 0,
            "description": "foretell: the queue level; 0 is claimed first, then 1, then 2 "
            "(as Baseten's). Or the X-Foretell-Priority header.",
        },
        "queue_ttl": {
            "anyOf": [
                {"type": "string", "maxLength": 64, "examples": ["30", "10m"]},
                {"type": "number", "minimum": 1, "maximum": 2592000},
            ],
            "description": "foretell: cancel it if it still waits in the queue this long "
            "after creation (1 s to 30 days; default: the server's --queue-ttl). Or the "
            "X-Foretell-Queue-TTL header.",
        },
    },
}

PREDICTION_REQUEST: Schema = {
    **MODEL_PREDICTION_REQUEST,
    "required": ["version"],
    "properties": {
        "version": {
            "type": "string",
            "minLength": 1,
            "description": "A version id, `owner/name` or `owner/name:version`.",
        },
        **MODEL_PREDICTION_REQUEST["properties"],
    },
}

DELIVERY: Schema = {
    "type": "object",
    "required": ["id", "event", "url", "status", "attempts", "created_at"],
    "properties": {
        "id": _STRING,
        "event": _STRING,
        "url": _STRING,
        "status": {"type": "string", "enum": ["pending", "delivered", "failed"]},
        "attempts": {"type": "integer", "minimum": 0},
        "last_status": nullable({"type": "integer"}),
        "last_error": _MAYBE_STRING,
        "created_at": _TIME,
        "next_attempt_at": _MAYBE_TIME,
        "finished_at": _MAYBE_TIME,
    },
}

VERSION: Schema = {
    "type": "object",
    "required": ["id", "created_at", "cog_version", "openapi_schema"],
    "properties": {
        "id": _STRING,
        "created_at": _MAYBE_TIME,
        "cog_version": _STRING,
        "openapi_schema": {"type": "object", "description": "The model's Cog schema."},
    },
}

MODEL: Schema = {
    "type": "object",
    "required": ["url", "owner", "name", "description", "visibility", "latest_version"],
    "properties": {
        "url": _STRING,
        "owner": _STRING,
        "name": _STRING,
        "description": _MAYBE_STRING,
        "visibility": {"type": "string", "enum": ["public", "private"]},
        "github_url": _MAYBE_STRING,
        "paper_url": _MAYBE_STRING,
        "license_url": _MAYBE_STRING,
        "run_count": {"type": "integer"},
        "cover_image_url": _MAYBE_STRING,
        "default_example": nullable(_OBJECT),
        "latest_version": nullable(ref("Version")),
        "is_official": {"type": "boolean"},
        "created_at": _MAYBE_TIME,
        "setup": nullable(
            {
                "type": "object",
                "description": "foretell's addition: how far the model has come up.",
                "required": ["status"],
                "properties": {"status": _STRING, "error": _MAYBE_STRING},
            }
        ),
    },
}

SEARCH_RESULTS: Schema = {
    "type": "object",
    "required": ["query", "models", "collections", "pages"],
    "properties": {
        "query": _STRING,
        "models": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["model", "metadata"],
                "properties": {"model": ref("Model"), "metadata": _OBJECT},
            },
        },
        "collections": {"type": "array"},
        "pages": {"type": "array"},
    },
}

FILE: Schema = {
    "type": "object",
    "required": [
        "id",
        "name",
        "content_type",
        "size",
        "etag",
        "checksums",
        "metadata",
        "created_at",
        "expires_at",
        "urls",
    ],  # fmt: skip
    "properties": {
        "id": _STRING,
        "name": _STRING,
        "content_type": _STRING,
        "size": {"type": "integer", "minimum": 0},
        "etag": _STRING,
        "checksums": {
            "type": "object",
            "required": ["sha256", "md5"],
            "properties": {"sha256": _STRING, "md5": _STRING},
        },
        "metadata": _OBJECT,
        "created_at": _TIME,
        "expires_at": _TIME,
        "urls": {"type": "object", "required": ["get"], "properties": {"get": _STRING}},
    },
}

FILE_UPLOAD: Schema = {
    "type": "object",
    "required": ["content"],
    "properties": {
        "content": {
            "description": "The file: a file part, or a text field whose text is the file.",
            "anyOf": [{"type": "string", "format": "binary"}, _STRING],
        },
        "filename": {"type": "string", "description": "At most 255 bytes, no NUL."},
        "type": {"type": "string", "description": "The content type."},
        "metadata": {
            "type": "string",
            "description": "A JSON object; or send `metadata[key]` fields.",
        },
    },
}

ACCOUNT: Schema = {
    "type": "object",
    "required": ["type", "username", "name"],
    "properties": {
        "type": {"type": "string", "description": "user or organization"},
        "username": _STRING,
        "name": _STRING,
        "github_url": _MAYBE_STRING,
        "avatar_url": _MAYBE_STRING,
    },
}

HARDWARE: Schema = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["sku", "name"],
        "properties": {"sku": _STRING, "name": _STRING},
    },
}

SECRET: Schema = {
    "type": "object",
    "required": ["key"],
    "properties": {"key": {"type": "string", "description": "The webhook signing key."}},
}

SCHEMAS: dict[str, Schema] = {
    "Problem": PROBLEM,
    "Prediction": PREDICTION,
    "PredictionRequest": PREDICTION_REQUEST,
    "ModelPredictionRequest": MODEL_PREDICTION_REQUEST,
    "PredictionPage": page(ref("Prediction")),
    "WebhookDeliveries": {
        "type": "object",
        "required": ["results"],
        "properties": {"results": {"type": "array", "items": ref("WebhookDelivery")}},
    },
    "WebhookDelivery": DELIVERY,
    "Model": MODEL,
    "ModelPage": page(ref("Model")),
    "Version": VERSION,
    "VersionPage": page(ref("Version")),
    "ExamplePage": page(_OBJECT),
    "SearchResults": SEARCH_RESULTS,
    "File": FILE,
    "FilePage": page(ref("File")),
    "FileUpload": FILE_UPLOAD,
    "Account": ACCOUNT,
    "Hardware": HARDWARE,
    "WebhookSecret": SECRET,
}
