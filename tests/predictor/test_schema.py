"""The OpenAPI schema matches what Cog generates for the same predictors."""

from __future__ import annotations

import copy
import json
import pathlib
import sys
import textwrap
from typing import Any

import pytest

from foretell.predictor.errors import PredictorLoadError
from foretell.predictor.load import load_predictor

PREDICTORS = pathlib.Path(__file__).parents[1] / "fixtures" / "predictors"
COG_SCHEMAS = pathlib.Path(__file__).parents[1] / "fixtures" / "cog_schemas"
FIXTURES = sorted(p.stem for p in PREDICTORS.glob("schema_*.py"))


def _schemas(fixture: str) -> dict[str, Any]:
    schemas: dict[str, Any] = load_predictor(f"{fixture}.py", root=PREDICTORS).schema
    return schemas["components"]["schemas"]  # type: ignore[no-any-return]


def _cog(fixture: str) -> dict[str, Any]:
    cog: dict[str, Any] = json.loads((COG_SCHEMAS / f"{fixture}.json").read_text())
    return cog


def _model_schemas(tmp_path: pathlib.Path, source: str) -> dict[str, Any]:
    (tmp_path / "predict.py").write_text(textwrap.dedent(source))
    sys.modules.pop("predict", None)
    document: dict[str, Any] = load_predictor("predict.py", root=tmp_path).schema
    return document["components"]["schemas"]  # type: ignore[no-any-return]


def _as_cog_sdk_writes_it(ours: dict[str, Any], cog: dict[str, Any]) -> dict[str, Any]:
    """Our Input component, with the deltas cog.md (Appendix A.5) documents between Cog's Go
    generator — which foretell follows — and the SDK introspector that wrote the fixture files
    (the Go binary is not on PyPI) undone. Only these:

    - `Secret = Input(default=None)`: Go makes it nullable and optional with a null default;
      the introspector leaves it required. Recognised as a Secret property the introspector
      lists in `required` while ours is nullable with a null default.
    - `Optional[T] = None`: Go writes `"default": null`; the introspector writes no default.
    - ge/le printed as floats (`1.0` for `ge=1`): no code needed, see `_same`.
    """
    component = copy.deepcopy(ours)
    required = set(component.get("required", []))
    for name, prop in component["properties"].items():
        null_default = prop.get("nullable") and prop.get("default", "absent") is None
        if null_default and prop.get("x-cog-secret") and name in cog.get("required", []):
            del prop["nullable"], prop["default"]
            required.add(name)
        elif null_default:
            del prop["default"]
    ordered = [name for name in component["properties"] if name in required]
    if ordered:
        component["required"] = ordered
    return component


def _same(a: Any, b: Any) -> bool:
    """JSON equality: 1 and 1.0 are the same JSON number (so the introspector's float ge/le
    match Go's integers), but true is not 1. Key order inside an object doesn't count (Go
    sorts keys); the order of `properties` is checked on its own."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[key], b[key]) for key in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and bool(a == b)


@pytest.mark.parametrize("fixture", FIXTURES)
def test_input_component_matches_cog(fixture: str) -> None:
    """components.schemas.Input equals Cog's for every fixture predictor, in signature order."""
    cog = _cog(fixture)["Input"]
    ours = _as_cog_sdk_writes_it(_schemas(fixture)["Input"], cog)
    assert list(ours["properties"]) == list(cog["properties"])
    assert _same(ours, cog), json.dumps(ours, indent=1)


@pytest.mark.parametrize("fixture", FIXTURES)
def test_output_component_matches_cog(fixture: str) -> None:
    """components.schemas.Output equals Cog's for every fixture predictor."""
    ours = _schemas(fixture)["Output"]
    assert _same(ours, _cog(fixture)["Output"]), json.dumps(ours, indent=1)


@pytest.mark.parametrize("fixture", FIXTURES)
def test_choices_get_named_enum_components_like_cog(fixture: str) -> None:
    """Each input with choices has an enum component named after it, as in Cog."""
    schemas = _schemas(fixture)
    for name, enum in _cog(fixture)["enums"].items():
        assert _same(schemas[name], enum)


