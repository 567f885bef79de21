"""Input(...): its options, and Cog's rules for combining them with an input's type."""

from __future__ import annotations

import pathlib
import sys
import textwrap

import pytest

from cog import FieldInfo, Input
from foretell.predictor.errors import PredictorLoadError
from foretell.predictor.load import load_predictor


def _load_input(tmp_path: pathlib.Path, parameter: str) -> dict[str, object]:
    source = f"""
        from typing import Optional
        from cog import BasePredictor, Input, Path, Secret

        class Predictor(BasePredictor):
            def predict(self, {parameter}) -> str:
                return "ok"
        """
    (tmp_path / "predict.py").write_text(textwrap.dedent(source))
    sys.modules.pop("predict", None)
    schema = load_predictor("predict.py", root=tmp_path).schema["components"]["schemas"]
    return schema["Input"]["properties"]["x"]  # type: ignore[no-any-return]


def test_input_returns_a_frozen_field_info() -> None:
    """Input(...) gives a FieldInfo holding every option, as Cog's does."""
    info = Input(
        default=3,
        description="d",
        ge=1,
        le=5,
        deprecated=True,
    )
    assert isinstance(info, FieldInfo)
    assert (info.default, info.description, info.ge, info.le, info.deprecated) == (
        3,
        "d",
        1,
        5,
        True,
    )
    with pytest.raises(AttributeError):
        info.default = 4  # type: ignore[misc]


def test_input_remembers_whether_a_default_was_given() -> None:
    """`Input()` and `Input(default=None)` both read None, but only the latter gave a default."""
    assert Input().default is None and Input().default_given is False
    assert Input(default=None).default_given is True


def test_default_factory_is_refused() -> None:
    """Input(default_factory=...) raises TypeError, as in Cog."""
    with pytest.raises(TypeError, match="default_factory"):
        Input(default_factory=list)


@pytest.mark.parametrize(
    ("parameter", "expected"),
    [
        (
            'x: int = Input(description="n", default=2, ge=0, le=9)',
            {"default": 2, "description": "n", "minimum": 0, "maximum": 9, "type": "integer"},
        ),
        (
            'x: str = Input(default="ab", min_length=1, max_length=3, regex="^a")',
            {"default": "ab", "minLength": 1, "maxLength": 3, "pattern": "^a", "type": "string"},
        ),
        ("x: str = Input(default='a', deprecated=True)", {"deprecated": True, "default": "a"}),
        ("x: Path = Input(accept='.png,.jpg')", {"format": "uri", "x-cog-accept": ".png,.jpg"}),
        ("x: float = 0.5", {"default": 0.5, "type": "number", "title": "X"}),
        ("x: Optional[int] = Input(ge=1)", {"nullable": True, "minimum": 1}),
        ("x: Secret = Input(min_length=8)", {"minLength": 8, "format": "password"}),
    ],
)
def test_options_become_schema_keywords(
    tmp_path: pathlib.Path, parameter: str, expected: dict[str, object]
) -> None:
    """Each Input option appears in the input's schema under Cog's keyword."""
    prop = _load_input(tmp_path, parameter)
    assert {key: prop.get(key) for key in expected} == expected


@pytest.mark.parametrize(
    ("parameter", "message"),
    [
        ("x: str = Input(choices=['a'])", "choices needs at least 2 values"),
        ("x: str = Input(choices=['a', 1])", "every choice must be a str"),
        ("x: int = Input(choices=[1, True])", "every choice must be an int"),
        ("x: float = Input(choices=[1.0, 2.0])", "choices apply to single str and int inputs"),
        ("x: list[str] = Input(choices=['a', 'b'])", "choices apply to single str and int"),
        ("x: int = Input(choices=[1, 2], ge=1)", "can't be combined with ge/le"),
        ("x: str = Input(choices=['a', 'b'], max_length=3)", "can't be combined"),
        ("x: str = Input(ge=1)", "ge/le apply to int and float inputs only"),
        ("x: int = Input(min_length=1)", "min_length/max_length/regex apply to str inputs"),
        ("x: Path = Input(regex='a')", "min_length/max_length/regex apply to str inputs"),
        ("x: str = Input(regex='(')", "regex '\\(' is invalid"),
        ("x: int | str = Input(ge=1)", "don't apply to union inputs"),
        ("x: int = Input(default=0, ge=1)", "input 'x': the default must be >= 1 \\(got 0\\)"),
        ("x: float = Input(default=2.5, le=2)", "the default must be <= 2 \\(got 2.5\\)"),
        ("x: list[int] = Input(default=[1, 9], le=5)", "the default must be <= 5 \\(got 9\\)"),
        ("x: str = Input(default='toolong', max_length=3)", "at most 3 characters long"),
        ("x: str = Input(default='b', regex='^a')", "the default must match the pattern"),
    ],
)
def test_options_that_dont_fit_the_type_are_refused(
    tmp_path: pathlib.Path, parameter: str, message: str
) -> None:
    """Cog's rules for Input options are enforced when the model loads, naming the input."""
    with pytest.raises(PredictorLoadError, match=message):
        _load_input(tmp_path, parameter)


def test_a_default_outside_the_choices_is_accepted(tmp_path: pathlib.Path) -> None:
    """Cog doesn't check a default against its choices, so neither does foretell."""
    prop = _load_input(tmp_path, "x: str = Input(default='c', choices=['a', 'b'])")
    assert prop["default"] == "c"


def test_a_default_of_another_type_is_accepted(tmp_path: pathlib.Path) -> None:
    """Cog writes a default as given without checking its type; foretell does the same."""
    assert _load_input(tmp_path, "x: dict = Input(default='{}')")["default"] == "{}"
