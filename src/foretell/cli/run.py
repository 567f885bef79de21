"""`foretell run OWNER/NAME[:VERSION] -i k=v`: one prediction on any Replicate-compatible API."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from foretell.cli.batch import input_sets, run_batch
from foretell.cli.remote import (
    BaseUrlOption,
    RunOptions,
    TokenOption,
    checked_inputs,
    connect,
    create,
    dumps,
    output_schemas,
    parse_ref,
    resolve,
    run_async,
    save_files,
    save_outputs,
)
from foretell.cli.render import err_console, print_error, print_note
from foretell.client import TERMINAL, Client
from foretell.core.refs import ModelRef

#: how often a prediction without a stream is polled
POLL_S = 0.25


def run_command(
    model: Annotated[
        str, typer.Argument(metavar="OWNER/NAME[:VERSION]", help="The model (latest version).")
    ],
    inputs: Annotated[
        list[str] | None,
        typer.Option(
            "--input",
            "-i",
            metavar="NAME=VALUE",
            help="An input; NAME=@file uploads a local file; repeat a NAME for a list.",
        ),
    ] = None,
    input_set: Annotated[
        list[str] | None,
        typer.Option(
            "--input-set",
            "-I",
            metavar="'NAME=VALUE ...'",
            help="One more prediction with these inputs (over the -i ones); repeat for several.",
        ),
    ] = None,
    jsonl: Annotated[
        Path | None,
        typer.Option(
            "--jsonl",
            metavar="FILE",
            help="One prediction per line of this file (a JSON object of inputs; '-' for stdin).",
        ),
    ] = None,
    parallel: Annotated[
        int, typer.Option("--parallel", "-p", min=1, metavar="N", help="Predictions at a time.")
    ] = 4,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait/--no-wait", help="Wait for the result, or print the prediction's id and exit."
        ),
    ] = True,
    webhook: Annotated[
        str | None,
        typer.Option(metavar="URL", help="Have the API POST the prediction to this URL."),
    ] = None,
    webhook_events: Annotated[
        list[str] | None,
        typer.Option(
            "--webhook-event",
            metavar="EVENT",
            help="Only these webhook events: start, output, logs, completed (repeatable).",
        ),
    ] = None,
    output_dir: Annotated[
        Path, typer.Option("--output-dir", "-o", metavar="DIR", help="Where output files go.")
    ] = Path("."),
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the finished prediction(s) as JSON.")
    ] = False,
    base_url: BaseUrlOption = None,
    token: TokenOption = None,
) -> None:
    """Run a model on foretell or Replicate: validate, stream, download the outputs."""  # fmt: skip
    ref = parse_ref(model)
    options = RunOptions(wait, webhook, webhook_events or [], output_dir, as_json)

    async def work() -> int:
        async with connect(base_url, token) as client:
            pinned, openapi = await resolve(client, ref)
            sets = input_sets(inputs or [], input_set or [], jsonl)
            if len(sets) > 1 or jsonl is not None:
                return await run_batch(client, pinned, openapi, sets, options, parallel)
            raw = checked_inputs(sets[0].pairs, openapi, sets[0].values)
            return await run_one(client, pinned, openapi, raw, options)

    run_async(work)


async def run_one(
    client: Client, ref: ModelRef, openapi: dict[str, Any], raw: dict[str, Any], opts: RunOptions
) -> int:
    """One prediction, shown live; exit status 0, 1 (failed) or 130 (canceled)."""
    prediction = await create(client, ref, raw, opts, None)
    if not opts.wait:
        print_note(f"created {prediction['id']} ({prediction['status']})")
        typer.echo(dumps(prediction) if opts.as_json else prediction["id"])
        return 0
    try:
        printer = Printer(client, openapi, opts.out_dir, quiet=opts.as_json)
        if (prediction.get("urls") or {}).get("stream"):
            await printer.follow(prediction)
        final = await wait_done(client, prediction)
    except asyncio.CancelledError:
        await asyncio.shield(client.cancel(prediction["id"]))
        print_error("Canceled", f"prediction {prediction['id']} was canceled")
        raise
    return await finish(client, final, printer, opts)


async def wait_done(client: Client, prediction: dict[str, Any]) -> dict[str, Any]:
    """Poll until the prediction is terminal, a spinner on stderr meanwhile."""
    with err_console.status(f"{prediction['status']}…") as status:
        while prediction["status"] not in TERMINAL:
            await asyncio.sleep(POLL_S)
            prediction = await client.prediction(prediction["id"])
            status.update(f"{prediction['status']}…")
    return prediction


async def finish(client: Client, final: dict[str, Any], printer: Printer, opts: RunOptions) -> int:
    """Print the result (files saved first) and pick the exit status."""
    printer.close()
    if final["status"] == "succeeded":
        if not printer.is_iterator or not printer.streamed:
            output, saved = await save_outputs(
                client, final.get("output"), printer.openapi, opts.out_dir
            )
            final = {**final, "output": output}
            if not opts.as_json and not printer.streamed:
                printer.final(output)
            for path in saved:
                print_note(f"saved {path}")
    if opts.as_json:
        typer.echo(dumps(final))
    if final["status"] == "succeeded":
        return 0
    if final["status"] == "canceled":
        print_error("Canceled", final.get("error") or "the prediction was canceled")
        return 130
    print_error("Prediction failed", str(final.get("error") or final["status"]))
    return 1


class Printer:
    """Shows a prediction's stream: text as it arrives, logs on stderr, files saved at once."""

    def __init__(self, client: Client, openapi: dict[str, Any], out_dir: Path, quiet: bool) -> None:
        output, self.components = output_schemas(openapi)
        self.client = client
        self.openapi = openapi
        self.is_iterator = output.get("x-cog-array-type") == "iterator"
        self.concatenate = output.get("x-cog-array-display") == "concatenate"
        self.item_schema: dict[str, Any] = output.get("items", {})
        self.out_dir = out_dir
        self.quiet = quiet
        self.streamed = False
        self._mid_line = False

    async def follow(self, prediction: dict[str, Any]) -> None:
        """Read the SSE stream to its `done` event."""
        with err_console.status(f"{prediction['status']}…") as status:
            async for event in self.client.stream(prediction):
                if event.event == "logs":
                    status.stop()
                    self.close()
                    sys.stderr.write(event.data if event.data.endswith("\n") else event.data + "\n")
                    sys.stderr.flush()
                elif event.event == "output" and self.is_iterator:
                    status.stop()
                    await self.item(event.data)

    async def item(self, data: str) -> None:
        """One streamed output item (strings as text, others as JSON)."""
        self.streamed = True
        value: Any = data
        if not (self.concatenate or self.item_schema.get("type") == "string"):
            try:
                value = json.loads(data)
            except ValueError:
                value = data
        value, saved = await save_files(
            self.client, value, self.item_schema, self.components, self.out_dir
        )
        for path in saved:
            print_note(f"saved {path}")
        if self.quiet:
            return
        if self.concatenate and isinstance(value, str):
            sys.stdout.write(value)
            sys.stdout.flush()
            self._mid_line = not value.endswith("\n")
        else:
            self.line(value)

    def final(self, output: Any) -> None:
        """A returned (not streamed) output; a text iterator's pieces joined as one text."""
        if (
            self.concatenate
            and isinstance(output, list)
            and all(isinstance(x, str) for x in output)
        ):
            self.line("".join(output))
        else:
            self.line(output)

    def line(self, value: Any) -> None:
        """A whole value on its own line(s)."""
        self.close()
        sys.stdout.write((value if isinstance(value, str) else dumps(value)) + "\n")
        sys.stdout.flush()

    def close(self) -> None:
        """End a streamed line so what follows starts on its own."""
        if self._mid_line:
            sys.stdout.write("\n")
            sys.stdout.flush()
            self._mid_line = False
