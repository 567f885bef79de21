"""Deployments: create, list, get, update (each a new release), delete, and predictions
through one (Replicate's Deployments API)."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from foretell.api import render
from foretell.api.auth import authenticate
from foretell.api.body import read_json_object
from foretell.api.library_views import can_run
from foretell.api.params import page_limit
from foretell.api.predictions import create_on_model
from foretell.api.responses import JSONResponse
from foretell.api.state import ApiState, api_state
from foretell.core.accounts import Account
from foretell.core.deployments import (
    Configuration,
    Creator,
    Deployment,
    configuration_errors,
    new_deployment,
    next_release,
)
from foretell.core.models import Model
from foretell.core.times import timestamp, utcnow
from foretell.errors import ForetellError, InvalidField, InvalidRequest, NotFound

_CONFIG = ("hardware", "min_instances", "max_instances")
#: a foretell extension: seconds an idle instance waits before it stops (optional, null)
_IDLE = "idle_timeout"
_CREATE = {"name", "model", "version", _IDLE, *_CONFIG}
_UPDATE = {"version", _IDLE, *_CONFIG}
#: as Replicate's model and deployment names: lowercase letters, digits, `-`, `_` and `.`
_NAME = re.compile(r"[a-z0-9](?:[a-z0-9._-]{0,98}[a-z0-9])?")
#: tries of an update that lost its compare-and-set to another update of the same release
_UPDATE_TRIES = 5
_NOT_FOUND = "The requested resource could not be found."


class DeploymentConflict(ForetellError):
    """The account has a deployment of that name already, or other updates keep winning."""

    status = 409
    title = "Conflict"


def render_deployment(deployment: Deployment) -> dict[str, Any]:
    """A deployment in Replicate's shape."""
    release = deployment.current_release
    by = release.created_by
    return {
        "owner": deployment.owner,
        "name": deployment.name,
        "current_release": {
            "number": release.number,
            "model": release.model,
            "version": release.version,
            "created_at": timestamp(release.created_at),
            "created_by": {"type": by.type, "username": by.username, "name": by.name},
            "configuration": _render_configuration(release.configuration),
        },
    }


def _render_configuration(configuration: Configuration) -> dict[str, Any]:
    """Replicate's three fields, and the idle timeout where one is set (the extension)."""
    rendered: dict[str, Any] = {
        "hardware": configuration.hardware,
        "min_instances": configuration.min_instances,
        "max_instances": configuration.max_instances,
    }
    if configuration.idle_timeout is not None:
        rendered[_IDLE] = configuration.idle_timeout
    return rendered


def hardware_skus(state: ApiState) -> frozenset[str]:
    """The skus GET /v1/hardware lists now: what a deployment may ask for."""
    return frozenset(item["sku"] for item in render.hardware(state.catalog.all()))


def _creator(account: Account) -> Creator:
    return Creator(account.type, account.username, account.name)


def _invalid(errors: list[tuple[str, str]]) -> None:
    if errors:
        raise InvalidRequest([InvalidField("invalid", field, text) for field, text in errors])


def _fields(body: dict[str, Any], allowed: set[str]) -> list[tuple[str, str]]:
    """Unknown fields, and the known ones of the wrong type."""
    errors = [(k, f"Additional property {k} is not allowed") for k in sorted(set(body) - allowed)]
    for key in ("name", "model", "version", "hardware"):
        if key in body and key in allowed and not isinstance(body[key], str):
            errors.append((key, "must be a string"))
    for key in ("min_instances", "max_instances"):
        value = body.get(key)
        if key in body and (not isinstance(value, int) or isinstance(value, bool)):
            errors.append((key, "must be a whole number"))
    idle = body.get(_IDLE)
    if idle is not None and (isinstance(idle, bool) or not isinstance(idle, int | float)):
        errors.append((_IDLE, "must be a number of seconds, or null for the server's"))
    elif idle is not None and idle < 0:
        errors.append((_IDLE, f"must be >= 0 seconds (got {idle})"))
    return errors


def _configuration(body: dict[str, Any], old: Configuration) -> Configuration:
    """The body's configuration fields, `old`'s where it has none."""
    idle = body.get(_IDLE, old.idle_timeout)
    return Configuration(
        body.get("hardware", old.hardware),
        body.get("min_instances", old.min_instances),
        body.get("max_instances", old.max_instances),
        None if idle is None else float(idle),
    )


def _name(account: Account, text: str) -> tuple[str | None, list[tuple[str, str]]]:
    """The deployment's name (an `owner/` prefix is allowed when it is the caller's)."""
    owner, slash, name = text.rpartition("/")
    if slash and owner != account.username:
        detail = f"a deployment's owner is your account ({account.username}), not {owner!r}"
        return None, [("name", detail)]
    if not _NAME.fullmatch(name):
        detail = "use 1-100 lowercase letters, digits, '-', '_' or '.' (not first or last)"
        return None, [("name", f"{name!r} is not a valid name: {detail}")]
    return name, []


async def _model(
    state: ApiState, account: Account, full_name: str
) -> tuple[Model | None, list[tuple[str, str]]]:
    model = state.model(full_name)
    if model is None or not await can_run(state, account, full_name):
        detail = f"{full_name!r} is not a model this server hosts (GET /v1/models lists them)"
        return None, [("model", detail)]
    return model, []


