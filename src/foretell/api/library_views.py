"""Stored models and versions as the models API shows them, read from the store per request
(these endpoints are not the hot path; a read is one indexed query), so a model created or
a version made on one node shows on every node at once.

A stored model shows whether or not a runner hosts any of its versions yet; its
`latest_version` is its newest ready version (None until one is), and its versions list
holds its ready versions only, newest first (a building or failed one never becomes one).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request

from foretell.api import render
from foretell.api.state import ApiState, api_state
from foretell.core.accounts import Account
from foretell.core.models import ModelRecord
from foretell.core.times import timestamp
from foretell.core.versions import StoredModel, StoredVersion
from foretell.errors import NotFound

#: what a version's schema says when it doesn't say which Cog it was made for
_COG_VERSION = "0.23.1"
_NOT_FOUND = "The requested resource could not be found."


def visible(model: StoredModel, account: Account) -> bool:
    """Whether `account` may see and run `model`: its owner, or anyone if it is public."""
    return model.owner == account.username or model.visibility == "public"


def command_line(state: ApiState, full_name: str) -> ModelRecord | None:
    """The hosted record of the command-line model `owner/name`, if there is one (a stored
    version a runner still hosts after its model was deleted is none)."""
    record = state.catalog.get(full_name)
    return record if record is not None and not record.is_stored_unit else None


async def can_run(
    state: ApiState, account: Account, full_name: str, version: str | None = None
) -> bool:
    """Whether `account` may run the model `owner/name` (at `version`, the hosted one it
    would run): False for another account's private stored model, for a stored model or
    version deleted while a runner still hosts it, and for a version not ready. A model
    that isn't stored (a command-line one) is the caller's to look up.

    A command-line model is answered from the catalog without a store read (this is on
    every create): its name can't be a stored model's (creating one is refused), so only a
    stored unit, or a name the catalog doesn't host, is read from the store."""
    record = state.catalog.get(full_name)
    if record is not None and not record.is_stored_unit and state.catalog.stored(full_name) is None:
        return True
    model = await state.store.get_stored_model(full_name)
    if model is None:
        return record is None or not record.is_stored_unit
    if not visible(model, account):
        return False
    if version is None:
        return True
    found = await state.store.get_version(version)
    return found is not None and found.model == full_name and found.is_ready


def render_version(version: StoredVersion) -> dict[str, Any]:
    """A stored version in Replicate's shape."""
    schema = version.openapi_schema
    return {
        "id": version.id,
        "created_at": timestamp(version.created_at),
        "cog_version": version.cog_version or schema.get("info", {}).get("version", _COG_VERSION),
        "openapi_schema": schema,
    }


def render_stored(
    request: Request,
    model: StoredModel,
    latest: StoredVersion | None,
    setup: dict[str, Any] | None,
) -> dict[str, Any]:
    """A stored model in Replicate's shape; `setup` (foretell's) is how far the runner
    hosting its latest version has come, None while none hosts it."""
    return {
        "url": f"{render.base_url(request)}/v1/models/{model.full_name}",
        "owner": model.owner,
        "name": model.name,
        "description": model.description,
        "visibility": model.visibility,
        "github_url": model.github_url,
        "paper_url": model.paper_url,
        "license_url": model.license_url,
        "run_count": 0,
        "cover_image_url": model.cover_image_url,
        "default_example": None,
        "latest_version": render_version(latest) if latest is not None else None,
        "is_official": False,
        "created_at": timestamp(model.created_at),
        "setup": setup,
    }


async def _setup(state: ApiState, full_name: str) -> dict[str, Any] | None:
    from foretell.api.models import setup_view  # models.py imports this module

    record = state.catalog.get(full_name)
    return await setup_view(state, record) if record is not None else None


async def stored_view(request: Request, model: StoredModel) -> dict[str, Any]:
    """A stored model as GET /v1/models/{owner}/{name} shows it."""
    state = api_state(request)
    ready = await ready_versions(state, model.full_name)
    setup = await _setup(state, model.full_name)
    return render_stored(request, model, ready[0] if ready else None, setup)


async def ready_versions(state: ApiState, full_name: str) -> list[StoredVersion]:
    """A model's ready versions, newest first."""
    return [v for v in await state.store.list_versions(full_name) if v.is_ready]


async def find_stored(request: Request, account: Account) -> StoredModel | None:
    """The stored model the path names; None if there is no stored model of that name (it
    may be a command-line one); 404 if it is another account's private model."""
    full_name = f"{request.path_params['owner']}/{request.path_params['name']}"
    model = await api_state(request).store.get_stored_model(full_name)
    if model is not None and not visible(model, account):
        raise NotFound(_NOT_FOUND)
    return model


async def ready_version(state: ApiState, model: StoredModel, version_id: str) -> StoredVersion:
    """One ready version of a stored model; 404 otherwise."""
    version = await state.store.get_version(version_id)
    if version is None or version.model != model.full_name or not version.is_ready:
        raise NotFound(_NOT_FOUND)
    return version


async def models_for(
    request: Request,
    account: Account,
    hosted: list[ModelRecord],
    render_hosted: Callable[[ModelRecord], Awaitable[dict[str, Any]]],
    matches: Callable[[str, str | None], bool] = lambda _name, _description: True,
) -> list[dict[str, Any]]:
    """The models a listing or search shows the caller, by name: the hosted command-line
    ones among `hosted`, and the stored ones it may see that `matches` (name, description).
    A stored model's hosted versions show as the stored model, never as a hosted one."""
    state = api_state(request)
    stored = {m.full_name: m for m in await state.store.list_stored_models()}
    latest: dict[str, StoredVersion] = {}
    for version in await state.store.list_versions():  # newest first: keep each one's first
        if version.is_ready:
            latest.setdefault(version.model, version)
    shown: dict[str, dict[str, Any]] = {}
    for record in hosted:
        if record.full_name not in stored and not record.is_stored_unit:
            shown[record.full_name] = await render_hosted(record)
    for name, model in stored.items():
        if visible(model, account) and matches(name, model.description):
            setup = await _setup(state, name)
            shown[name] = render_stored(request, model, latest.get(name), setup)
    return [shown[name] for name in sorted(shown)]
