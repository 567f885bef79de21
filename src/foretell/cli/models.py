"""Read a model directory's cog.yaml into the runner's ModelSpec."""

from __future__ import annotations

from pathlib import Path

from foretell.cli.render import print_note
from foretell.predictor.config import load_config
from foretell.runner import ModelSpec


def model_spec(model_dir: Path) -> ModelSpec:
    """A ModelSpec for the model in `model_dir`, noting what foretell does not install yet."""
    config = load_config(model_dir)
    packages = list(config.python_packages)
    if packages:
        print_note(
            "cog.yaml lists python packages foretell does not install yet; "
            f"they must already be importable here: {', '.join(packages)}"
        )
    return ModelSpec(
        name=config.name or model_dir.resolve().name,
        root=model_dir.resolve(),
        ref=config.predict,
        max_concurrency=config.concurrency,
    )
