"""The OpenAPI document's entries for managing models: create, update, delete models and
versions (Replicate's), and pushing a version (foretell's `foretell push`)."""

from __future__ import annotations

from foretell.api.openapi import Operation, add_schemas, describe
from foretell.api.openapi.operations import (
    BAD,
    INVALID,
    NOT_FOUND,
    TOO_LARGE,
    json,
    json_body,
    path_param,
    problem,
)
from foretell.api.openapi.schemas import Schema, nullable

_OWNER = path_param("owner", "The model's owner")
_NAME = path_param("name", "The model's name")
_VERSION = path_param("version", "The version's id")
_FORBIDDEN = problem("The model belongs to another account")
_CONFLICT = problem("That name is taken, or the model still has versions")
_TEXT = nullable({"type": "string"})

_MODEL_FIELDS: dict[str, Schema] = {
    "description": _TEXT,
    "github_url": _TEXT,
    "paper_url": _TEXT,
    "license_url": _TEXT,
    "cover_image_url": _TEXT,
}
_CREATE: Schema = {
    "type": "object",
    "required": ["owner", "name", "visibility", "hardware"],
    "properties": {
        "owner": {"type": "string"},
        "name": {"type": "string"},
        "visibility": {"type": "string", "enum": ["public", "private"]},
        "hardware": {"type": "string", "description": "A SKU of GET /v1/hardware"},
        **_MODEL_FIELDS,
    },
}
_UPDATE: Schema = {
    "type": "object",
    "properties": {
        **_MODEL_FIELDS,
        "readme": _TEXT,
        "weights_url": _TEXT,
        "visibility": {"type": "string", "enum": ["public", "private"]},
    },
}
_BUILD: Schema = {
    "type": "object",
    "required": ["id", "model", "status", "logs"],
    "properties": {
        "id": {"type": "string"},
        "model": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "status": {"type": "string", "enum": ["building", "ready", "failed"]},
        "error": _TEXT,
        "logs": {"type": "string"},
        "cog_version": _TEXT,
        "openapi_schema": nullable({"type": "object"}),
    },
}
_ARCHIVE = {
    "required": True,
    "content": {"application/gzip": {"schema": {"type": "string", "format": "binary"}}},
}

describe(
    Operation(
        "post", "/models", "models.create", "Create a model",
        {201: json("Model", "Created"), 403: _FORBIDDEN, 409: _CONFLICT, 422: INVALID, 400: BAD},
        body=json_body("ModelCreate"), tags=("models",),
    ),
    Operation(
        "patch", "/models/{owner}/{name}", "models.update", "Update a model's details",
        {200: json("Model"), 403: _FORBIDDEN, 404: NOT_FOUND, 422: INVALID, 400: BAD},
        (_OWNER, _NAME), body=json_body("ModelUpdate"), tags=("models",),
    ),
    Operation(
        "delete", "/models/{owner}/{name}", "models.delete",
        "Delete a private model without versions",
        {204: ("Deleted", {}), 403: _FORBIDDEN, 404: NOT_FOUND, 409: _CONFLICT},
        (_OWNER, _NAME), tags=("models",),
    ),
    Operation(
        "delete", "/models/{owner}/{name}/versions/{version}", "models.versions.delete",
        "Delete a version of a private model",
        {204: ("Deleted", {}), 403: _FORBIDDEN, 404: NOT_FOUND, 409: _CONFLICT},
        (_OWNER, _NAME, _VERSION), tags=("models",),
    ),
    Operation(
        "post", "/models/{owner}/{name}/versions", "models.versions.push",
        "Push a model directory (.tar.gz) as a new version (foretell push)",
        {202: json("VersionBuild", "Building"), 200: json("VersionBuild", "Already there"),
         400: BAD, 403: _FORBIDDEN, 404: NOT_FOUND, 413: TOO_LARGE, 422: INVALID},
        (_OWNER, _NAME), body=_ARCHIVE, tags=("models",),
    ),
    Operation(
        "get", "/models/{owner}/{name}/versions/{id}/build", "models.versions.build",
        "How far a pushed version's build has come",
        {200: json("VersionBuild"), 403: _FORBIDDEN, 404: NOT_FOUND},
        (_OWNER, _NAME, path_param("id", "The version's id")), tags=("models",),
    ),
)  # fmt: skip
add_schemas({"ModelCreate": _CREATE, "ModelUpdate": _UPDATE, "VersionBuild": _BUILD})
