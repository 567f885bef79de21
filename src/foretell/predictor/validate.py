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
#: Constraints Cog writes on a list input's property that apply to each of its items.
_ITEM_CONSTRAINTS = ("minimum", "maximum", "minLength", "maxLength", "pattern", "enum")


def input_schema(openapi: dict[str, Any]) -> dict[str, Any]:
    """The document's `Input` component, or `TrainingInput` in a trainer's document (which
    describes cog.yaml's `train:` alone)."""
    components = openapi.get("components", {}).get("schemas", {})
    found = components.get("Input")
    if found is None:
        found = components.get("TrainingInput", {})
    return found  # type: ignore[no-any-return]


def validate_input(openapi: dict[str, Any], raw: dict[str, Any] | None) -> dict[str, Any]:
    """Check `raw` against the document's Input schema (a trainer's TrainingInput); return it
    cleaned, or raise InvalidInput.

    Like Cog: unknown fields are dropped, missing optional fields get their default (or null),
    `"3"` is not an integer, and every problem is reported at once.
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InvalidInput([FieldError("", "must be a JSON object", "invalid_type")])
    components = openapi.get("components", {}).get("schemas", {})
    schema = input_schema(openapi)
    required = set(schema.get("required", []))
    cleaned: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name, prop in schema.get("properties", {}).items():
        prop = resolve(prop, components)
        if name not in raw:
            if name in required:
                errors.append(FieldError(name, "required", "required"))
            elif "default" in prop or prop.get("nullable"):
                cleaned[name] = prop.get("default")
            continue
        problems = check_value(raw[name], prop, name)
        if problems:
            errors.extend(problems)
        else:
            cleaned[name] = normalise(raw[name], prop)
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
        if prop.get("nullable"):
            return []
        return [FieldError(field, "must not be null", "invalid_type")]
    secret = bool(prop.get("x-cog-secret"))
    if "anyOf" in prop:
        return _check_any_of(value, prop, field, secret)
    kind = prop.get("type")
    if kind in _JSON_TYPES and not _has_type(value, kind):
        got = "a value of the wrong type" if secret else _describe(value)
        return [FieldError(field, f"must be {_JSON_TYPES[kind]} (got {got})", "invalid_type")]
    if kind == "array":
        item_schema = {**prop.get("items", {})}
        item_schema.update({k: prop[k] for k in _ITEM_CONSTRAINTS if k in prop})
        return [
            error
            for index, item in enumerate(value)
            for error in check_value(item, item_schema, f"{field}[{index}]")
        ]
    return _constraints(value, prop, field, secret)


def _check_any_of(value: Any, prop: dict[str, Any], field: str, secret: bool) -> list[FieldError]:
    variants = prop["anyOf"]
    if any(not check_value(value, variant, field) for variant in variants):
        return []
    if len(variants) == 1:
        return check_value(value, variants[0], field)
    expected = " or ".join(_JSON_TYPES.get(v.get("type", ""), "a value") for v in variants)
    got = "a value of the wrong type" if secret else _describe(value)
    return [FieldError(field, f"must be {expected} (got {got})", "invalid_type")]


def _constraints(value: Any, prop: dict[str, Any], field: str, secret: bool) -> list[FieldError]:
    shown = "the given value" if secret else _show(value)
    errors = []
    if "enum" in prop and value not in prop["enum"]:
        options = ", ".join(_show(option) for option in prop["enum"])
        errors.append(FieldError(field, f"must be one of {options} (got {shown})", "enum"))
    if isinstance(value, int | float) and not isinstance(value, bool):
        errors += _number_constraints(value, prop, field, shown)
    if isinstance(value, str):
        errors += _string_constraints(value, prop, field)
    return errors


def _number_constraints(
    value: float, prop: dict[str, Any], field: str, shown: str
) -> list[FieldError]:
    errors = []
    if not math.isfinite(value):
        errors.append(FieldError(field, f"must be a finite number (got {shown})", "invalid_type"))
    elif "minimum" in prop and value < prop["minimum"]:
        message = f"must be >= {_number(prop['minimum'])} (got {shown})"
        errors.append(FieldError(field, message, "number_gte"))
    elif "maximum" in prop and value > prop["maximum"]:
        message = f"must be <= {_number(prop['maximum'])} (got {shown})"
        errors.append(FieldError(field, message, "number_lte"))
    return errors


def _string_constraints(value: str, prop: dict[str, Any], field: str) -> list[FieldError]:
    errors = []
    if "minLength" in prop and len(value) < prop["minLength"]:
        message = f"must be at least {_characters(prop['minLength'])} long (got {len(value)})"
        errors.append(FieldError(field, message, "string_gte"))
    if "maxLength" in prop and len(value) > prop["maxLength"]:
        message = f"must be at most {_characters(prop['maxLength'])} long (got {len(value)})"
        errors.append(FieldError(field, message, "string_lte"))
    if "pattern" in prop and not _matches(prop["pattern"], value):
        message = f"must match the pattern {prop['pattern']!r}"
        errors.append(FieldError(field, message, "pattern"))
    return errors


def _matches(pattern: str, value: str) -> bool:
    """JSON Schema `pattern`: an unanchored search. A pattern Python can't compile (the schema
    came from elsewhere) checks nothing rather than failing every prediction."""
    try:
        return re.search(pattern, value) is not None
    except re.error:
        return True


def _has_type(value: Any, kind: str) -> bool:
    if kind == "integer":
        return _is_integral(value)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    expected = {"string": str, "boolean": bool, "array": list, "object": dict}[kind]
    return isinstance(value, expected)


def _is_integral(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return math.isfinite(value) and value.is_integer()
    return isinstance(value, int)


def normalise(value: Any, prop: dict[str, Any]) -> Any:
    """JSON numbers such as `3.0` given for an integer arrive in Python as 3."""
    kind = prop.get("type")
    if kind == "integer" and isinstance(value, float):
        return int(value)
    if kind == "array" and isinstance(value, list):
        items = prop.get("items", {})
        return [normalise(item, items) for item in value]
    return value


def default_errors(openapi: dict[str, Any]) -> list[FieldError]:
    """Defaults a model declares that break their own input's bounds, lengths or pattern.
    As in Cog, a default's type and its membership of `choices` are not checked."""
    components = openapi.get("components", {}).get("schemas", {})
    errors = []
    for name, prop in input_schema(openapi).get("properties", {}).items():
        default = prop.get("default")
        if default is None:
            continue
        prop = {k: v for k, v in resolve(prop, components).items() if k != "enum"}
        values = default if isinstance(default, list) else [default]
        for value in values:
            if isinstance(value, int | float | str) and not isinstance(value, bool):
                errors += _constraints(value, prop, name, False)
    return errors


def _characters(count: int) -> str:
    return "1 character" if count == 1 else f"{count} characters"


def _number(value: float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return f"the string {_show(value)}"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {_show(value)}"
    if isinstance(value, list):
        return "a list"
    return "an object" if isinstance(value, dict) else f"a {type(value).__name__}"


def _show(value: Any) -> str:
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return f'"{text}"'
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return repr(value)
