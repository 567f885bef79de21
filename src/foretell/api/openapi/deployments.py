"""The Deployments API in foretell's OpenAPI document: its operations and schemas."""

from __future__ import annotations

from foretell.api.openapi import operations
from foretell.api.openapi.operations import (
    BAD,
    INVALID,
    NOT_FOUND,
    TOO_LARGE,
    UNAVAILABLE,
    Operation,
    json,
    json_body,
    path_param,
    problem,
    query_param,
)
from foretell.api.openapi.schemas import Schema, page, ref

_MAX = 1000  # foretell.core.deployments.MAX_INSTANCES (the document imports no core)
_COUNT: Schema = {"type": "integer", "minimum": 0, "maximum": _MAX}
_CONFIG: Schema = {
    "hardware": {
        "type": "string",
        "description": "A hardware sku of GET /v1/hardware (`cpu` on every server).",
    },
    "min_instances": {**_COUNT, "description": "The fewest instances to keep running."},
    "max_instances": {**_COUNT, "description": "The most instances to run; >= min_instances."},
}

DEPLOYMENT: Schema = {
    "type": "object",
    "required": ["owner", "name", "current_release"],
    "properties": {
        "owner": {"type": "string", "description": "The account that owns it."},
        "name": {"type": "string"},
        "current_release": {
            "type": "object",
            "required": ["number", "model", "version", "created_at", "created_by",
                         "configuration"],
            "properties": {
                "number": {"type": "integer", "minimum": 1,
                           "description": "1 at creation, one more with every update."},
                "model": {"type": "string", "description": "owner/name"},
                "version": {"type": "string"},
                "created_at": {"type": "string", "format": "date-time"},
                "created_by": {
                    "type": "object",
                    "required": ["type", "username", "name"],
                    "properties": {
                        "type": {"type": "string", "enum": ["user", "organization"]},
                        "username": {"type": "string"},
                        "name": {"type": "string"},
                    },
                },
                "configuration": {
                    "type": "object",
                    "required": list(_CONFIG),
                    "properties": _CONFIG,
                },
            },
        },
    },
}  # fmt: skip

DEPLOYMENT_REQUEST: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "model", "version", *_CONFIG],
    "properties": {
        "name": {
            "type": "string",
            "pattern": "^([a-z0-9_.-]+/)?[a-z0-9](?:[a-z0-9._-]{0,98}[a-z0-9])?$",
            "description": "Lowercase letters, digits, `-`, `_` and `.`; an `owner/` "
            "prefix, if any, must be the caller's account.",
        },
        "model": {"type": "string", "description": "A hosted model, `owner/name`."},
        "version": {"type": "string", "description": "The model's current version id."},
        **_CONFIG,
    },
}

DEPLOYMENT_UPDATE: Schema = {
    "type": "object",
    "additionalProperties": False,
    "description": "Any of the fields; every update makes the next release.",
    "properties": {
        "version": {"type": "string", "description": "The model's current version id."},
        **_CONFIG,
    },
}

SCHEMAS: dict[str, Schema] = {
    "Deployment": DEPLOYMENT,
    "DeploymentPage": page(ref("Deployment")),
    "DeploymentRequest": DEPLOYMENT_REQUEST,
    "DeploymentUpdate": DEPLOYMENT_UPDATE,
}

_OWNER = path_param("owner", "The deployment's owner (the caller's account)")
_NAME = path_param("name", "The deployment's name")
_TAKEN = problem("The account has a deployment of that name already, or it is being changed")
# a deployment's predictions take what the models' do (the same code makes them)
_CREATE_HEADERS = operations._CREATE_HEADERS
_CREATED = operations._CREATED

OPERATIONS = [
    Operation(
        "post", "/deployments", "deployments.create", "Create a deployment (release 1)",
        {200: json("Deployment"), 400: BAD, 409: _TAKEN, 413: TOO_LARGE, 422: INVALID},
        body=json_body("DeploymentRequest"), tags=("deployments",),
    ),
    Operation(
        "get", "/deployments", "deployments.list", "List the account's deployments, newest first",
        {200: json("DeploymentPage"), 400: BAD, 422: INVALID},
        (query_param("cursor", "The page to fetch, from a `next` or `previous` link"),
         query_param("limit", "At most this many items (1-100, default 100)",
                     {"type": "integer", "minimum": 1, "maximum": 100})),
        tags=("deployments",),
    ),
    Operation(
        "get", "/deployments/{owner}/{name}", "deployments.get", "Get a deployment",
        {200: json("Deployment"), 404: NOT_FOUND}, (_OWNER, _NAME), tags=("deployments",),
    ),
    Operation(
        "patch", "/deployments/{owner}/{name}", "deployments.update",
        "Change a deployment's version, hardware or instances: its next release",
        {200: json("Deployment"), 400: BAD, 404: NOT_FOUND, 409: _TAKEN, 413: TOO_LARGE,
         422: INVALID},
        (_OWNER, _NAME), json_body("DeploymentUpdate"), tags=("deployments",),
    ),
    Operation(
        "delete", "/deployments/{owner}/{name}", "deployments.delete", "Delete a deployment",
        {204: ("Deleted", {}), 404: NOT_FOUND}, (_OWNER, _NAME), tags=("deployments",),
    ),
    Operation(
        "post", "/deployments/{owner}/{name}/predictions", "deployments.predictions.create",
        "Create a prediction of the deployment's current release",
        {201: _CREATED,
         400: BAD, 404: NOT_FOUND, 413: TOO_LARGE, 422: INVALID, 503: UNAVAILABLE},
        (_OWNER, _NAME, *_CREATE_HEADERS), json_body("ModelPredictionRequest"),
        tags=("deployments",),
    ),
]  # fmt: skip
