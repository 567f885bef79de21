"""The `foretell` command line: a shell over the runner and the predictor interface."""

from __future__ import annotations

import typer

from foretell.cli.predict import predict_command
from foretell.cli.prepare import models_app
from foretell.cli.schema import schema_command
from foretell.cli.serve import serve_command
from foretell.cli.tokens import tokens_app

app = typer.Typer(
    name="foretell",
    help="Run Cog models on your own machine, no Docker.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("predict")(predict_command)
app.command("schema")(schema_command)
app.command("serve")(serve_command)
app.add_typer(tokens_app, name="tokens")
app.add_typer(models_app, name="models")


def main() -> None:
    """Entry point of the `foretell` console script."""
    app()


__all__ = ["app", "main"]
