"""`foretell models prepare [PATH ...] [--system]`: build model environments ahead of time."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from foretell.cli.render import print_error, print_note
from foretell.models import builtin_models
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
    model_dirs: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Model directories (cog.yaml + predict.py); none: every built-in model."
        ),
    ] = None,
    system: Annotated[
        bool,
        typer.Option(
            "--system", help="Also apt-get install build.system_packages and run build.run (root)."
        ),
    ] = False,
) -> None:
    """Install each model's Python packages into its cached environment (and system ones)."""
    if system and os.geteuid() != 0:
        print_error("Not root", "--system installs Debian packages: run it as root")
        raise typer.Exit(1)
    directories = model_dirs or list(builtin_models().values())
    failed = [path for path in directories if not _prepare_one(path, system)]
    if failed:
        raise typer.Exit(1)


def _prepare_one(model_dir: Path, system: bool) -> bool:
    try:
        config = load_config(model_dir)
        if system:
            install_system_packages(config, progress=print_note)
        missing = missing_system_packages(config)
        if missing:
            print_note(f"missing system packages: apt-get install {' '.join(missing)}")
        environment = prepare(config, progress=print_note)
    except (PredictorLoadError, EnvironmentBuildError) as exc:
        print_error(f"Could not prepare {model_dir}", str(exc))
        return False
    typer.echo(f"{model_dir}: ready ({environment.python})")
    return True
