"""Turn `-i name=value` command-line inputs into JSON values, guided by the model's schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class CLIInputError(ValueError):
    """A `-i` argument that can't be read (no `=`, a missing `@file`)."""


def parse_inputs(pairs: list[str], openapi: dict[str, Any]) -> dict[str, Any]:
    """Parse `name=value` pairs; repeated names build a list, `@path` names a local file."""
    components: dict[str, Any] = openapi.get("components", {}).get("schemas", {})
    properties: dict[str, Any] = components.get("Input", {}).get("properties", {})
    values: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name:
            raise CLIInputError(f"-i {pair!r}: expected NAME=VALUE, e.g. -i prompt='a cat'")
        prop = _resolve(properties.get(name, {}), components)
        if prop.get("type") == "array":
            item = _resolve(prop.get("items", {}), components)
            values.setdefault(name, []).extend(_array_values(text, item))
        else:
            values[name] = _convert(text, prop)
    return values


def _array_values(text: str, item: dict[str, Any]) -> list[Any]:
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            pass
        else:
            if isinstance(parsed, list):
                return parsed
    return [_convert(text, item)]


def _convert(text: str, prop: dict[str, Any]) -> Any:
    """Convert like `cog predict`: by the schema's type; leave what doesn't parse for validation."""
    if prop.get("format") == "uri" and text.startswith("@"):
        return _file_url(text[1:])
    kind = prop.get("type")
    converters: dict[str, Any] = {"integer": int, "number": float, "boolean": _bool}
    convert = converters.get(kind or "")
    if convert is None:
        if kind in ("object", None) and text[:1] in ("{", "["):
            return _json_or_text(text)
        return text
    try:
        return convert(text)
    except ValueError:
        return text


def _bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ValueError(text)


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _file_url(path_text: str) -> str:
    path = Path(path_text).expanduser()
    if not path.is_file():
        raise CLIInputError(f"@{path_text}: no such file")
    return path.resolve().as_uri()


def _resolve(prop: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """Follow `allOf: [{$ref}]` (how Cog writes `choices`) to the enum's type."""
    for part in prop.get("allOf", []):
        ref = part.get("$ref", "")
        target = components.get(ref.rsplit("/", 1)[-1], {})
        if target:
            return {**prop, **target}
    return prop
