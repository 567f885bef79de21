"""`foretell run` with several input sets: concurrent predictions, a progress bar, a summary."""

from __future__ import annotations

import asyncio
import functools
import json
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from foretell.cli.remote import (
    InputError,
    RunOptions,
    checked_inputs,
    create,
    dumps,
    gather_limited,
    save_outputs,
)
from foretell.cli.render import err_console
from foretell.client import TERMINAL, ApiError, Client, ConnectError
from foretell.core.refs import ModelRef

POLL_S = 0.25


@dataclass
class InputSet:
    """One prediction's inputs: `-i`-style pairs plus JSON values (from a JSONL line)."""

    label: str
    pairs: list[str]
    values: dict[str, Any] = field(default_factory=dict)


def input_sets(base: list[str], sets: list[str], jsonl: Path | None) -> list[InputSet]:
    """The `-i` inputs alone, or each `-I` set / JSONL line on top of them."""
    found = [InputSet(f"-I {i}", [*base, *shlex.split(text)]) for i, text in enumerate(sets, 1)]
    if jsonl is not None:
        found += _jsonl_sets(base, jsonl)
    return found or [InputSet("-i", base)]


def _jsonl_sets(base: list[str], path: Path) -> list[InputSet]:
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text()
    except OSError as exc:
        raise InputError(f"--jsonl {path}: {exc.strerror}") from exc
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            values = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number}: not JSON ({exc.msg})") from exc
        if not isinstance(values, dict):
            raise InputError(f"{path}:{number}: expected a JSON object of inputs")
        # "@path" strings are local files, as with -i NAME=@path
        files = [f"{k}={v}" for k, v in values.items() if isinstance(v, str) and v.startswith("@")]
        rest = {k: v for k, v in values.items() if f"{k}={v}" not in files}
        found.append(InputSet(f"line {number}", [*base, *files], rest))
    if not found:
        raise InputError(f"--jsonl {path}: no input lines")
    return found


@dataclass
class Outcome:
    """How one prediction of the batch ended."""

    label: str
    prediction: dict[str, Any] | None = None
    error: str | None = None
    saved: list[Path] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.prediction["status"] if self.prediction else "error"


async def run_batch(
    client: Client,
    ref: ModelRef,
    openapi: dict[str, Any],
    sets: list[InputSet],
    opts: RunOptions,
    parallel: int,
) -> int:
    """Validate every set first, then run them `parallel` at a time; 0 if all succeeded."""
    inputs = [_checked(s, openapi) for s in sets]
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task(ref.model or "", total=len(sets), failed=0)
        failures = 0

        async def job(index: int) -> Outcome:
            nonlocal failures
            out_dir = opts.out_dir / str(index + 1) if len(sets) > 1 else opts.out_dir
            outcome = await _one(
                client, ref, openapi, sets[index].label, inputs[index], opts, out_dir
            )
            failures += outcome.status not in ("succeeded", "starting", "processing")
            progress.update(task, advance=1, failed=failures)
            return outcome

        jobs = [functools.partial(job, index) for index in range(len(sets))]
        outcomes = await gather_limited(parallel, jobs)
    _report(outcomes, opts)
    return 0 if all(o.status == "succeeded" or not opts.wait for o in outcomes) else 1


def _checked(input_set: InputSet, openapi: dict[str, Any]) -> dict[str, Any]:
    try:
        raw = checked_inputs(input_set.pairs, openapi, input_set.values)
    except InputError as exc:
        raise InputError(f"{input_set.label}: {exc}") from exc
    return raw


async def _one(
    client: Client,
    ref: ModelRef,
    openapi: dict[str, Any],
    label: str,
    raw: dict[str, Any],
    opts: RunOptions,
    out_dir: Path,
) -> Outcome:
    """Create, wait, download; an API error fails this prediction only."""
    try:
        prediction = await create(client, ref, raw, opts, 60 if opts.wait else None)
        if not opts.wait:
            return Outcome(label, prediction)
        while prediction["status"] not in TERMINAL:
            await asyncio.sleep(POLL_S)
            prediction = await client.prediction(prediction["id"])
        saved: list[Path] = []
        if prediction["status"] == "succeeded":
            output, saved = await save_outputs(client, prediction.get("output"), openapi, out_dir)
            prediction = {**prediction, "output": output}
        return Outcome(label, prediction, saved=saved)
    except (ApiError, ConnectError) as exc:
        return Outcome(label, error=str(exc))


def _report(outcomes: list[Outcome], opts: RunOptions) -> None:
    if opts.as_json:
        for o in outcomes:
            print(json.dumps(o.prediction or {"input_set": o.label, "error": o.error}))
        return
    table = Table(title=f"{len(outcomes)} predictions")
    for column in ("input", "prediction", "status", "time", "output"):
        table.add_column(column, overflow="fold")
    for o in outcomes:
        p = o.prediction or {}
        seconds = (p.get("metrics") or {}).get("predict_time")
        table.add_row(
            o.label,
            p.get("id", "—"),
            o.status,
            f"{seconds:.2f} s" if isinstance(seconds, int | float) else "—",
            _summary(o),
        )
    Console(soft_wrap=False).print(table)


def _summary(o: Outcome) -> str:
    if o.error or (o.prediction and o.prediction.get("error")):
        return str(o.error or (o.prediction or {}).get("error"))[:200]
    if o.saved:
        return ", ".join(str(path) for path in o.saved)
    output = (o.prediction or {}).get("output")
    if isinstance(output, list) and all(isinstance(x, str) for x in output):
        output = "".join(output)
    text = output if isinstance(output, str) else dumps(output)
    return text if len(text) <= 200 else text[:199] + "…"
