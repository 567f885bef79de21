"""The `foretell` command line: a shell over the runner, the predictor interface and the API."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from foretell import __version__
from foretell.cli import models
from foretell.cli.mcp import mcp_command
from foretell.cli.predict import predict_command
from foretell.cli.predictions import predictions_app
from foretell.cli.prepare import models_app
from foretell.cli.push import push_command
from foretell.cli.run import run_command
from foretell.cli.schema import schema_command
from foretell.cli.serve import serve_command
from foretell.cli.tokens import tokens_app
from foretell.cli.worker import worker_command

app = typer.Typer(
    name="foretell",
    help="Run Cog models on your own machine, no Docker; run models on any "
    "Replicate-compatible API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # click's plain help: rich panels add a type column (`<bool>`, `<list[str]>`) to every row
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"foretell {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Run Cog models on your own machine, no Docker; run models on any Replicate-compatible API."""


app.command("predict")(predict_command)
app.command("schema")(schema_command)
app.command("serve")(serve_command)
app.command("worker")(worker_command)
app.command("run")(run_command)
app.command("mcp")(mcp_command)
app.command("push")(push_command)
models_app.command("list")(models.list_command)
models_app.command("get")(models.get_command)
models_app.command("schema")(models.schema_command)
app.add_typer(tokens_app, name="tokens")
app.add_typer(
    models_app,
    name="models",
    help="Models: prepare local ones; list, get and read the schema of an API's.",
)
app.add_typer(predictions_app, name="predictions")


def _plain_metavars(command: Any) -> None:
    """Help shows `--port PORT`, not typer's `--port <int>` / `models... <list[str]>`.

    (Typer's own click copy, so duck-typed: an option has `is_flag`, a group `commands`.)
    """
    for param in command.params:
        if param.param_type_name == "option" and not param.is_flag:
            label = param.metavar or (param.name or "value").upper()
            param.display_type_rich = lambda ctx, label=label: label
        else:
            param.display_type_rich = lambda ctx: None
    for sub in getattr(command, "commands", {}).values():
        _plain_metavars(sub)


def command() -> Any:
    """The click command `foretell` runs: the typer app with plain metavars in its help."""
    built = typer.main.get_command(app)
    _plain_metavars(built)
    return built


def main() -> None:
    """Entry point of the `foretell` console script."""
    command()(prog_name="foretell")


__all__ = ["app", "command", "main"]
