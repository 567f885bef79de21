"""Managing stored models (Replicate's Models API): create, update and delete a model, and
delete a version, each by its owner only.

Who may do what: an account manages only its own models; a model's `visibility` decides who
else sees and runs it. Another account's private model answers 404 everywhere, as one that
doesn't exist (its name isn't given away); another account's public model answers 403 to a
change.
"""

from __future__ import annotations

import dataclasses
import re
import urllib.parse
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from foretell.api.auth import authenticate
from foretell.api.body import read_json_object
from foretell.api.deployments import hardware_skus
from foretell.api.library_views import command_line, render_stored, stored_view, visible
from foretell.api.responses import JSONResponse
from foretell.api.state import ApiState, api_state
from foretell.core.accounts import Account
from foretell.core.times import utcnow
from foretell.core.versions import VISIBILITIES, StoredModel, StoredVersion, VersionStatus
from foretell.errors import Conflict, Forbidden, InvalidField, InvalidRequest, NotFound

#: Replicate's model names: lowercase letters, digits, `-`, `_` and `.`, not first or last
NAME = re.compile(r"[a-z0-9](?:[a-z0-9._-]{0,98}[a-z0-9])?")
_URLS = ("github_url", "paper_url", "license_url", "cover_image_url", "weights_url")
_CREATE_REQUIRED = ("owner", "name", "visibility", "hardware")
_CREATE = {*_CREATE_REQUIRED, "description", "github_url", "paper_url", "license_url"}
_CREATE |= {"cover_image_url"}
#: Replicate's PATCH fields, and `visibility` (foretell's: Replicate changes it on its website,
#: and a model must be private before its versions can be deleted)
_UPDATE = {"description", "readme", "github_url", "paper_url", "weights_url", "license_url"}
_UPDATE |= {"visibility"}
_MAX_TEXT = 100_000
_NOT_FOUND = "The requested resource could not be found."


async def own_model(state: ApiState, account: Account, owner: str, name: str) -> StoredModel:
    """The stored model `owner/name` if it is the caller's: 404 if the caller can't see it
    (or it doesn't exist), 403 if it is another account's public model or a command-line
    one."""
    full_name = f"{owner}/{name}"
    model = await state.store.get_stored_model(full_name)
    if model is None:
        if command_line(state, full_name) is not None:
            raise Forbidden(
                f"{full_name} is served from a directory on the server's command line "
                "(foretell serve): it can't be changed through the API."
            )
        raise NotFound(_NOT_FOUND)
    if not visible(model, account):
        raise NotFound(_NOT_FOUND)
    if model.owner != account.username:
        raise Forbidden(f"{full_name} belongs to another account: only its owner can change it.")
    return model


def _invalid(errors: list[InvalidField]) -> None:
    if errors:
        raise InvalidRequest(errors)


def _field_errors(body: dict[str, Any], allowed: set[str]) -> list[InvalidField]:
    """Unknown fields, and known ones of the wrong type or shape."""
    errors = [
        InvalidField(
            "additional_property_not_allowed", k, f"Additional property {k} is not allowed"
        )
        for k in sorted(set(body) - allowed)
    ]
    for key in sorted(set(body) & allowed):
        value = body[key]
        required = key in _CREATE_REQUIRED
        if value is None and not required:
            continue
        if not isinstance(value, str):
            kind = "a string" if required else "a string or null"
            errors.append(InvalidField("invalid_type", key, f"must be {kind}"))
        elif len(value) > _MAX_TEXT:
            errors.append(InvalidField("too_long", key, f"must be at most {_MAX_TEXT} characters"))
        elif key in _URLS and not _is_url(value):
            detail = f"must be an http(s) URL (got {value[:100]!r})"
            errors.append(InvalidField("format", key, detail))
        elif key == "visibility" and value not in VISIBILITIES:
            detail = f"must be one of {', '.join(VISIBILITIES)} (got {value[:100]!r})"
            errors.append(InvalidField("enum", key, detail))
    return errors


def _is_url(text: str) -> bool:
    parts = urllib.parse.urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _create_errors(state: ApiState, body: dict[str, Any]) -> list[InvalidField]:
    errors = _field_errors(body, _CREATE)
    errors += [
        InvalidField("required", k, f"{k} is required") for k in _CREATE_REQUIRED if k not in body
    ]
    if errors:
        return errors
    if not NAME.fullmatch(body["name"]):
        detail = (
            f"{body['name'][:100]!r} is not a valid model name: use 1-100 lowercase letters, "
            "digits, '-', '_' or '.' (not first or last)"
        )
        errors.append(InvalidField("format", "name", detail))
    skus = hardware_skus(state)
    if body["hardware"] not in skus:
        detail = (
            f"{body['hardware'][:100]!r} is not one of {', '.join(sorted(skus))} (GET /v1/hardware)"
        )
        errors.append(InvalidField("enum", "hardware", detail))
    return errors


