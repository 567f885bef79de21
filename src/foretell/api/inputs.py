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
from foretell.predictor.errors import InvalidInput
from foretell.predictor.validate import resolve, validate_input


def check_input(model: Model, raw: dict[str, Any]) -> dict[str, Any]:
    """The input, validated; 422 with Replicate's invalid_fields otherwise."""
    try:
        cleaned = validate_input(model.openapi_schema, raw)
    except InvalidInput as exc:
        raise InvalidRequest(
            [_invalid_field(e.field, e.message, e.kind) for e in exc.errors]
        ) from exc
    bad = [
        _invalid_field(name, "must be an http(s) URL or a data: URI", "format")
        for name, value in _file_values(model, cleaned)
        if urllib.parse.urlsplit(value).scheme.lower() not in ("http", "https", "data")
    ]
    if bad:
        raise InvalidRequest(bad)
    return cleaned


def _invalid_field(name: str, message: str, kind: str) -> InvalidField:
    if kind == "required":  # Replicate names the parent for a missing key
        return InvalidField("required", "input", f"{name} is required")
    return InvalidField(kind, f"input.{name}" if name else "input", message)


def _file_values(model: Model, values: dict[str, Any]) -> list[tuple[str, str]]:
    """(input name, value) of every file URL in the input, list items included."""
    components = model.openapi_schema.get("components", {}).get("schemas", {})
    properties = components.get("Input", {}).get("properties", {})
    found = []
    for name, value in values.items():
        prop = resolve(properties.get(name, {}), components)
        item = prop.get("items", {}) if prop.get("type") == "array" else prop
        if item.get("format") != "uri":
            continue
        for one in value if isinstance(value, list) else [value]:
            if isinstance(one, str):
                found.append((name, one))
    return found


async def resolve_own_files(
    request: Request, state: ApiState, account: Account, model: Model, values: dict[str, Any]
) -> dict[str, str]:
    """Map this server's own /v1/files/<id> URLs to their files, never fetching ourselves."""
    ours = base_url(request) + "/v1/files/"
    resolved: dict[str, str] = {}
    for name, url in _file_values(model, values):
        if not url.startswith(ours):
            continue
        file_id = url.removeprefix(ours).split("/", 1)[0].split("?", 1)[0]
        record = await state.store.get_file(account.username, file_id)
        if record is None:
            raise InvalidRequest([InvalidField("format", f"input.{name}", f"no such file: {url}")])
        resolved[url] = record.path
    return resolved
