"""Model inputs at the API edge: validated against the version's schema before anything runs."""

from __future__ import annotations

import urllib.parse
from typing import Any

from starlette.requests import Request

from foretell.api.render import base_url
from foretell.api.state import ApiState
from foretell.core.accounts import Account
from foretell.core.models import Model
from foretell.errors import InvalidField, InvalidRequest
from foretell.outbound import BlockedURL, check_url_shape
from foretell.predictor.errors import InvalidInput
from foretell.predictor.validate import validate_input


def check_input(model: Model, raw: dict[str, Any]) -> dict[str, Any]:
    """The input, validated; 422 with Replicate's invalid_fields otherwise."""
    try:
        cleaned = validate_input(model.openapi_schema, raw)
    except InvalidInput as exc:
        raise InvalidRequest(
            [_invalid_field(e.field, e.message, e.kind) for e in exc.errors]
        ) from exc
    return cleaned


def check_file_urls(
    request: Request, state: ApiState, model: Model, values: dict[str, Any]
) -> list[str]:
    """The remote URLs among the file inputs; 422 for any the guard refuses up front."""
    ours = base_url(request) + "/v1/files/"
    remote, bad = [], []
    for name, url in model.file_urls(values):
        scheme = urllib.parse.urlsplit(url).scheme.lower()
        limit = state.settings.max_data_uri_bytes
        if scheme == "data" and len(url) > limit:
            message = (
                f"data: URIs may be at most {limit} bytes; upload larger files with POST /v1/files"
            )
            bad.append(_invalid_field(name, message, "format"))
            continue
        if scheme == "data" or url.startswith(ours):
            continue
        if scheme not in ("http", "https"):
            bad.append(_invalid_field(name, "must be an http(s) URL or a data: URI", "format"))
            continue
        try:
            check_url_shape(url, state.outbound.policy)
        except BlockedURL as exc:
            bad.append(_invalid_field(name, str(exc), "format"))
            continue
        remote.append(url)
    if bad:
        raise InvalidRequest(bad)
    return remote


def _invalid_field(name: str, message: str, kind: str) -> InvalidField:
    if kind == "required":  # Replicate names the parent for a missing key
        return InvalidField("required", "input", f"{name} is required")
    return InvalidField(kind, f"input.{name}" if name else "input", message)


async def resolve_own_files(
    request: Request, state: ApiState, account: Account, model: Model, values: dict[str, Any]
) -> dict[str, str]:
    """Map this server's own /v1/files/<id> URLs to their files, never fetching ourselves."""
    ours = base_url(request) + "/v1/files/"
    resolved: dict[str, str] = {}
    for name, url in model.file_urls(values):
        if not url.startswith(ours):
            continue
        file_id = url.removeprefix(ours).split("/", 1)[0].split("?", 1)[0]
        record = await state.store.get_file(account.username, file_id)
        if record is None:
            raise InvalidRequest([InvalidField("format", f"input.{name}", f"no such file: {url}")])
        resolved[url] = record.path
    return resolved
