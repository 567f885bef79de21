"""`foretell schema DIR`: print a model's OpenAPI schema in Cog's format."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from foretell.cli.models import model_spec
from foretell.cli.render import print_error
from foretell.predictor.errors import PredictorLoadError
from foretell.runner import ModelLoadError, Runner


def schema_command(
    model_dir: Annotated[Path, typer.Argument(help="Directory with cog.yaml and predict.py.")],
) -> None:
    """Print the model's OpenAPI schema (Cog's format) as JSON."""
    try:
        document = asyncio.run(_describe(model_dir))
    except (PredictorLoadError, ModelLoadError) as exc:
        print_error("Could not load the model", str(exc))
        raise typer.Exit(1) from exc
    typer.echo(json.dumps(document, indent=2))


async def _describe(model_dir: Path) -> dict[str, Any]:
    spec = model_spec(model_dir)
    return await Runner.describe(spec)
