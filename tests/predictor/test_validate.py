"""Input validation: Cog's rules, every error at once, messages a user can act on."""

from __future__ import annotations

import pathlib

import pytest

from foretell.predictor.errors import InvalidInput
from foretell.predictor.load import load_predictor
from foretell.predictor.validate import validate_input

PREDICTORS = pathlib.Path(__file__).parents[1] / "fixtures" / "predictors"
SCHEMA = load_predictor("schema_inputs.py", root=PREDICTORS).schema
VALID = {"text": "hi", "image": "https://example.com/a.png", "api_key": "s3cret"}


def _errors(raw: dict[str, object]) -> dict[str, str]:
    with pytest.raises(InvalidInput) as info:
        validate_input(SCHEMA, raw)
    first: dict[str, str] = {}
    for error in info.value.errors:
        first.setdefault(error.field, error.message)
    return first


def test_defaults_are_applied_and_unknown_fields_dropped() -> None:
    """Missing optional inputs get their defaults; unknown keys are ignored, as Cog does."""
    cleaned = validate_input(SCHEMA, {**VALID, "not_an_input": 1})
    assert cleaned["count"] == 5
    assert cleaned["mode"] == "fast"
    assert cleaned["seed"] is None
    assert cleaned["plain_default"] == 7
    assert "not_an_input" not in cleaned


def test_every_error_is_reported_per_field() -> None:
    """All problems come back together, one message per field."""
    errors = _errors({"image": 3, "count": 101, "mode": "medium", "name": "ABC"})
    assert errors == {
        "text": "is required",
        "image": "must be a string (got the number 3)",
        "count": "must be <= 100 (got 101)",
        "mode": 'must be one of "fast", "slow" (got "medium")',
        "name": "must match the pattern '^[a-z]+$'",
        "api_key": "is required",
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("count", "3", 'must be an integer (got the string "3")'),
        ("count", True, "must be an integer (got the boolean true)"),
        ("count", 0, "must be >= 1 (got 0)"),
        ("ratio", "0.5", 'must be a number (got the string "0.5")'),
        ("flag", "true", 'must be true or false (got the string "true")'),
        ("name", "", "must be at least 1 characters (got 0)"),
        ("name", "abcdefghijkl", "must be at most 10 characters (got 12)"),
        ("level", 4, "must be one of 1, 2, 3 (got 4)"),
        ("text", None, "must not be null"),
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


def test_secret_values_never_appear_in_messages() -> None:
    """A bad secret is reported without echoing it."""
    with pytest.raises(InvalidInput) as info:
        validate_input(SCHEMA, {**VALID, "api_key": 12345})
    assert "12345" not in str(info.value)


def test_null_or_missing_input_is_an_empty_object() -> None:
    """`input: null` counts as `{}` (then required fields are reported)."""
    assert set(_errors(None)) == {"text", "image", "api_key"}  # type: ignore[arg-type]


def test_non_object_input_is_refused() -> None:
    """An input that is not a JSON object gets one clear error."""
    with pytest.raises(InvalidInput, match="must be a JSON object"):
        validate_input(SCHEMA, ["a"])  # type: ignore[arg-type]


def test_list_items_are_checked_with_their_index() -> None:
    """Each list item is validated and named by its position."""
    schema = load_predictor("schema_lists.py", root=PREDICTORS).schema
    raw = {"words": ["a", 2], "images": [], "docs": [], "numbers": [1, "x"]}
    with pytest.raises(InvalidInput) as info:
        validate_input(schema, raw)
    fields = {error.field for error in info.value.errors}
    assert fields == {"words[1]", "numbers[1]"}


def test_error_text_names_each_input() -> None:
    """str(InvalidInput) lists one `input.<field>: <message>` line per problem."""
    with pytest.raises(InvalidInput) as info:
        validate_input(SCHEMA, {**VALID, "count": 500})
    assert str(info.value) == "input.count: must be <= 100 (got 500)"
