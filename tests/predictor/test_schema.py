"""The OpenAPI schema matches what Cog generates for the same predictors."""

from __future__ import annotations

import copy
import json
import pathlib
from typing import Any

import pytest

from foretell.predictor.load import load_predictor

PREDICTORS = pathlib.Path(__file__).parents[1] / "fixtures" / "predictors"
COG_SCHEMAS = pathlib.Path(__file__).parents[1] / "fixtures" / "cog_schemas"
FIXTURES = sorted(p.stem for p in PREDICTORS.glob("schema_*.py"))


def _schemas(fixture: str) -> dict[str, Any]:
    return load_predictor(f"{fixture}.py", root=PREDICTORS).schema["components"]["schemas"]


def _as_cog_sdk_writes_it(input_component: dict[str, Any]) -> dict[str, Any]:
    """Undo the one documented delta between Cog's Go generator and its Python introspector.

    The committed files come from the introspector (the Go binary is not on PyPI). For
    `Optional[T] = None` the Go generator writes `"default": null` and the introspector writes
    no default; foretell follows the Go generator, so drop that null before comparing.
    """
    component = copy.deepcopy(input_component)
    for prop in component["properties"].values():
        if prop.get("nullable") and prop.get("default", "absent") is None:
            del prop["default"]
    return component


@pytest.mark.parametrize("fixture", FIXTURES)
def test_input_component_matches_cog(fixture: str) -> None:
    """components.schemas.Input equals Cog's for every fixture predictor."""
    cog = json.loads((COG_SCHEMAS / f"{fixture}.json").read_text())
    assert _as_cog_sdk_writes_it(_schemas(fixture)["Input"]) == cog["Input"]


@pytest.mark.parametrize("fixture", FIXTURES)
def test_output_component_matches_cog(fixture: str) -> None:
    """components.schemas.Output equals Cog's for every fixture predictor."""
    cog = json.loads((COG_SCHEMAS / f"{fixture}.json").read_text())
    assert _schemas(fixture)["Output"] == cog["Output"]


@pytest.mark.parametrize("fixture", FIXTURES)
def test_choices_get_named_enum_components_like_cog(fixture: str) -> None:
    """Each input with choices has an enum component named after it, as in Cog."""
    cog = json.loads((COG_SCHEMAS / f"{fixture}.json").read_text())
    schemas = _schemas(fixture)
    for name, enum in cog["enums"].items():
        assert schemas[name] == enum


def test_optional_default_none_is_written_as_null_like_the_go_generator() -> None:
    """`Optional[int] = Input(default=None)` is nullable with an explicit null default."""
    seed = _schemas("schema_inputs")["Input"]["properties"]["seed"]
    assert seed["nullable"] is True and seed["default"] is None


def test_document_has_cogs_layout() -> None:
    """The document is OpenAPI 3.0.2 with Cog's paths and envelope components."""
    document = load_predictor("schema_inputs.py", root=PREDICTORS).schema
    assert document["openapi"] == "3.0.2"
    assert document["info"]["title"] == "Cog"
    assert set(document["paths"]) == {
        "/",
        "/health-check",
        "/predictions",
        "/predictions/{prediction_id}/cancel",
    }
    schemas = document["components"]["schemas"]
    for name in ("PredictionRequest", "PredictionResponse", "Status", "HTTPValidationError"):
        assert name in schemas
    assert schemas["Status"]["enum"] == [
        "starting",
        "processing",
        "succeeded",
        "canceled",
        "failed",
    ]


def test_secret_input_is_write_only_password() -> None:
    """A Secret input is marked x-cog-secret, writeOnly and format password."""
    prop = _schemas("schema_inputs")["Input"]["properties"]["api_key"]
    assert prop["format"] == "password"
    assert prop["writeOnly"] is True
    assert prop["x-cog-secret"] is True