def test_fixtures_cover_every_input_and_output_type() -> None:
    """The compared fixtures use every input type and output shape foretell supports."""
    props = [p for f in FIXTURES for p in _schemas(f)["Input"]["properties"].values()]
    outputs = [_schemas(f)["Output"] for f in FIXTURES]
    seen = {json.dumps({k: p.get(k) for k in ("type", "format")}) for p in props}
    for kind in ("string", "integer", "number", "boolean", "array", "object"):
        assert json.dumps({"type": kind, "format": None}) in seen
    assert json.dumps({"type": "string", "format": "uri"}) in seen
    assert json.dumps({"type": "string", "format": "password"}) in seen
    assert any("anyOf" in p for p in props) and any("allOf" in p for p in props)
    assert any(p.get("nullable") for p in props)
    shapes = {
        (o.get("type"), o.get("x-cog-array-type"), o.get("x-cog-array-display")) for o in outputs
    }
    assert ("array", "iterator", "concatenate") in shapes and ("array", "iterator", None) in shapes
    assert ("object", None, None) in shapes and ("array", None, None) in shapes


def test_optional_default_none_is_written_as_null_like_the_go_generator() -> None:
    """`Optional[int] = Input(default=None)` is nullable with an explicit null default."""
    seed = _schemas("schema_optional")["Input"]["properties"]["seed"]
    assert seed["nullable"] is True and seed["default"] is None


def test_optional_without_default_has_no_default_key() -> None:
    """`Optional[float] = Input(ge=0, le=1)` (no default) is nullable, optional, default-less."""
    schemas = _schemas("schema_optional")["Input"]
    strength = schemas["properties"]["strength"]
    assert strength["nullable"] is True and "default" not in strength
    assert "strength" not in schemas.get("required", [])


def test_bare_secret_default_none_is_optional_like_the_go_generator() -> None:
    """`Secret = Input(default=None)` is nullable and optional, Go's special case."""
    schemas = _schemas("schema_secret")["Input"]
    assert schemas["properties"]["api_key"]["nullable"] is True
    assert schemas["required"] == ["token", "password"]


def test_non_optional_default_none_is_optional_and_nullable(tmp_path: pathlib.Path) -> None:
    """`seed: int = Input(default=None)` is optional and nullable (cog.md §1.2 recommendation;
    Cog's Go generator would make it required)."""
    schemas = _model_schemas(
        tmp_path,
        """
        from cog import BasePredictor, Input

        class Predictor(BasePredictor):
            def predict(self, prompt: str, seed: int = Input(default=None)) -> str:
                return prompt
        """,
    )
    seed = schemas["Input"]["properties"]["seed"]
    assert (seed["type"], seed["nullable"], seed["default"]) == ("integer", True, None)
    assert schemas["Input"]["required"] == ["prompt"]


def test_accept_becomes_x_cog_accept(tmp_path: pathlib.Path) -> None:
    """`Input(accept=...)` on a Path input is written as `x-cog-accept`."""
    schemas = _model_schemas(
        tmp_path,
        """
        from cog import BasePredictor, Input, Path

        class Predictor(BasePredictor):
            def predict(self, image: Path = Input(accept="image/*")) -> str:
                return "ok"
        """,
    )
    assert schemas["Input"]["properties"]["image"]["x-cog-accept"] == "image/*"


def test_nested_models_and_typed_dicts_in_outputs_follow_the_go_generator(
    tmp_path: pathlib.Path,
) -> None:
    """Lists of models, nested models and dict[str, V] outputs are described as Cog's Go
    generator does (the SDK introspector can't describe them)."""
    schemas = _model_schemas(
        tmp_path,
        """
        from typing import Any, Optional
        from cog import BaseModel, BasePredictor

        class Box(BaseModel):
            label: str
            score: float = 0.0

        class Page(BaseModel):
            boxes: list[Box]
            counts: dict[str, int]
            meta: Optional[dict[str, Any]]

        class Predictor(BasePredictor):
            def predict(self, n: int) -> list[Page]:
                return []
        """,
    )
    box = {
        "type": "object",
        "properties": {
            "label": {"type": "string", "title": "Label"},
            "score": {"type": "number", "title": "Score"},
        },
        "required": ["label"],
    }
    page = {
        "type": "object",
        "properties": {
            "boxes": {"type": "array", "items": box, "title": "Boxes"},
            "counts": {
                "type": "object",
                "additionalProperties": {"type": "integer"},
                "title": "Counts",
            },
            "meta": {"type": "object", "nullable": True, "title": "Meta"},
        },
        "required": ["boxes", "counts"],
    }
    assert schemas["Output"] == {"title": "Output", "type": "array", "items": page}


