"""The runner: owns the worker processes of the models this machine hosts."""

from foretell.runner.errors import ModelLoadError, RunnerError, UnknownModel
from foretell.runner.handle import Event, PredictionHandle
from foretell.runner.runner import Runner
from foretell.runner.spec import ModelSpec, PredictionRequest, StateInfo, WorkerState

__all__ = [
    "Event",
    "ModelLoadError",
    "ModelSpec",
    "PredictionHandle",
    "PredictionRequest",
    "Runner",
    "RunnerError",
    "StateInfo",
    "UnknownModel",
    "WorkerState",
]
