"""Loading predictors: both Cog spellings, function predictors, and clear signature errors."""

from __future__ import annotations

import asyncio
import inspect
import pathlib
import sys
import textwrap

import pytest

from foretell.predictor.errors import PredictorLoadError
from foretell.predictor.load import LoadedPredictor, load_predictor

HEADER = "from cog import BasePredictor, BaseRunner, Input, Path, concurrent\n"


def _load(tmp_path: pathlib.Path, source: str, ref: str = "predict.py") -> LoadedPredictor:
    (tmp_path / "predict.py").write_text(HEADER + textwrap.dedent(source))
    sys.modules.pop("predict", None)
    return load_predictor(ref, root=tmp_path)


def test_runner_run_spelling_loads(predictors_dir: pathlib.Path) -> None:
    """Cog 0.23's BaseRunner/run() is found without naming the class."""
    loaded = load_predictor("schema_runner.py", root=predictors_dir)
    assert loaded.call({"steps": 3, "label": "a"}) == 3


def test_legacy_predict_spelling_loads(predictors_dir: pathlib.Path) -> None:
    """BasePredictor/predict() loads and is called."""
    loaded = load_predictor("schema_primitives_out.py:Predictor", root=predictors_dir)
    assert loaded.call({"value": 2.5}) == 2.5
    assert loaded.is_async is False


def test_async_runner_with_async_setup(predictors_dir: pathlib.Path) -> None:
    """An async run() and async setup(weights) are detected and awaitable."""
    loaded = load_predictor("schema_async_runner.py", root=predictors_dir)
    assert loaded.is_async and loaded.setup_is_async
    asyncio.run(loaded.setup("https://example.com/w.tar"))
    assert loaded.target.weights == "https://example.com/w.tar"

    async def collect() -> list[str]:
        return [token async for token in loaded.call({"prompt": "hi", "max_tokens": 1})]

    assert asyncio.run(collect()) == ["hi"]


def test_async_generator_predict_is_async(predictors_dir: pathlib.Path) -> None:
    """An async generator predict() is reported as async."""
    assert load_predictor("schema_async_concatenate.py", root=predictors_dir).is_async


def test_generators_are_returned_unconsumed(predictors_dir: pathlib.Path) -> None:
    """call() hands back the generator; the worker iterates it."""
    result = load_predictor("schema_iterator.py", root=predictors_dir).call({"n": 1})
    assert inspect.isgenerator(result)


def test_function_predictor(tmp_path: pathlib.Path) -> None:
    """A plain function can be the predict target; it has no setup."""
    loaded = _load(
        tmp_path,
        """
        def predict(text: str = "a") -> str:
            return text * 2
        """,
        "predict.py:predict",
    )
    assert loaded.call({"text": "ab"}) == "abab"
    assert loaded.setup(None) is None and loaded.setup_is_async is False
    assert list(loaded.schema["components"]["schemas"]["Input"]["properties"]) == ["text"]


def test_module_is_registered_under_its_basename(tmp_path: pathlib.Path) -> None:
    """The model module is importable by name (pickle needs it) and its root is on sys.path."""
    (tmp_path / "helpers.py").write_text("VALUE = 41\n")
    loaded = _load(
        tmp_path,
        """
        import helpers

        class Predictor(BasePredictor):
            def predict(self) -> int:
                return helpers.VALUE + 1
        """,
    )
    assert loaded.call({}) == 42
    assert sys.modules["predict"].Predictor is type(loaded.target)


def test_runner_is_preferred_and_an_unusable_runner_falls_back_to_predictor(
    tmp_path: pathlib.Path,
) -> None:
    """With no class named, a usable Runner wins; a Runner without run() yields to Predictor."""
    both = _load(
        tmp_path,
        """
        class Runner(BaseRunner):
            def run(self) -> str:
                return "runner"

        class Predictor(BasePredictor):
            def predict(self) -> str:
                return "predictor"
        """,
    )
    assert both.call({}) == "runner"
    fallback = _load(
        tmp_path,
        """
        class Runner:
            pass

        class Predictor(BasePredictor):
            def predict(self) -> str:
                return "predictor"
        """,
    )
    assert fallback.call({}) == "predictor"