def test_any_output_is_an_object_like_the_go_generator(tmp_path: pathlib.Path) -> None:
    """An `Any` output is `{"type": "object"}` as in Cog's Go generator (the SDK wrote `{}`)."""
    schemas = _model_schemas(
        tmp_path,
        """
        from typing import Any
        from cog import BasePredictor

        class Predictor(BasePredictor):
            def predict(self, n: int) -> Any:
                return n
        """,
    )
    assert schemas["Output"] == {"title": "Output", "type": "object"}


def test_nullable_union_marks_each_variant_like_the_go_generator(tmp_path: pathlib.Path) -> None:
    """`int | str | None` is an anyOf whose variants and union are nullable, and required
    unless it has a default (Go's rules for unions)."""
    schemas = _model_schemas(
        tmp_path,
        """
        from cog import BasePredictor

        class Predictor(BasePredictor):
            def predict(self, size: int | str | None, other: int | str | None = None) -> str:
                return "ok"
        """,
    )
    size = schemas["Input"]["properties"]["size"]
    assert size["anyOf"] == [
        {"type": "integer", "nullable": True},
        {"type": "string", "nullable": True},
    ]
    assert size["nullable"] is True
    assert schemas["Input"]["required"] == ["size"]


def test_enum_defaults_and_choices_are_written_as_values(tmp_path: pathlib.Path) -> None:
    """Enum members given as a default or as choices appear as their values."""
    schemas = _model_schemas(
        tmp_path,
        """
        import enum
        from cog import BasePredictor, Input

        class Size(str, enum.Enum):
            SMALL = "small"
            LARGE = "large"

        class Predictor(BasePredictor):
            def predict(self, size: str = Input(default=Size.SMALL, choices=list(Size))) -> str:
                return size
        """,
    )
    assert schemas["Input"]["properties"]["size"]["default"] == "small"
    assert schemas["size"]["enum"] == ["small", "large"]
    json.dumps(schemas)  # the whole document is JSON


@pytest.mark.parametrize(
    ("annotation", "message"),
    [
        ("Optional[str]", "Optional outputs are not supported"),
        ("int | str", "union outputs are not supported"),
        ("list[Optional[str]]", "Optional outputs are not supported"),
        ("ConcatenateIterator[int]", "items must be str"),
        ("set[str]", "unsupported type"),
        ("Literal['a', 'b']", "use Input\\(choices="),
    ],
)
def test_unsupported_outputs_are_refused(
    tmp_path: pathlib.Path, annotation: str, message: str
) -> None:
    """Output types Cog can't describe are refused at load, naming the problem."""
    source = f"""
        from typing import Literal, Optional
        from cog import BasePredictor, ConcatenateIterator

        class Predictor(BasePredictor):
            def predict(self, n: int) -> {annotation}:
                raise NotImplementedError
        """
    with pytest.raises(PredictorLoadError, match=message):
        _model_schemas(tmp_path, source)


def test_document_has_cogs_layout() -> None:
    """The document is OpenAPI 3.0.2 with Cog's paths and envelope components."""
    document = load_predictor("schema_inputs.py", root=PREDICTORS).schema
    assert document["openapi"] == "3.0.2"
    assert document["info"] == {"title": "Cog", "version": "0.23.1"}
    assert list(document["paths"]) == [
        "/",
        "/health-check",
        "/predictions",
        "/predictions/{prediction_id}/cancel",
    ]
    post = document["paths"]["/predictions"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PredictionRequest"
    }
    assert set(post["responses"]) == {"200", "422"}
    schemas = document["components"]["schemas"]
    assert list(schemas)[:2] == ["Input", "Output"]
    for name in ("PredictionRequest", "PredictionResponse", "Status", "HTTPValidationError"):
        assert name in schemas
    assert schemas["ValidationError"]["required"] == ["loc", "msg", "type"]
    response = schemas["PredictionResponse"]["properties"]
    assert response["status"] == {"title": "Status", "type": "string"}
    assert response["output"] == {"$ref": "#/components/schemas/Output"}
    assert schemas["Status"]["enum"] == [
        "starting",
        "processing",
        "succeeded",
        "canceled",
        "failed",
    ]
    json.dumps(document)


def test_secret_input_is_write_only_password() -> None:
    """A Secret input is marked x-cog-secret, writeOnly and format password."""
    prop = _schemas("schema_secret")["Input"]["properties"]["token"]
    assert prop["format"] == "password"
    assert prop["writeOnly"] is True
    assert prop["x-cog-secret"] is True
