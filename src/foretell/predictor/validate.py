"""Validate a JSON input against a model's Cog schema: every error, per field, in plain words."""

from __future__ import annotations

import math
import re
from typing import Any

from foretell.predictor.errors import FieldError, InvalidInput

_JSON_TYPES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
}


def validate_input(openapi: dict[str, Any], raw: dict[str, Any] | None) -> dict[str, Any]:
    """Check `raw` against the document's Input schema; return it cleaned, or raise InvalidInput.

    Like Cog: unknown fields are dropped, missing optional fields get their default (or null),
    `"3"` is not an integer, and every problem is reported at once.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InvalidInput([FieldError("", "input must be a JSON object", "invalid_type")])
    components = openapi.get("components", {}).get("schemas", {})
    schema = components.get("Input", {})
    required = set(schema.get("required", []))
    cleaned: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name, prop in schema.get("properties", {}).items():
        prop = resolve(prop, components)
        if name not in raw:
            if name in required:
                errors.append(FieldError(name, "is required", "required"))
            elif "default" in prop or prop.get("nullable"):
                cleaned[name] = prop.get("default")
            continue
        problems = check_value(raw[name], prop, name)
        if problems:
            errors.extend(problems)
        else:
            cleaned[name] = _normalise(raw[name], prop)
    if errors:
        raise InvalidInput(errors)
    return cleaned


def resolve(prop: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """Merge `allOf: [{$ref}]` targets (how Cog writes choices) into the property."""
    merged = {key: value for key, value in prop.items() if key != "allOf"}
    for part in prop.get("allOf", []):
        target = components.get(part.get("$ref", "").rsplit("/", 1)[-1], {})
        merged = {**target, **merged}
    return merged


def check_value(value: Any, prop: dict[str, Any], field: str) -> list[FieldError]:
    """Every problem of one value against its property schema."""
    if value is None:
        return (
            [] if prop.get("nullable") else [FieldError(field, "must not be null", "invalid_type")]
        )
    secret = bool(prop.get("x-cog-secret"))
    kind = prop.get("type")
    if kind is not None and not _has_type(value, kind):
        got = "a value" if secret else _describe(value)
        return [FieldError(field, f"must be {_JSON_TYPES[kind]} (got {got})", "invalid_type")]
    if kind == "array":
        item_schema = prop.get("items", {})
        return [
            error
            for index, item in enumerate(value)
            for error in check_value(item, item_schema, f"{field}[{index}]")
        ]
    return _constraints(value, prop, field, secret)


def _constraints(value: Any, prop: dict[str, Any], field: str, secret: bool) -> list[FieldError]:
    shown = "the given value" if secret else _show(value)
    errors = []
    if "enum" in prop and value not in prop["enum"]:
        options = ", ".join(_show(option) for option in prop["enum"])
        errors.append(FieldError(field, f"must be one of {options} (got {shown})", "enum"))
    if "minimum" in prop and value < prop["minimum"]:
        errors.append(
            FieldError(field, f"must be >= {prop['minimum']} (got {shown})", "number_gte")
        )
    if "maximum" in prop and value > prop["maximum"]:
        errors.append(
            FieldError(field, f"must be <= {prop['maximum']} (got {shown})", "number_lte")
        )
    if isinstance(value, str):
        errors += _string_constraints(value, prop, field)
    return errors


def _string_constraints(value: str, prop: dict[str, Any], field: str) -> list[FieldError]:
    errors = []
    if "minLength" in prop and len(value) < prop["minLength"]:
        message = f"must be at least {prop['minLength']} characters (got {len(value)})"
        errors.append(FieldError(field, message, "string_gte"))
    if "maxLength" in prop and len(value) > prop["maxLength"]:
        message = f"must be at most {prop['maxLength']} characters (got {len(value)})"
        errors.append(FieldError(field, message, "string_lte"))
    if "pattern" in prop and re.search(prop["pattern"], value) is None:
        message = f"must match the pattern {prop['pattern']!r}"
        errors.append(FieldError(field, message, "pattern"))
    return errors


def _has_type(value: Any, kind: str) -> bool:
    if kind == "integer":
        return _is_integral(value)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    expected = {"string": str, "boolean": bool, "array": list, "object": dict}.get(kind)
    return expected is None or isinstance(value, expected)


def _is_integral(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return math.isfinite(value) and value.is_integer()
    return isinstance(value, int)


def _normalise(value: Any, prop: dict[str, Any]) -> Any:
    """JSON numbers such as `3.0` given for an integer arrive in Python as 3."""
    if prop.get("type") == "integer" and isinstance(value, float):
        return int(value)
    if prop.get("type") == "array" and prop.get("items", {}).get("type") == "integer":
        return [int(v) if isinstance(v, float) else v for v in value]
    return value


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return f"the string {_show(value)}"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _show(value: Any) -> str:
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return f'"{text}"'
    return str(value).lower() if isinstance(value, bool) else repr(value)
