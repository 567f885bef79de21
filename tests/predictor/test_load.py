"""Loading predictors: both Cog spellings, function predictors, and clear signature errors."""

from __future__ import annotations

import pathlib
import textwrap

import pytest

from foretell.predictor.errors import PredictorLoadError
from foretell.predictor.load import load_predictor


def _model(tmp_path: pathlib.Path, source: str) -> pathlib.Path:
    (tmp_path / "predict.py").write_text(textwrap.dedent(source))
    return tmp_path


def test_runner_run_spelling_loads(predictors_dir: pathlib.Path) -> None:
    """Cog 0.23's BaseRunner/run() is found without naming the class."""
    loaded = load_predictor("schema_runner.py", root=predictors_dir)
    assert loaded.call({"steps": 3, "label": "a"}) == 3


def test_legacy_predict_spelling_loads(predictors_dir: pathlib.Path) -> None:
    """BasePredictor/predict() loads and is called."""
    loaded = load_predictor("schema_primitives_out.py:Predictor", root=predictors_dir)
    assert loaded.call({"value": 2.5}) == 2.5
    assert loaded.is_async is False


def test_async_predictor_is_detected(predictors_dir: pathlib.Path) -> None:
    """An async generator predict() is reported as async."""
    assert load_predictor("schema_async_concatenate.py", root=predictors_dir).is_async


def test_function_predictor(tmp_path: pathlib.Path) -> None:
    """A plain function can be the predict target."""
    root = _model(
        tmp_path,
        """
        def predict(text: str = "a") -> str:
            return text * 2
        """,
    )
    loaded = load_predictor("predict.py:predict", root=root)
    assert loaded.call({"text": "ab"}) == "abab"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "class Predictor(BasePredictor):\n"
            "    def predict(self, x: int) -> int: ...\n"
            "    def run(self, x: int) -> int: ...\n",
            "either run\\(\\) or predict\\(\\), not both",
        ),
        (
            "class Predictor(BasePredictor):\n    def predict(self, x) -> int: ...\n",
            "input 'x': add a type annotation",
        ),
        (
            "class Predictor(BasePredictor):\n    def predict(self, *args: int) -> int: ...\n",
            "not allowed",
        ),
        (
            "class Predictor(BasePredictor):\n    def predict(self, x: int): ...\n",
            "add a return annotation",
        ),
        (
            "class Predictor(BasePredictor):\n"
            "    def predict(self, x: int = Input(default=0, ge=1)) -> int: ...\n",
            "default 0 is below ge=1",
        ),
        (
            "class Predictor(BasePredictor):\n"
            "    def predict(self, x: str = Input(choices=['a'])) -> str: ...\n",
            "at least 2 values",
        ),
        (
            "class Predictor(BasePredictor):\n"
            "    def setup(self, model_path: str) -> None: ...\n"
            "    def predict(self, x: str) -> str: ...\n",
            "only an optional `weights`",
        ),
        ("class Predictor(BasePredictor):\n    pass\n", "neither run\\(\\) nor predict\\(\\)"),
        ("raise RuntimeError('boom at import')\n", "boom at import"),
        ("class Other: pass\n", "no Runner or Predictor"),
    ],
)
def test_invalid_predictors_get_actionable_errors(
    tmp_path: pathlib.Path, source: str, message: str
) -> None:
    """Each invalid model is refused with a message that says what to fix."""
    root = _model(tmp_path, "from cog import BasePredictor, Input\n" + source)
    with pytest.raises(PredictorLoadError, match=message):
        load_predictor("predict.py", root=root)


def test_missing_module_file(tmp_path: pathlib.Path) -> None:
    """A ref to a file that doesn't exist names the path."""
    with pytest.raises(PredictorLoadError, match="does not exist"):
        load_predictor("nope.py:Predictor", root=tmp_path)


def test_input_without_default_is_required_but_default_none_is_optional(
    tmp_path: pathlib.Path,
) -> None:
    """`Input()` keeps an input required; `Input(default=None)` makes it optional and nullable."""
    root = _model(
        tmp_path,
        """
        from cog import BasePredictor, Input

        class Predictor(BasePredictor):
            def predict(
                self, a: str = Input(description="d"), seed: int = Input(default=None)
            ) -> str:
                return a
        """,
    )
    component = load_predictor("predict.py", root=root).schema["components"]["schemas"]["Input"]
    assert component["required"] == ["a"]
    assert component["properties"]["seed"]["nullable"] is True


def test_default_factory_is_refused() -> None:
    """Input(default_factory=...) raises TypeError, as in Cog."""
    from cog import Input

    with pytest.raises(TypeError, match="default_factory"):
        Input(default_factory=list)
