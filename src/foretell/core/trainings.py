"""Trainings as the prediction machinery sees them: a trainer's schema read as a model's.

A trainer (cog.yaml's `train:`) describes itself as Cog does, with `TrainingInput` and
`TrainingOutput` components. Everything that checks a prediction's input (the API before it
stores one, a runner for one queued while its model started) reads `Input`/`Output`; seen
through `as_predictor`, a trainer is checked by that same code.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from foretell.core.models import Model

#: the components a trainer's schema names its input and output with (Cog's names)
TRAINING_INPUT = "TrainingInput"
TRAINING_OUTPUT = "TrainingOutput"


def as_predictor(trainer: Model) -> Model:
    """`trainer` with its `TrainingInput`/`TrainingOutput` as `Input`/`Output` (a model
    without them, or not described yet, is returned as it is)."""
    schemas: dict[str, Any] = trainer.openapi_schema.get("components", {}).get("schemas", {})
    if TRAINING_INPUT not in schemas:
        return trainer
    viewed = {**schemas, "Input": schemas[TRAINING_INPUT]}
    viewed["Output"] = schemas.get(TRAINING_OUTPUT, {})
    components = {**trainer.openapi_schema.get("components", {}), "schemas": viewed}
    return replace(trainer, openapi_schema={**trainer.openapi_schema, "components": components})
