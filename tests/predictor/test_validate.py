"""Input validation: Cog's rules, every error at once, messages a user can act on."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest

from foretell.predictor.errors import FieldError, InvalidInput
from foretell.predictor.load import load_predictor
from foretell.predictor.validate import validate_input

PREDICTORS = pathlib.Path(__file__).parents[1] / "fixtures" / "predictors"


def _schema(fixture: str) -> dict[str, Any]:
    # Round-tripped through JSON, as the server validates from the stored schema.
    document = load_predictor(f"{fixture}.py", root=PREDICTORS).schema
    return json.loads(json.dumps(document))  # type: ignore[no-any-return]


SCHEMA = _schema("schema_inputs")
VALID = {"text": "hi", "image": "https://example.com/a.png", "api_key": "s3cret"}


def _errors(raw: Any, schema: dict[str, Any] = SCHEMA) -> dict[str, str]:
    with pytest.raises(InvalidInput) as info:
        validate_input(schema, raw)
    first: dict[str, str] = {}
    for error in info.value.errors:
        first.setdefault(error.field, error.message)
    return first


def _kinds(raw: Any, schema: dict[str, Any] = SCHEMA) -> dict[str, str]:
    with pytest.raises(InvalidInput) as info:
        validate_input(schema, raw)
    kinds: dict[str, str] = {}
    for error in info.value.errors:
        kinds.setdefault(error.field, error.kind)
    return kinds


def test_defaults_are_applied_and_unknown_fields_dropped() -> None:
    """Missing optional inputs get their defaults; unknown keys are ignored, as Cog does."""
    cleaned = validate_input(SCHEMA, {**VALID, "not_an_input": 1})
    assert cleaned["count"] == 5
    assert cleaned["mode"] == "fast"
    assert cleaned["seed"] is None
    assert cleaned["plain_default"] == 7
    assert "not_an_input" not in cleaned


def test_optional_input_without_default_arrives_as_null() -> None:
    """A nullable input with no default that is left out is passed as None (coglet injects null)."""
    cleaned = validate_input(_schema("schema_optional"), {})
    assert cleaned["strength"] is None and cleaned["caption"] == "none"


def test_every_error_is_reported_per_field() -> None:
    """All problems come back together, one actionable message per field."""
    errors = _errors({"image": 3, "count": 101, "mode": "medium", "name": "ABC"})
    assert errors == {
        "text": "required",
        "image": "must be a string (got the number 3)",
        "count": "must be <= 100 (got 101)",
        "mode": 'must be one of "fast", "slow" (got "medium")',
        "name": "must match the pattern '^[a-z]+$'",
        "api_key": "required",
    }


def test_error_kinds_use_json_schema_words() -> None:
    """FieldError.kind names the failed rule the way Replicate's invalid_fields does."""
    kinds = _kinds({"image": 3, "count": 0, "ratio": 2, "mode": "x", "name": "", "old": "A"})
    assert kinds == {
        "text": "required",
        "image": "invalid_type",
        "count": "number_gte",
        "ratio": "number_lte",
        "mode": "enum",
        "name": "string_gte",
        "api_key": "required",
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("count", "3", 'must be an integer (got the string "3")'),
        ("count", True, "must be an integer (got the boolean true)"),
        ("count", 2.5, "must be an integer (got the number 2.5)"),
        ("count", 0, "must be >= 1 (got 0)"),
        ("ratio", "0.5", 'must be a number (got the string "0.5")'),
        ("ratio", float("nan"), "must be a finite number (got NaN)"),
        ("flag", "true", 'must be true or false (got the string "true")'),
        ("flag", 1, "must be true or false (got the number 1)"),
        ("name", "", "must be at least 1 character long (got 0)"),
        ("name", "abcdefghijkl", "must be at most 10 characters long (got 12)"),
        ("level", 4, "must be one of 1, 2, 3 (got 4)"),
        ("level", "2", 'must be an integer (got the string "2")'),
        ("text", None, "must not be null"),
        ("text", ["a"], "must be a string (got a list)"),
        ("text", {"a": 1}, "must be a string (got an object)"),
    ],
)
def test_types_are_strict_like_json_schema(field: str, value: object, message: str) -> None:
    """A value of the wrong type or out of bounds is refused with a precise message."""
    assert _errors({**VALID, field: value})[field] == message


def test_int_is_accepted_for_a_float_and_integral_float_for_an_int() -> None:
    """JSON 1 is a valid number and 3.0 a valid integer (arriving as 3)."""
    cleaned = validate_input(SCHEMA, {**VALID, "ratio": 1, "count": 3.0})
    assert cleaned["ratio"] == 1
    assert cleaned["count"] == 3 and isinstance(cleaned["count"], int)