def test_setup_gets_weights_only_when_it_asks(tmp_path: pathlib.Path) -> None:
    """setup(self, weights) receives the weights; setup(self) is called without them."""
    loaded = _load(
        tmp_path,
        """
        class Predictor(BasePredictor):
            def setup(self, weights: Path | None = None, device: str = "cpu") -> None:
                self.weights, self.device = weights, device

            def predict(self) -> str:
                return f"{self.weights}@{self.device}"
        """,
    )
    assert loaded.setup("w.bin") is None and loaded.call({}) == "w.bin@cpu"
    plain = _load(
        tmp_path,
        """
        class Predictor(BasePredictor):
            def setup(self) -> None:
                super().setup()
                self.ready = True

            def predict(self) -> bool:
                return self.ready
        """,
    )
    plain.setup("ignored")
    assert plain.call({}) is True


def test_a_model_without_setup_needs_none(tmp_path: pathlib.Path) -> None:
    """BaseRunner's do-nothing setup() is not treated as the model's."""
    loaded = _load(
        tmp_path,
        """
        class Predictor(BasePredictor):
            def predict(self) -> int:
                return 1
        """,
    )
    assert loaded.setup(None) is None and loaded.setup_is_async is False


def test_concurrent_decorator_sets_the_hint(tmp_path: pathlib.Path) -> None:
    """@concurrent(max=N) on an async predict() is reported as max_concurrency_hint."""
    loaded = _load(
        tmp_path,
        """
        class Predictor(BasePredictor):
            @concurrent(max=4)
            async def predict(self, x: int) -> int:
                return x
        """,
    )
    assert loaded.max_concurrency_hint == 4 and loaded.is_async


def test_decorated_predict_is_inspected_through_the_decorator(tmp_path: pathlib.Path) -> None:
    """A decorator that hides the signature (*args, **kwargs) is looked through, as in Cog."""
    loaded = _load(
        tmp_path,
        """
        import functools

        def traced(fn):
            def wrapper(*args, **kwargs):
                return fn(*args, **kwargs)
            return wrapper

        def wrapped(fn):
            @functools.wraps(fn)
            def wrapper(*args, **kwargs):
                return fn(*args, **kwargs)
            return wrapper

        class Predictor(BasePredictor):
            @traced
            @wrapped
            def predict(self, text: str, n: int = 2) -> str:
                return text * n
        """,
    )
    props = loaded.schema["components"]["schemas"]["Input"]["properties"]
    assert list(props) == ["text", "n"]
    assert loaded.call({"text": "a", "n": 3}) == "aaa"


