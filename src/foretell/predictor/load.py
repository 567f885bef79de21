"""Import a model's `predict.py:Predictor` (or its `train:` ref) and wrap it for the worker."""

from __future__ import annotations

import importlib.util
import inspect
import pathlib
import sys
import tempfile
import warnings
from collections.abc import Callable
from typing import Any

from foretell.predictor.base import user_method_owner
from foretell.predictor.coerce import to_python
from foretell.predictor.errors import PredictorLoadError
from foretell.predictor.files import Fetcher
from foretell.predictor.inspect import (
    InputSpec,
    OutputSpec,
    check_setup,
    has_files,
    inspect_inputs,
    inspect_output,
)
from foretell.predictor.schema import MODES, openapi_document
from foretell.predictor.validate import default_errors, validate_input
from foretell.predictor.weights import weights_argument


class LoadedPredictor:
    """A model's predictor, ready to set up and call: its schema and how to call it.
    In `train` mode it wraps cog.yaml's `train:` target (a function, or a class's train())."""

    def __init__(
        self, target: Any, *, root: pathlib.Path | None = None, mode: str = "predict"
    ) -> None:
        if mode not in MODES:
            raise PredictorLoadError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
        self.target = target
        self.mode = mode
        self.root = (root or pathlib.Path.cwd()).resolve()
        self.method: Callable[..., Any] = _entry_method(target, mode)
        self.inputs: list[InputSpec] = inspect_inputs(self.method)
        self.output: OutputSpec = inspect_output(self.method)
        self.has_file_inputs = any(has_files(spec.type) for spec in self.inputs)
        self.schema: dict[str, Any] = openapi_document(self.inputs, self.output, mode)
        _check_defaults(self.schema)
        self.is_async = _is_async(self.method)
        self.max_concurrency_hint: int | None = getattr(self.method, "__cog_concurrent_max__", None)
        self._setup = _setup_method(target)
        self.setup_is_async = self._setup is not None and _is_async(self._setup)

    def setup(self, weights: str | None, *, workdir: pathlib.Path | None = None) -> Any:
        """Run the model's setup(); returns an awaitable for an async setup. A setup that
        takes `weights` gets them (a path or URL, e.g. COG_WEIGHTS) typed as it asks: see
        foretell.predictor.weights; a URL for a `Path` is downloaded into `workdir`."""
        if self._setup is None:
            return None
        if "weights" in inspect.signature(self._setup).parameters:
            folder = workdir or pathlib.Path(tempfile.gettempdir())
            return self._setup(weights=weights_argument(self._setup, weights, folder))
        return self._setup()

    def prepare_inputs(
        self,
        raw: dict[str, Any] | None,
        *,
        workdir: pathlib.Path,
        allow_local_files: bool = False,
        fetch: Fetcher | None = None,
    ) -> dict[str, Any]:
        """Validate `raw` (every error at once, as InvalidInput) and turn it into predict()'s
        keyword arguments: defaults applied, files made local under `workdir`, secrets wrapped.
        `fetch(url, directory)` replaces the built-in urllib download of http(s) inputs."""
        values = validate_input(self.schema, raw)
        return to_python(
            self.inputs,
            values,
            given=set(raw or ()),
            workdir=workdir,
            root=self.root,
            allow_local_files=allow_local_files,
            fetch=fetch,
        )

    def call(self, inputs: dict[str, Any]) -> Any:
        """Call predict()/run(): a value, an iterator, a coroutine or an async iterator."""
        return self.method(**inputs)


def _is_async(function: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function)


def _check_defaults(schema: dict[str, Any]) -> None:
    errors = default_errors(schema)
    if errors:
        lines = "; ".join(f"input {error.field!r}: the default {error.message}" for error in errors)
        raise PredictorLoadError(lines)


def _entry_method(target: Any, mode: str) -> Callable[..., Any]:
    if inspect.isfunction(target):
        return target
    cls = type(target)
    if mode == "train":
        if user_method_owner(cls, "train") is None:
            raise PredictorLoadError(f"{cls.__name__} defines no train() (cog.yaml's `train:`)")
        return target.train  # type: ignore[no-any-return]
    has_run = user_method_owner(cls, "run") is not None
    has_predict = user_method_owner(cls, "predict") is not None
    if has_run and has_predict:
        raise PredictorLoadError(f"{cls.__name__} must define either run() or predict(), not both")
    if not has_run and not has_predict:
        raise PredictorLoadError(f"{cls.__name__} defines neither run() nor predict()")
    return getattr(target, "run" if has_run else "predict")  # type: ignore[no-any-return]


def _setup_method(target: Any) -> Callable[..., Any] | None:
    """The model's own setup() (BaseRunner's do-nothing one is skipped), checked."""
    if inspect.isfunction(target) or user_method_owner(type(target), "setup") is None:
        return None
    setup: Callable[..., Any] = target.setup
    check_setup(setup)
    return setup


def load_predictor(ref: str, *, root: pathlib.Path, mode: str = "predict") -> LoadedPredictor:
    """Import `ref` ("predict.py:Predictor", or "predict.py" for Runner, else Predictor) from
    `root`, which goes on sys.path; the module is registered under its file's basename.
    In `train` mode `ref` is cog.yaml's `train:` ("train.py:train"; "train.py" alone means
    its `train` function, else its `Trainer` class)."""
    module_file, _, name = ref.partition(":")
    path = (root / module_file).resolve()
    if not path.is_file():
        raise PredictorLoadError(f"{ref}: {path} does not exist")
    module = _import_file(path, root)
    name = name or (
        _default_trainer(module, path) if mode == "train" else _default_name(module, path)
    )
    target = getattr(module, name, None)
    if target is None:
        raise PredictorLoadError(f"{ref}: {path.name} has no {name!r}")
    if inspect.isclass(target):
        try:
            target = target()
        except Exception as exc:
            raise PredictorLoadError(f"{ref}: creating {name}() failed: {exc!r}") from exc
    elif not inspect.isfunction(target):
        raise PredictorLoadError(f"{ref}: {name!r} is neither a class nor a function")
    return LoadedPredictor(target, root=root, mode=mode)


def _default_name(module: Any, path: pathlib.Path) -> str:
    """Cog's choice when the ref names no class: a usable `Runner`, else `Predictor`."""
    runner = getattr(module, "Runner", None)
    if runner is not None and (not inspect.isclass(runner) or _has_one_entry(runner)):
        return "Runner"
    if hasattr(module, "Predictor"):
        return "Predictor"
    if runner is not None:
        return "Runner"  # let its own error (no run(), or both) be reported
    raise PredictorLoadError(f"{path.name} defines no Runner or Predictor class")


def _default_trainer(module: Any, path: pathlib.Path) -> str:
    for name in ("train", "Trainer"):
        if hasattr(module, name):
            return name
    raise PredictorLoadError(f"{path.name} defines no `train` function or `Trainer` class")


def _has_one_entry(cls: type) -> bool:
    has_run = user_method_owner(cls, "run") is not None
    return has_run != (user_method_owner(cls, "predict") is not None)


def _import_file(path: pathlib.Path, root: pathlib.Path) -> Any:
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    module_name = path.stem
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise PredictorLoadError(f"can't import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # so pickle and relative lookups find it
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            spec.loader.exec_module(module)
    except Exception as exc:
        raise PredictorLoadError(f"importing {path.name} failed: {exc!r}") from exc
    return module