async def create_model(request: Request) -> Response:
    """POST /v1/models — a new model of the caller's, without versions (201)."""
    account = await authenticate(request)
    state = api_state(request)
    body = await read_json_object(request)
    _invalid(_create_errors(state, body))
    if body["owner"] != account.username:
        raise Forbidden(
            f"A model's owner must be your account ({account.username}), not {body['owner']!r}."
        )
    model = StoredModel(
        owner=account.username,
        name=body["name"],
        created_at=utcnow(),
        **{k: v for k, v in body.items() if k not in ("owner", "name")},
    )
    if command_line(state, model.full_name) is not None:
        raise Conflict(
            f"{model.full_name} is already served from the server's command line "
            "(foretell serve): choose another name."
        )
    if not await state.store.create_stored_model(model):
        raise Conflict(
            f"A model named {model.full_name} already exists: PATCH it to change it, or "
            "choose another name."
        )
    state.catalog.nudge()  # the pages and the create path see it without waiting a tick
    return JSONResponse(render_stored(request, model, None, None), status_code=201)


async def update_model(request: Request) -> Response:
    """PATCH /v1/models/{owner}/{name} — change some of its fields (a null clears one)."""
    account = await authenticate(request)
    state = api_state(request)
    path = request.path_params
    model = await own_model(state, account, path["owner"], path["name"])
    body = await read_json_object(request)
    errors = _field_errors(body, _UPDATE)
    if body.get("visibility", "") is None:
        errors.append(InvalidField("invalid_type", "visibility", "must be a string"))
    _invalid(errors)
    changed = dataclasses.replace(model, **body)
    await state.store.save_stored_model(changed)
    state.catalog.nudge()
    return JSONResponse(await stored_view(request, changed))


async def delete_model(request: Request) -> Response:
    """DELETE /v1/models/{owner}/{name} — 204. Replicate's rules: only one's own, private
    model without versions (a failed version, which never ran, goes with it)."""
    account = await authenticate(request)
    state = api_state(request)
    path = request.path_params
    model = await own_model(state, account, path["owner"], path["name"])
    _must_be_private(model, "delete it")
    versions = await state.store.list_versions(model.full_name)
    kept = [v.id for v in versions if v.status != VersionStatus.FAILED]
    if kept:
        raise Conflict(
            f"{model.full_name} has {len(kept)} version(s) ({', '.join(kept[:5])}): delete "
            f"them first (DELETE /v1/models/{model.full_name}/versions/{{id}})."
        )
    if not await state.store.delete_stored_model(model.full_name):
        raise NotFound(_NOT_FOUND)
    state.catalog.nudge()
    await _delete_files(state, versions)
    return Response(status_code=204)


async def delete_version(request: Request) -> Response:
    """DELETE /v1/models/{owner}/{name}/versions/{id} — 204 (Replicate documents 202, but the
    deletion is done when this answers, and the official Python client's delete() is True
    on 204 only). Only versions of one's own private model, and none a deployment runs."""
    account = await authenticate(request)
    state = api_state(request)
    path = request.path_params
    model = await own_model(state, account, path["owner"], path["name"])
    version = await state.store.get_version(path["version"])
    if version is None or version.model != model.full_name:
        raise NotFound(f"{model.full_name} has no version {path['version'][:100]!r}.")
    _must_be_private(model, "delete its versions")
    await _not_deployed(state, account, version)
    if not await state.store.delete_version(version.id):
        raise NotFound(f"{model.full_name} has no version {version.id}.")
    await _delete_files(state, [version])
    return Response(status_code=204)


def _must_be_private(model: StoredModel, to: str) -> None:
    if model.visibility != "private":
        raise Conflict(
            f"{model.full_name} is public: make it private first to {to} "
            f'(PATCH /v1/models/{model.full_name} with {{"visibility": "private"}}).'
        )


async def _not_deployed(state: ApiState, account: Account, version: StoredVersion) -> None:
    """409 if one of the account's deployments runs the version."""
    cursor: str | None = None
    while True:
        page = await state.store.list_deployments(account.username, limit=100, cursor=cursor)
        for deployment in page.items:
            if deployment.current_release.version == version.id:
                raise Conflict(
                    f"Deployment {deployment.full_name} runs version {version.id}: point it at "
                    "another version, or delete it, first."
                )
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


async def _delete_files(state: ApiState, gone: list[StoredVersion]) -> None:
    """Delete the archives and weights of deleted versions that no other version shares (a
    trained version keeps its base version's archive)."""
    keys = {key for v in gone for key in (v.source_key, v.weights_key) if key}
    if not keys:
        return
    for other in await state.store.list_versions():
        keys -= {other.source_key, other.weights_key}
    for key in sorted(keys):
        await state.files.delete(key)
