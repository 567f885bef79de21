"""Form fields and output kinds from Cog schemas (the committed real-Cog fixtures)."""

from __future__ import annotations

import json
import pathlib
from typing import Any

from foretell.web.fields import example_input, input_fields, output_kind, output_summary

COG_SCHEMAS = pathlib.Path(__file__).parents[1] / "fixtures" / "cog_schemas"


def schema(name: str) -> dict[str, Any]:
    """A fixture's components as a whole OpenAPI document (`enums` are components too)."""
    data = json.loads((COG_SCHEMAS / f"{name}.json").read_text())
    schemas = {"Input": data["Input"], "Output": data["Output"], **data.get("enums", {})}
    return {"components": {"schemas": schemas}}


def by_name(name: str) -> dict[str, Any]:
    return {f.name: f for f in input_fields(schema(name))}


def test_choices_resolve_through_allof_ref() -> None:
    """Cog's `allOf` + `$ref` enums become choice fields with their values, types and defaults."""
    fields = by_name("schema_choices")
    assert fields["size"].kind == "choice" and fields["size"].choices == (
        "small",
        "medium",
        "large",
    )
    assert fields["size"].required and not fields["size"].has_default
    assert fields["steps"].choices == (10, 20, 50) and fields["steps"].default == 20
    assert fields["steps"].type_name == "integer (choice)"
    assert fields["mode"].description == "Quality mode"  # not the enum's "An enumeration."
    assert fields["mode"].title == "Mode"


def test_every_input_kind_gets_its_widget() -> None:
    """Strings, numbers, booleans, files, secrets, lists and JSON each get their own kind."""
    kinds = {name: f.kind for name, f in by_name("schema_inputs").items()}
    assert kinds["text"] == "textarea"  # a prompt-like name gets a multi-line box
    assert kinds["image"] == "file"
    assert kinds["count"] == "integer" and kinds["ratio"] == "number"
    assert kinds["flag"] == "boolean"
    assert kinds["api_key"] == "secret"
    assert kinds["name"] == "text"  # short (max_length 10)
    lists = by_name("schema_lists")
    assert lists["numbers"].kind == "list" and lists["numbers"].item_kind == "integer"
    assert lists["images"].item_kind == "file"


def test_bounds_make_sliders_and_order_follows_x_order() -> None:
    """Numbers bounded on both sides are sliders; fields come in x-order."""
    fields = input_fields(schema("schema_numbers"))
    assert [f.name for f in fields] == [
        "guidance",
        "ratio",
        "offset",
        "width",
        "scales",
        "temperature",
    ]
    named = {f.name: f for f in fields}
    assert named["guidance"].is_slider and (
        named["guidance"].minimum,
        named["guidance"].maximum,
    ) == (1.0, 20.0)
    assert not named["width"].is_slider and not named["temperature"].is_slider
    shuffled = schema("schema_numbers")
    props = shuffled["components"]["schemas"]["Input"]["properties"]
    props["guidance"]["x-order"] = 9
    assert [f.name for f in input_fields(shuffled)][-1] == "guidance"


def test_output_kinds() -> None:
    """Concatenated iterators stream as text; files, lists and objects are told apart."""
    assert output_kind(schema("schema_concatenate")) == "stream"
    assert output_kind(schema("schema_path_output")) == "file"
    assert output_kind(schema("schema_list_output")) == "list"
    assert output_kind(schema("schema_object_output")) == "json"
    assert output_summary({}).startswith("unknown")


def test_example_input_prefers_the_default_example() -> None:
    """Docs show the model's example; without one, placeholders for the required inputs."""
    fields = input_fields(schema("schema_choices"))
    assert example_input(fields, {"input": {"size": "large"}}) == {"size": "large"}
    assert example_input(fields, None) == {"size": "small"}
