"""`foretell predict DIR -i name=value`: run one prediction of a local model, no server."""

from __future__ import annotations

import asyncio
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from foretell.cli.inputs import CLIInputError, parse_inputs
from foretell.cli.models import model_spec
from foretell.cli.outputs import OutputWriter
from foretell.cli.render import print_error, print_note
from foretell.core.events import Done, Log, Output
from foretell.predictor.errors import InvalidInput, PredictorLoadError
from foretell.predictor.validate import validate_input
from foretell.runner import ModelLoadError, PredictionRequest, Runner, WorkerState


def predict_command(
    model: Annotated[
        str,
        typer.Argument(
            metavar="MODEL",
            help="Directory with cog.yaml and predict.py, or a built-in model (foretell/hello).",
        ),
    ],
    inputs: Annotated[
        list[str] | None,
        typer.Option(
            "--input",
            "-i",
            metavar="NAME=VALUE",
            help="NAME=VALUE; NAME=@file for a file; repeat for lists.",
        ),
    ] = None,
    output_dir: Annotated[
        Path,
        typer.Option("--output-dir", "-o", metavar="DIR", help="Where file outputs are written."),
    ] = Path("."),
) -> None:
    """Run setup() once and one prediction; stream output and logs to the terminal."""
    model_dir = _model_dir(model)
    try:
        code = asyncio.run(_predict(model_dir, inputs or [], output_dir))
    except KeyboardInterrupt:
        code = 130
    raise typer.Exit(code)


def _model_dir(model: str) -> Path:
    """A built-in model's name (as `serve` takes it) or a directory."""
    from foretell.models import builtin_models

    builtins = builtin_models()
    if model in builtins and not Path(model).is_dir():
        return builtins[model]
    return Path(model)


async def _predict(model_dir: Path, pairs: list[str], output_dir: Path) -> int:
    try:
        spec = model_spec(model_dir)
    except PredictorLoadError as exc:
        print_error("Invalid model", str(exc))
        return 1
    async with Runner() as runner:
        await runner.add_model(spec, defer_setup=True)
        try:
            openapi = await runner.wait_described(spec.name)
        except ModelLoadError as exc:
            print_error("Could not load the model", str(exc))
            return 1
        raw = _checked_inputs(pairs, openapi)
        if raw is None:
            return 2
        if not await _setup(runner, spec.name):
            return 1
        with tempfile.TemporaryDirectory(prefix="foretell-predict-") as scratch:
            request = PredictionRequest(
                id=secrets.token_hex(8),
                input=raw,
                output_dir=Path(scratch),
                allow_local_files=True,
            )
            writer = OutputWriter(openapi, output_dir)
            return await _stream(runner, spec.name, request, writer)


def _checked_inputs(pairs: list[str], openapi: dict[str, Any]) -> dict[str, Any] | None:
    """Parse and validate every input before setup() runs; report each bad field."""
    try:
        raw = parse_inputs(pairs, openapi)
        validate_input(openapi, raw)
    except CLIInputError as exc:
        print_error("Invalid input", str(exc))
        return None
    except InvalidInput as exc:
        print_error("Invalid input", "\n" + str(exc))
        return None
    return raw


async def _setup(runner: Runner, name: str) -> bool:
    print_note("Running setup()…")
    started = time.monotonic()
    runner.start_setup(name)
    state = await runner.wait_ready(name)
    info = runner.state_info(name)
    if info.setup_logs:  # what setup() printed: threads used, weights loaded, …
        sys.stderr.write(info.setup_logs)
    if state is WorkerState.READY:
        print_note(f"setup() done in {time.monotonic() - started:.2f} s")
        return True
    print_error("Setup failed", info.error or state.value)
    return False


async def _stream(runner: Runner, name: str, request: PredictionRequest, out: OutputWriter) -> int:
    handle = await runner.submit(name, request)
    try:
        async for event in handle:
            if isinstance(event, Log):
                out.close()
                sys.stderr.write(event.text)
                sys.stderr.flush()
            elif isinstance(event, Output):
                out.item(event.value, event.files)
            elif isinstance(event, Done):
                return _finish(event, out)
    except asyncio.CancelledError:
        await runner.cancel(request.id)
        raise
    print_error("Prediction lost", "the model's events ended without a result")
    return 1


def _finish(done: Done, out: OutputWriter) -> int:
    if done.status == "succeeded":
        out.final(done.output, done.files)
        out.close()
        return 0
    out.close()
    if done.status == "canceled":
        print_error("Canceled", done.error or "the prediction was canceled")
        return 130
    print_error("Prediction failed", done.error or "unknown error")
    return 1
