"""`foretell predictions list|get|cancel|stream`: predictions on any Replicate-compatible API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from foretell.cli.remote import BaseUrlOption, TokenOption, connect, dumps, run_async
from foretell.client import TERMINAL, Client

predictions_app = typer.Typer(
    help="List, inspect, cancel and stream predictions (any Replicate-compatible API).",
    no_args_is_help=True,
)

IdArgument = Annotated[str, typer.Argument(metavar="ID", help="The prediction's id.")]


@predictions_app.command("list")
def list_command(
    limit: Annotated[
        int, typer.Option(min=1, metavar="N", help="Show at most this many (newest first).")
    ] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON objects.")] = False,
    base_url: BaseUrlOption = None,
    token: TokenOption = None,
) -> None:
    """Your predictions, newest first."""

    async def work() -> int:
        async with connect(base_url, token) as client:
            found = await _newest(client, limit)
        if as_json:
            typer.echo(dumps(found))
            return 0
        table = Table(title=f"{len(found)} prediction(s)")
        for column in ("id", "model", "status", "created", "predict time"):
            table.add_column(column, overflow="fold")
        for p in found:
            seconds = (p.get("metrics") or {}).get("predict_time")
            time = f"{seconds:.2f} s" if isinstance(seconds, int | float) else "—"
            table.add_row(p["id"], p.get("model", ""), p["status"], p.get("created_at", ""), time)
        Console().print(table)
        return 0

    run_async(work)


async def _newest(client: Client, limit: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while len(found) < limit:
        page = await client.predictions(cursor)
        found += page.get("results", [])
        cursor = page.get("next")
        if not cursor:
            break
    return found[:limit]


@predictions_app.command("get")
def get_command(
    prediction_id: IdArgument, base_url: BaseUrlOption = None, token: TokenOption = None
) -> None:
    """A prediction as JSON: status, input, output, logs, metrics."""

    async def work() -> int:
        async with connect(base_url, token) as client:
            typer.echo(dumps(await client.prediction(prediction_id)))
        return 0

    run_async(work)


@predictions_app.command("cancel")
def cancel_command(
    prediction_id: IdArgument, base_url: BaseUrlOption = None, token: TokenOption = None
) -> None:
    """Cancel a prediction (a finished one stays as it is); prints its status."""

    async def work() -> int:
        async with connect(base_url, token) as client:
            prediction = await client.cancel(prediction_id)
        typer.echo(f"{prediction['id']}: {prediction['status']}")
        return 0

    run_async(work)


@predictions_app.command("stream")
def stream_command(
    prediction_id: IdArgument,
    output_dir: Annotated[
        Path, typer.Option("--output-dir", "-o", metavar="DIR", help="Where output files go.")
    ] = Path("."),
    base_url: BaseUrlOption = None,
    token: TokenOption = None,
) -> None:
    """Follow a prediction: its output as it is produced (from the start), logs on stderr."""
    from foretell.cli.remote import RunOptions
    from foretell.cli.run import Printer, finish, wait_done

    async def work() -> int:
        async with connect(base_url, token) as client:
            prediction = await client.prediction(prediction_id)
            openapi = await _schema_of(client, prediction)
            printer = Printer(client, openapi, output_dir, quiet=False)
            if prediction["status"] not in TERMINAL or printer.is_iterator:
                await printer.follow(prediction)
            final = await wait_done(client, prediction)
            return await finish(
                client, final, printer, RunOptions(True, None, [], output_dir, False)
            )

    run_async(work)


async def _schema_of(client: Client, prediction: dict[str, Any]) -> dict[str, Any]:
    """The schema of the version a prediction ran on (to show its output); {} if unknown."""
    model, version = prediction.get("model", ""), prediction.get("version", "")
    owner, _, name = model.partition("/")
    if not (owner and name and version):
        return {}
    found = await client.version(owner, name, version)
    schema: dict[str, Any] = found.get("openapi_schema") or {}
    return schema
