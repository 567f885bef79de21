"""`foretell models prepare PATH [--system]`: build a model's environment ahead of time."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from foretell.cli.render import print_error, print_note
from foretell.predictor.config import load_config
from foretell.predictor.errors import PredictorLoadError
from foretell.runner.environments import (
    EnvironmentBuildError,
    install_system_packages,
    missing_system_packages,
    prepare,
)

models_app = typer.Typer(help="Prepare models.", no_args_is_help=True)


@models_app.command("prepare")
def prepare_command(
    model_dir: Annotated[Path, typer.Argument(help="Directory with cog.yaml and predict.py.")],
    system: Annotated[
        bool,
        typer.Option(
            "--system", help="Also apt-get install build.system_packages and run build.run (root)."
        ),
    ] = False,
) -> None:
    """Install the model's Python packages into its cached environment (and system ones)."""
    try:
        config = load_config(model_dir)
        if system:
            if os.geteuid() != 0:
                print_error("Not root", "--system installs Debian packages: run it as root")
                raise typer.Exit(1)
            install_system_packages(config, progress=print_note)
        missing = missing_system_packages(config)
        if missing:
            print_note(f"missing system packages: apt-get install {' '.join(missing)}")
        environment = prepare(config, progress=print_note)
    except (PredictorLoadError, EnvironmentBuildError) as exc:
        print_error("Could not prepare the model", str(exc))
        raise typer.Exit(1) from exc
    typer.echo(f"{model_dir}: ready ({environment.python})")