def test_pattern_is_an_unanchored_search_like_json_schema() -> None:
    """`pattern` matches anywhere in the string, as JSON Schema (and Cog's edge) does."""
    schema = _schema("schema_strings")
    cleaned = validate_input(schema, {"prompt": "p", "code": "AB"})
    assert cleaned["code"] == "AB"
    assert _errors({"prompt": "p", "code": "ab"}, schema)["code"] == (
        "must match the pattern '[A-Z]{2}'"
    )


def test_secret_values_never_appear_in_messages() -> None:
    """A bad secret is reported without echoing it."""
    with pytest.raises(InvalidInput) as info:
        validate_input(SCHEMA, {**VALID, "api_key": 12345})
    assert "12345" not in str(info.value)
    assert info.value.errors == [
        FieldError("api_key", "must be a string (got a value of the wrong type)", "invalid_type")
    ]


def test_null_or_missing_input_is_an_empty_object() -> None:
    """`input: null` counts as `{}` (then required fields are reported)."""
    assert set(_errors(None)) == {"text", "image", "api_key"}


def test_non_object_input_is_refused() -> None:
    """An input that is not a JSON object gets one clear error."""
    with pytest.raises(InvalidInput, match="^input: must be a JSON object$"):
        validate_input(SCHEMA, ["a"])  # type: ignore[arg-type]


def test_list_items_are_checked_with_their_index() -> None:
    """Each list item is validated and named by its position."""
    schema = _schema("schema_lists")
    raw = {"words": ["a", 2], "images": [], "docs": [], "numbers": [1, "x"]}
    errors = _errors(raw, schema)
    assert errors == {
        "words[1]": "must be a string (got the number 2)",
        "numbers[1]": 'must be an integer (got the string "x")',
    }


def test_a_list_input_must_be_a_list() -> None:
    """A single value given for a list input is refused, not wrapped."""
    schema = _schema("schema_lists")
    assert _errors({"words": "a", "images": [], "docs": []}, schema) == {
        "words": 'must be a list (got the string "a")'
    }


def test_bounds_and_lengths_apply_to_each_list_item() -> None:
    """ge/le and min_length on a list input are enforced on every item, as Cog does."""
    numbers = _schema("schema_numbers")
    assert _errors({"width": 64, "scales": [0.5, 3]}, numbers) == {
        "scales[1]": "must be <= 2 (got 3)"
    }
    strings = _schema("schema_strings")
    assert _errors({"prompt": "p", "code": "AB", "words": ["a", ""]}, strings) == {
        "words[1]": "must be at least 1 character long (got 0)"
    }


def test_nullable_inputs_accept_null() -> None:
    """An explicit null is accepted for a nullable input and refused otherwise."""
    schema = _schema("schema_optional")
    assert validate_input(schema, {"seed": None, "tags": None})["seed"] is None
    assert _errors({**VALID, "count": None})["count"] == "must not be null"


def test_unions_accept_any_of_their_types() -> None:
    """A union input takes a value of any member type and refuses the rest, naming them."""
    schema = _schema("schema_unions")
    assert validate_input(schema, {"size": 512, "scale": 1.5})["size"] == 512
    assert validate_input(schema, {"size": "hd", "scale": 2})["size"] == "hd"
    assert validate_input(schema, {"scale": 1, "stops": ["a"]})["stops"] == ["a"]
    assert _errors({"size": True, "scale": "x"}, schema) == {
        "size": "must be an integer or a string (got the boolean true)",
        "scale": 'must be an integer or a number (got the string "x")',
    }


def test_object_inputs_take_any_json_object() -> None:
    """dict and Opaque inputs accept any JSON object, and lists of objects."""
    schema = _schema("schema_objects")
    raw = {"options": {"a": [1]}, "messages": [{"role": "user"}], "tensors": [{}], "anything": []}
    assert validate_input(schema, raw)["options"] == {"a": [1]}
    assert _errors({**raw, "messages": ["hi"]}, schema) == {
        "messages[0]": 'must be an object (got the string "hi")'
    }


def test_error_text_names_each_input() -> None:
    """str(InvalidInput) lists one `input.<field>: <message>` line per problem."""
    with pytest.raises(InvalidInput) as info:
        validate_input(SCHEMA, {**VALID, "count": 500, "flag": "no"})
    assert str(info.value).splitlines() == [
        "input.count: must be <= 100 (got 500)",
        'input.flag: must be true or false (got the string "no")',
    ]


def test_a_schema_with_an_invalid_pattern_checks_nothing_for_it() -> None:
    """A stored schema whose pattern Python can't compile does not fail every prediction."""
    schema = {
        "components": {
            "schemas": {"Input": {"properties": {"a": {"type": "string", "pattern": "(?<x>y)"}}}}
        }
    }
    assert validate_input(schema, {"a": "z"}) == {"a": "z"}
