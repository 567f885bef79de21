"""Read a model directory into the runner's ModelSpec (its environment prepared)."""

from __future__ import annotations

from pathlib import Path

from foretell.cli.render import print_note
from foretell.runner import ModelSpec
from foretell.runner.environments import spec_for_directory


def model_spec(model_dir: Path) -> ModelSpec:
    """The spec for `foretell predict`/`schema`: named after the directory if cog.yaml
    has no image name."""
    spec = spec_for_directory(model_dir, progress=print_note)
    if spec.name.startswith("local/"):
        return ModelSpec(**{**spec.__dict__, "name": model_dir.resolve().name})
    return spec
