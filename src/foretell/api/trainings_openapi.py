"""The OpenAPI document's entries for trainings (Replicate's trainings API)."""

from __future__ import annotations

from foretell.api.openapi import Operation, add_schemas, describe
from foretell.api.openapi.operations import (
    BAD,
    INVALID,
    NOT_FOUND,
    THROTTLED,
    header,
    json,
    json_body,
    path_param,
    problem,
    query_param,
)
from foretell.api.openapi.schemas import (
    MODEL_PREDICTION_REQUEST,
    PREDICTION,
    Schema,
    page,
    ref,
)

_ID = path_param("id", "The training's id")
_CURSOR = query_param("cursor", "The page to fetch, from a `next` or `previous` link")
_FORBIDDEN = problem("The destination belongs to another account, or is a command-line model")
_DESTINATION: Schema = {
    "type": "string",
    "description": "owner/name of a model of yours (POST /v1/models) that gets the new version",
}
_TRAINING: Schema = {
    **PREDICTION,
    "required": [*PREDICTION["required"], "destination"],
    "properties": {
        **PREDICTION["properties"],
        "destination": _DESTINATION,
        "output": {
            "description": "Once it succeeded: the new version (owner/name:id) and the weights.",
            "anyOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "properties": {
                        "version": {"type": "string"},
                        "weights": {"type": "string", "format": "uri"},
                    },
                },
            ],
        },
    },
}
_REQUEST: Schema = {
    **MODEL_PREDICTION_REQUEST,
    "required": ["destination"],
    "properties": {
        **MODEL_PREDICTION_REQUEST["properties"],
        "destination": _DESTINATION,
        "input": {"type": "object", "description": "The trainer's inputs (its TrainingInput)."},
    },
}

describe(
    Operation(
        "post", "/models/{owner}/{name}/versions/{id}/trainings", "trainings.create",
        "Train a version into a new version of a destination model",
        {201: json("Training", "Created; `Location` is its URL"), 400: BAD, 403: _FORBIDDEN,
         404: NOT_FOUND, 422: INVALID, 429: THROTTLED},
        (path_param("owner", "Model owner"), path_param("name", "Model name"),
         path_param("id", "The version's id"),
         header("Prefer", "`wait` or `wait=N` (1-60): hold the response until done or N s"),
         header("Cancel-After", "Cancel the training after this long: `90`, `90s`, `1h30m`")),
        json_body("TrainingRequest"), tags=("trainings",),
    ),
    Operation(
        "get", "/trainings", "trainings.list", "List trainings, newest first",
        {200: json("TrainingPage"), 400: BAD}, (_CURSOR,), tags=("trainings",),
    ),
    Operation(
        "get", "/trainings/{id}", "trainings.get", "Get a training",
        {200: json("Training"), 404: NOT_FOUND}, (_ID,), tags=("trainings",),
    ),
    Operation(
        "post", "/trainings/{id}/cancel", "trainings.cancel", "Cancel a training",
        {200: json("Training"), 404: NOT_FOUND}, (_ID,), tags=("trainings",),
    ),
)  # fmt: skip
add_schemas(
    {"Training": _TRAINING, "TrainingRequest": _REQUEST, "TrainingPage": page(ref("Training"))}
)