def _version_error(state: ApiState, model: Model, version: str) -> list[tuple[str, str]]:
    hosted = state.catalog.by_version(version)  # any hosted version of it (pushed ones too)
    if version == model.version or (hosted is not None and hosted.full_name == model.full_name):
        return []
    detail = (
        f"{version!r} is not a version of {model.full_name} this server runs "
        f"(its current version is {model.version})"
    )
    return [("version", detail)]


async def create_deployment(request: Request) -> Response:
    """POST /v1/deployments — a new deployment of the caller's, at release 1."""
    account = await authenticate(request)
    state = api_state(request)
    body = await read_json_object(request)
    errors = _fields(body, _CREATE)
    errors += [(k, f"{k} is required") for k in sorted(_CREATE - {_IDLE} - set(body))]
    _invalid(errors)
    name, errors = _name(account, body["name"])
    model, model_errors = await _model(state, account, body["model"])
    errors += model_errors + (_version_error(state, model, body["version"]) if model else [])
    configuration = _configuration(body, Configuration("", 0, 0))
    errors += configuration_errors(configuration, hardware_skus(state))
    _invalid(errors)
    assert name is not None and model is not None  # else _invalid raised
    deployment = new_deployment(
        account.username, name, model.full_name, model.version, configuration,
        _creator(account), utcnow(),
    )  # fmt: skip
    if not await state.store.create_deployment(deployment):
        raise DeploymentConflict(
            f"You already have a deployment named {deployment.full_name}: "
            "PATCH it to change it, or DELETE it first."
        )
    return JSONResponse(render_deployment(deployment))


async def list_deployments(request: Request) -> Response:
    """GET /v1/deployments — the caller's deployments, newest first."""
    account = await authenticate(request)
    state = api_state(request)
    page = await state.store.list_deployments(
        account.username,
        limit=page_limit(request.query_params.get("limit")),
        cursor=request.query_params.get("cursor"),
    )
    results = [render_deployment(d) for d in page.items]
    return JSONResponse(render.page(request, results, page.next_cursor, page.previous_cursor))


async def _owned(request: Request, account: Account) -> Deployment:
    """The deployment the path names; 404 unless it is the caller's."""
    owner, name = request.path_params["owner"], request.path_params["name"]
    found = None
    if owner == account.username:
        found = await api_state(request).store.get_deployment(owner, name)
    if found is None:
        raise NotFound(_NOT_FOUND)
    return found


async def get_deployment(request: Request) -> Response:
    """GET /v1/deployments/{owner}/{name}."""
    account = await authenticate(request)
    return JSONResponse(render_deployment(await _owned(request, account)))


async def update_deployment(request: Request) -> Response:
    """PATCH /v1/deployments/{owner}/{name} — any of version, hardware, min_instances and
    max_instances; every update is the next release."""
    account = await authenticate(request)
    state = api_state(request)
    body = await read_json_object(request)
    _invalid(_fields(body, _UPDATE))
    for _ in range(_UPDATE_TRIES):
        updated = await _updated(state, account, await _owned(request, account), body)
        if await state.store.save_deployment(updated):
            return JSONResponse(render_deployment(updated))
    raise DeploymentConflict(
        "The deployment is being changed by other requests at the same time: try again."
    )


async def _updated(
    state: ApiState, account: Account, current: Deployment, body: dict[str, Any]
) -> Deployment:
    """`current` with the body's changes as its next release; 422 if they are invalid."""
    release = current.current_release
    errors: list[tuple[str, str]] = []
    if "version" in body:
        model, errors = await _model(state, account, release.model)
        errors += _version_error(state, model, body["version"]) if model else []
    old = release.configuration
    configuration = _configuration(body, old)
    # the hardware kept from before stays valid even if no runner has it just now
    skus = hardware_skus(state) | {old.hardware}
    errors += configuration_errors(configuration, skus)
    _invalid(errors)
    return next_release(
        current, version=body.get("version"), configuration=configuration,
        by=_creator(account), at=utcnow(),
    )  # fmt: skip


async def delete_deployment(request: Request) -> Response:
    """DELETE /v1/deployments/{owner}/{name} — 204; its predictions are kept."""
    account = await authenticate(request)
    deployment = await _owned(request, account)
    if not await api_state(request).store.delete_deployment(deployment.owner, deployment.name):
        raise NotFound(_NOT_FOUND)
    return Response(status_code=204)


async def create_deployment_prediction(request: Request) -> Response:
    """POST /v1/deployments/{owner}/{name}/predictions — a prediction of the current
    release's model version, as POST /v1/models/{owner}/{name}/predictions makes one."""
    account = await authenticate(request)
    deployment = await _owned(request, account)
    release = deployment.current_release
    model = api_state(request).model(release.model)
    if model is None:
        raise NotFound(
            f"The model {release.model} of deployment {deployment.full_name} is not hosted "
            "here now."
        )
    if model.version != release.version:
        detail = (
            f"deployment {deployment.full_name} runs version {release.version} of "
            f"{model.full_name}, which now serves {model.version} only: PATCH the "
            "deployment's version to it"
        )
        raise InvalidRequest(
            [InvalidField("invalid", "version", detail)], "Invalid version or not permitted"
        )
    body = await read_json_object(request)
    return await create_on_model(request, account, model, body, deployment=deployment.full_name)