def test_postponed_annotations_are_resolved(tmp_path: pathlib.Path) -> None:
    """`from __future__ import annotations` in a model works (annotations are strings)."""
    (tmp_path / "predict.py").write_text(
        "from __future__ import annotations\n" + HEADER + "class Predictor(BasePredictor):\n"
        "    def setup(self) -> None: ...\n"
        "    def predict(self, n: int = Input(ge=0)) -> list[str]:\n"
        "        return []\n"
    )
    sys.modules.pop("predict", None)
    schema = load_predictor("predict.py", root=tmp_path).schema
    assert schema["components"]["schemas"]["Input"]["properties"]["n"]["type"] == "integer"


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
            "\\*args, \\*\\*kwargs, keyword-only and positional-only inputs are not allowed",
        ),
        (
            "class Predictor(BasePredictor):\n    def predict(self, *, x: int) -> int: ...\n",
            "input 'x': \\*args, \\*\\*kwargs, keyword-only",
        ),
        (
            "class Predictor(BasePredictor):\n    def predict(self, x: int, /) -> int: ...\n",
            "input 'x': .*positional-only inputs are not allowed",
        ),
        (
            "class Predictor(BasePredictor):\n    def predict(self, x: int): ...\n",
            "add a return annotation",
        ),
        (
            "class Predictor(BasePredictor):\n    def predict(self, x: int) -> None: ...\n",
            "add a return annotation \\(not None\\)",
        ),
        (
            "class Predictor(BasePredictor):\n    def predict(self, x: 'Missing') -> int: ...\n",
            "can't resolve its type annotations",
        ),
        (
            "class Predictor(BasePredictor):\n    def predict(self, x: set[str]) -> int: ...\n",
            "input 'x': unsupported type set\\[str\\]",
        ),
        (
            "class Predictor(BasePredictor):\n"
            "    def predict(self, x: list[list[int]]) -> int: ...\n",
            "list items must be a single, non-optional type",
        ),
        (
            "class Predictor(BasePredictor):\n    def predict(self, x: int | Path) -> int: ...\n",
            "unions may only combine",
        ),
        (
            "class Predictor(BasePredictor):\n"
            "    def setup(self, model_path: str) -> None: ...\n"
            "    def predict(self, x: str) -> str: ...\n",
            "only an optional `weights` argument \\(found 'model_path'\\)",
        ),
        (
            "class Predictor(BasePredictor):\n"
            "    def setup(self, *, weights: str) -> None: ...\n"
            "    def predict(self, x: str) -> str: ...\n",
            "setup\\(\\) may not take",
        ),
        (
            "class Predictor(BasePredictor):\n"
            "    def setup(self) -> int: ...\n"
            "    def predict(self, x: str) -> str: ...\n",
            "setup\\(\\) must return None",
        ),
        ("class Predictor(BasePredictor):\n    pass\n", "neither run\\(\\) nor predict\\(\\)"),
        (
            "class Predictor(BasePredictor):\n"
            "    def __init__(self) -> None:\n"
            "        raise ValueError('no GPU')\n"
            "    def predict(self) -> str: ...\n",
            "creating Predictor\\(\\) failed: ValueError\\('no GPU'\\)",
        ),
        ("raise RuntimeError('boom at import')\n", "importing predict.py failed.*boom at import"),
        ("class Other: pass\n", "defines no Runner or Predictor"),
        ("Predictor = 3\n", "neither a class nor a function"),
    ],
)
def test_invalid_predictors_get_actionable_errors(
    tmp_path: pathlib.Path, source: str, message: str
) -> None:
    """Each invalid model is refused with a message that says what to fix."""
    with pytest.raises(PredictorLoadError, match=message):
        _load(tmp_path, source)


def test_missing_module_file(tmp_path: pathlib.Path) -> None:
    """A ref to a file that doesn't exist names the path."""
    with pytest.raises(PredictorLoadError, match="does not exist"):
        load_predictor("nope.py:Predictor", root=tmp_path)


def test_missing_class(tmp_path: pathlib.Path) -> None:
    """A ref naming a class the module lacks says so."""
    with pytest.raises(PredictorLoadError, match="has no 'Model'"):
        _load(tmp_path, "class Predictor(BasePredictor): ...\n", "predict.py:Model")


def test_input_without_default_is_required_but_default_none_is_optional(
    tmp_path: pathlib.Path,
) -> None:
    """`Input()` keeps an input required; `Input(default=None)` makes it optional and nullable."""
    loaded = _load(
        tmp_path,
        """
        class Predictor(BasePredictor):
            def predict(
                self, a: str = Input(description="d"), seed: int = Input(default=None)
            ) -> str:
                return a
        """,
    )
    component = loaded.schema["components"]["schemas"]["Input"]
    assert component["required"] == ["a"]
    assert component["properties"]["seed"]["nullable"] is True


def test_legacy_predictor_can_be_called_through_run(tmp_path: pathlib.Path) -> None:
    """BaseRunner.run() forwards to predict() for a legacy subclass, as Cog's does."""
    loaded = _load(
        tmp_path,
        """
        class Predictor(BasePredictor):
            def predict(self, x: int = 1) -> int:
                return x + 1
        """,
    )
    assert loaded.target.run(x=2) == 3
