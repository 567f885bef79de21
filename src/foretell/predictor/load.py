"""Import a model's `predict.py:Predictor` and wrap it for the worker."""

from __future__ import annotations

import importlib.util
import inspect
import pathlib
import sys
import warnings
from collections.abc import Callable
from typing import Any

from foretell.predictor.base import BasePredictor, user_method_owner
from foretell.predictor.errors import FieldError, InvalidInput, PredictorLoadError
from foretell.predictor.files import Fetcher, FileInputError, materialise
from foretell.predictor.inspect import InputSpec, Kind, inspect_inputs, inspect_output
from foretell.predictor.schema import openapi_document
from foretell.predictor.types import Secret
from foretell.predictor.validate import validate_input


class LoadedPredictor:
    """A model's predictor, ready to set up and call: its schema and how to call it."""

    def __init__(self, target: Any) -> None:
        self.target = target
        self.method: Callable[..., Any] = _entry_method(target)
        self.inputs: list[InputSpec] = inspect_inputs(self.method)
        self.output = inspect_output(self.method)
        self.has_file_inputs = any(s.kind in (Kind.PATH, Kind.FILE) for s in self.inputs)
        self.schema: dict[str, Any] = openapi_document(self.inputs, self.output)
        self.is_async = inspect.iscoroutinefunction(self.method) or inspect.isasyncgenfunction(
            self.method
        )
        self.max_concurrency_hint: int | None = getattr(self.method, "__cog_concurrent_max__", None)
        setup = getattr(target, "setup", None) if not inspect.isfunction(target) else None
        self._setup: Callable[..., Any] | None = setup
        self.setup_is_async = setup is not None and inspect.iscoroutinefunction(setup)
        if setup is not None:
            _check_setup(setup)

    def setup(self, weights: str | None) -> Any:
        """Run the model's setup(); returns an awaitable for an async setup."""
        if self._setup is None:
            return None
        if "weights" in inspect.signature(self._setup).parameters:
            return self._setup(weights=weights)
        return self._setup()

    def prepare_inputs(
        self,
        raw: dict[str, Any] | None,
        *,
        workdir: pathlib.Path,
        allow_local_files: bool = False,
        fetch: Fetcher | None = None,
    ) -> dict[str, Any]:
        """Validate `raw` and turn it into predict()'s keyword arguments (files made local)."""
        values = validate_input(self.schema, raw)
        errors: list[FieldError] = []
        for spec in self.inputs:
            if spec.name in values and values[spec.name] is not None:
                try:
                    values[spec.name] = _to_python(
                        spec, values[spec.name], workdir, allow_local_files, fetch
                    )
                except FileInputError as exc:
                    errors.append(FieldError(spec.name, str(exc), "format"))
        if errors:
            raise InvalidInput(errors)
        return values

    def call(self, inputs: dict[str, Any]) -> Any:
        """Call predict()/run(): a value, an iterator, a coroutine or an async iterator."""
        return self.method(**inputs)


def _to_python(
    spec: InputSpec, value: Any, workdir: pathlib.Path, allow_local: bool, fetch: Fetcher | None
) -> Any:
    def one(item: Any) -> Any:
        if spec.kind is Kind.SECRET:
            return Secret(item)
        if spec.kind in (Kind.PATH, Kind.FILE):
            path = materialise(item, workdir, allow_local_files=allow_local, fetch=fetch)
            return path.open("rb") if spec.kind is Kind.FILE else path
        return item

    return [one(v) for v in value] if spec.is_list else one(value)


def _entry_method(target: Any) -> Callable[..., Any]:
    if inspect.isfunction(target):
        return target
    cls = type(target)
    has_run = user_method_owner(cls, "run") is not None
    has_predict = user_method_owner(cls, "predict") is not None
    if not isinstance(target, BasePredictor) and hasattr(target, "predict"):
        has_predict = has_predict or not has_run
    if has_run and has_predict:
        raise PredictorLoadError(f"{cls.__name__} must define either run() or predict(), not both")
    if not has_run and not has_predict:
        raise PredictorLoadError(f"{cls.__name__} defines neither run() nor predict()")
    return getattr(target, "run" if has_run else "predict")  # type: ignore[no-any-return]


def _check_setup(setup: Callable[..., Any]) -> None:
    for param in inspect.signature(setup).parameters.values():
        if param.name != "weights" or param.kind not in (
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            inspect.Parameter.KEYWORD_ONLY,
        ):
            raise PredictorLoadError(
                f"setup() may take only an optional `weights` argument (found {param.name!r})"
            )


def load_predictor(ref: str, *, root: pathlib.Path) -> LoadedPredictor:
    """Import `ref` ("predict.py:Predictor", or "predict.py" for Runner/Predictor) from `root`."""
    module_file, _, name = ref.partition(":")
    path = (root / module_file).resolve()
    if not path.is_file():
        raise PredictorLoadError(f"{ref}: {path} does not exist")
    module = _import_file(path, root)
    if not name:
        name = next((n for n in ("Runner", "Predictor") if hasattr(module, n)), "")
        if not name:
            raise PredictorLoadError(f"{ref}: {path.name} defines no Runner or Predictor")
    target = getattr(module, name, None)
    if target is None:
        raise PredictorLoadError(f"{ref}: {path.name} has no {name!r}")
    if inspect.isclass(target):
        try:
            target = target()
        except Exception as exc:
            raise PredictorLoadError(f"{ref}: {name}() failed: {exc!r}") from exc
    elif not callable(target):
        raise PredictorLoadError(f"{ref}: {name!r} is neither a class nor a function")
    return LoadedPredictor(target)


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
