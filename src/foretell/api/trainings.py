"""Trainings: create (a version's `train:` run into a destination model), get, list, cancel.

A training is a Prediction of kind `training` on the queue of the version's trainer: the
predictions' own create path (input checked against `TrainingInput`, Prefer: wait,
Cancel-After, webhooks), store, SSE, cancel and sweeper run it. When it succeeds, the runner
makes its weights a new version of the destination (foretell.runner.trainings).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from foretell.api import (
    limits,
    render,
    trainings_openapi,  # noqa: F401  (describes these routes at import)
)
from foretell.api.auth import authenticate
from foretell.api.body import read_json_object
from foretell.api.library import own_model
from foretell.api.library_views import can_run
from foretell.api.predictions import cancel_and_wait, create_on_model, list_kind, queue_position
from foretell.api.responses import JSONResponse
from foretell.api.state import ApiState, api_state
from foretell.core.accounts import Account
from foretell.core.models import Model
from foretell.core.prediction import TRAINING, Prediction
from foretell.core.trainings import as_predictor
from foretell.errors import InvalidField, InvalidRequest, NotFound

_NOT_FOUND = "The requested resource could not be found."
#: Replicate's words for a destination that isn't there (or isn't the caller's to see)
_NO_DESTINATION = (
    "The specified training destination does not exist: create it first "
    "(POST /v1/models, or replicate.models.create) and name it as owner/name."
)


async def create_training(request: Request) -> Response:
    """POST /v1/models/{owner}/{name}/versions/{id}/trainings — 201 with the training."""
    account = await authenticate(request)
    state = api_state(request)
    params = request.path_params
    trainer = await _trainer(state, account, params["owner"], params["name"], params["id"])
    body = await read_json_object(request)
    destination = await _destination(state, account, body.get("destination"))
    return await create_on_model(
        request, account, as_predictor(trainer), body, destination=destination
    )


async def _trainer(
    state: ApiState, account: Account, owner: str, name: str, version_id: str
) -> Model:
    """The trainer of version `version_id` of `owner/name`: 404 if the caller can't see that
    version, 422 if it has no `train:`."""
    full_name = f"{owner}/{name}"
    if not await can_run(state, account, full_name, version_id):
        raise NotFound(_NOT_FOUND)
    record = state.catalog.trainer(version_id)
    if record is not None and record.full_name == full_name:
        return record.model
    if not await _has_version(state, full_name, version_id):
        raise NotFound(
            f"Version {version_id} of {full_name} not found: GET /v1/models/{full_name}/versions "
            "lists its versions."
        )
    detail = (
        f"Version {version_id} of {full_name} can't be trained: its cog.yaml has no `train:` "
        "(or no runner hosts its trainer yet)."
    )
    raise InvalidRequest([InvalidField("invalid", "version", detail)], "Version not trainable")


async def _has_version(state: ApiState, full_name: str, version_id: str) -> bool:
    hosted = state.catalog.by_version(version_id)
    if hosted is not None and hosted.full_name == full_name:
        return True
    stored = await state.store.get_version(version_id)
    return stored is not None and stored.model == full_name


async def _destination(state: ApiState, account: Account, value: Any) -> str:
    """`owner/name` of the caller's own stored model that the trained version goes to."""
    if not isinstance(value, str) or value.count("/") != 1 or "" in value.split("/"):
        detail = "destination is required: the owner/name of a model of yours (POST /v1/models)"
        kind = "required" if value is None else "invalid"
        raise InvalidRequest([InvalidField(kind, "destination", detail)])
    owner, name = value.split("/")
    try:
        model = await own_model(state, account, owner, name)
    except NotFound:
        raise NotFound(_NO_DESTINATION) from None
    return model.full_name


async def _training(state: ApiState, account: Account, training_id: str) -> Prediction:
    """The account's training `training_id` (a prediction's id is not one: 404)."""
    found = await state.service.get(account.username, training_id)
    if found is None or found.kind != TRAINING:
        raise NotFound(_NOT_FOUND)
    return found


async def get_training(request: Request) -> Response:
    """GET /v1/trainings/{id}."""
    account = await authenticate(request)
    if (refused := await limits.rate_limited(request, account)) is not None:
        return refused
    state = api_state(request)
    current = await _training(state, account, request.path_params["id"])
    position = await queue_position(state, current)
    return JSONResponse(render.prediction(render.base_url(request), state, current, position))


async def list_trainings(request: Request) -> Response:
    """GET /v1/trainings — the account's trainings, newest first, 100 a page."""
    return await list_kind(request, TRAINING)


async def cancel_training(request: Request) -> Response:
    """POST /v1/trainings/{id}/cancel — a no-op for a finished training."""
    account = await authenticate(request)
    if (refused := await limits.rate_limited(request, account)) is not None:
        return refused
    state = api_state(request)
    current = await _training(state, account, request.path_params["id"])
    current = await cancel_and_wait(state, account, current)
    return JSONResponse(render.prediction(render.base_url(request), state, current))
