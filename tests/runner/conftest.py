"""Helpers for runner tests: real worker subprocesses running the fixture predictors."""

from __future__ import annotations

import pathlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from foretell.core.events import Done, Log, Metric, Output, Started
from foretell.runner import ModelSpec, PredictionHandle, PredictionRequest, Runner

PREDICTORS = pathlib.Path(__file__).parents[1] / "fixtures" / "predictors"


@dataclass
class Result:
    """Everything one prediction produced."""

    done: Done
    outputs: list[Any] = field(default_factory=list)
    logs: str = ""
    metrics: list[Metric] = field(default_factory=list)
    started: bool = False


@pytest.fixture
async def runner() -> AsyncIterator[Runner]:
    """A runner that stops its workers when the test ends."""
    async with Runner() as r:
        yield r


def spec(fixture: str, **options: Any) -> ModelSpec:
    """A ModelSpec for `tests/fixtures/predictors/<fixture>.py`."""
    name = options.pop("name", fixture)
    ref = options.pop("ref", f"{fixture}.py")
    return ModelSpec(name=name, root=PREDICTORS, ref=ref, **options)


async def add(runner: Runner, fixture: str, **options: Any) -> str:
    """Host a fixture predictor and wait until it is set up; returns its name."""
    model = spec(fixture, **options)
    await runner.add_model(model)
    await runner.wait_ready(model.name)
    return model.name


def request(tmp_path: pathlib.Path, **inputs: Any) -> PredictionRequest:
    """A prediction request with a fresh id and output directory."""
    prediction_id = secrets.token_hex(6)
    return PredictionRequest(prediction_id, inputs, output_dir=tmp_path / prediction_id)


async def collect(handle: PredictionHandle) -> Result:
    """Read a prediction's events to the end."""
    outputs, logs, metrics, started = [], [], [], False
    async for event in handle:
        if isinstance(event, Started):
            started = True
        elif isinstance(event, Output):
            outputs.append(event.value)
        elif isinstance(event, Log):
            logs.append(event.text)
        elif isinstance(event, Metric):
            metrics.append(event)
        elif isinstance(event, Done):
            return Result(event, outputs, "".join(logs), metrics, started)
    raise AssertionError("events ended without Done")


async def predict(runner: Runner, name: str, tmp_path: pathlib.Path, **inputs: Any) -> Result:
    """Run one prediction to the end."""
    return await collect(await runner.submit(name, request(tmp_path, **inputs)))
