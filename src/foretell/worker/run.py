"""Running one prediction: inputs in, Started/Output/Metric/Done out, temp dirs removed."""

from __future__ import annotations

import pathlib
import shutil
import time
import traceback
from collections.abc import Callable
from typing import Any

from foretell.core.events import Done, Message, Metric, Output, Predict
from foretell.predictor.encode import encode_output
from foretell.predictor.errors import InvalidInput
from foretell.predictor.files import download
from foretell.predictor.inspect import OutputShape
from foretell.predictor.load import LoadedPredictor
from foretell.predictor.scope import Scope

Send = Callable[[Message], None]

_PLAIN = frozenset({str, int, float, bool, type(None)})


def iterates(predictor: LoadedPredictor) -> bool:
    """Whether the model's output is an iterator (each yielded item is sent on its own)."""
    return predictor.output.shape is not OutputShape.SINGLE


class PredictionRun:
    """The state of one prediction inside the worker, shared by the sync and async loops."""

    def __init__(
        self, request: Predict, predictor: LoadedPredictor, scratch: pathlib.Path, iterates: bool
    ) -> None:
        self.request = request
        self.predictor = predictor
        self.scratch = scratch
        self.iterates = iterates
        self.started = time.perf_counter()
        self.scope: Scope | None = None
        self._files_dir: pathlib.Path | None = None

    @property
    def workdir(self) -> pathlib.Path:
        """Where this prediction's input files are downloaded."""
        return self.scratch / self.request.id

    @property
    def files_dir(self) -> pathlib.Path:
        """Where its output files are copied for the runner."""
        if self._files_dir is None:
            self._files_dir = pathlib.Path(self.request.output_dir)
        return self._files_dir

    def inputs(self) -> dict[str, Any]:
        """Validated inputs with files made local; raises InvalidInput."""
        return self.predictor.prepare_inputs(
            self.request.input,
            # only file inputs use the workdir; the others skip building its path
            workdir=self.workdir if self.predictor.has_file_inputs else self.scratch,
            allow_local_files=self.request.allow_local_files,
            fetch=self._fetch if self.request.local_files else None,
        )

    def _fetch(self, url: str, directory: pathlib.Path) -> pathlib.Path:
        """Files the runner resolved are copied, not downloaded; others are downloaded."""
        local = self.request.local_files.get(url)
        if local is None:
            return download(url, directory)
        target = directory / pathlib.Path(local).name
        shutil.copyfile(local, target)
        return target

    def make_scope(self, send: Send) -> Scope:
        """The scope the model sees; each metric it records is also streamed."""

        def on_metric(key: str, value: Any, mode: str) -> None:
            send(Metric(self.request.id, key, value, mode))

        self.scope = Scope(self.request.context, on_metric)
        return self.scope

    def output(self, value: Any) -> Output:
        """One yielded item as an Output message, its files copied out."""
        if type(value) in _PLAIN:  # most streams are tokens: nothing to encode
            return Output(self.request.id, value)
        encoded, files = encode_output(value, files_dir=self.files_dir)
        return Output(self.request.id, encoded, files)

    def done(self, status: str, output: Any = None, error: str | None = None) -> Done:
        """The final message; computes predict_time and encodes a returned value."""
        metrics: dict[str, Any] = self.scope.metrics_snapshot() if self.scope else {}
        metrics["predict_time"] = round(time.perf_counter() - self.started, 6)
        files: list[list[str | int]] = []
        if status == "succeeded" and type(output) not in _PLAIN:
            try:
                output, files = encode_output(output, files_dir=self.files_dir)
            except Exception as exc:  # an output we can't send is the model's failure
                return Done(
                    self.request.id, "failed", error=f"invalid output: {exc}", metrics=metrics
                )
        return Done(self.request.id, status, output, files, error, metrics)

    def failure(self, exc: BaseException) -> tuple[Done, str]:
        """A failed Done and the traceback for the prediction's logs."""
        if isinstance(exc, InvalidInput):
            return self.done("failed", error=str(exc)), ""
        trace = "".join(traceback.format_exception(exc))
        return self.done("failed", error=f"{type(exc).__name__}: {exc}"), trace

    def cleanup(self) -> None:
        """Always remove the prediction's input files (only file inputs create any)."""
        if self.predictor.has_file_inputs:
            shutil.rmtree(self.workdir, ignore_errors=True)
