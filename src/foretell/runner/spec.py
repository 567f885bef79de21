"""What the runner is asked to run: model specs, prediction requests, and worker states."""

from __future__ import annotations

import enum
import os
import pathlib
import sys
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ModelSpec:
    """One model the runner hosts."""

    name: str
    root: pathlib.Path
    ref: str = "predict.py:Predictor"
    max_concurrency: int = 1
    #: the interpreter of the model's environment
    python: str = sys.executable
    env: dict[str, str] = field(default_factory=dict)
    weights: str | None = None
    #: seconds a canceled prediction may keep running before its worker is killed and restarted
    cancel_grace_s: float = 5.0
    #: restarts allowed within `restart_window_s` before the model is marked defunct
    max_restarts: int = 5
    restart_window_s: float = 60.0
    #: cog.yaml's build.gpu: each instance gets a GPU of its own where the machine has any
    gpu: bool = False
    #: "train": `ref` is cog.yaml's `train:`; the worker describes the training schema
    #: (TrainingInput/TrainingOutput) and runs each request with train()
    mode: str = "predict"

    def __post_init__(self) -> None:
        if self.mode not in ("predict", "train"):
            raise ValueError(f"ModelSpec.mode must be 'predict' or 'train' (got {self.mode!r})")


@dataclass(frozen=True)
class PredictionRequest:
    """One prediction to run. File outputs are written under `output_dir`."""

    id: str
    input: dict[str, Any]
    output_dir: pathlib.Path
    allow_local_files: bool = False
    context: dict[str, str] = field(default_factory=dict)
    #: URLs already resolved to local files, e.g. the server's own /v1/files/<id> URLs
    local_files: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A worker runs with its model's directory as cwd: a relative path here would be
        # read or written there instead of where the server meant.
        paths = [str(self.output_dir), *self.local_files.values()]
        relative = [path for path in paths if not os.path.isabs(path)]  # no Path per call
        if relative:
            raise ValueError(f"paths handed to a worker must be absolute: {relative}")


class WorkerState(enum.StrEnum):
    """A model's worker state, as reported to operators."""

    #: the process is starting, importing the model, or running setup()
    STARTING = "starting"
    #: ready, with at least one free slot
    READY = "ready"
    #: every slot is running a prediction (new ones queue)
    BUSY = "busy"
    #: setup() raised, or the model could not be imported; not retried
    SETUP_FAILED = "setup_failed"
    #: the process kept crashing; no more restarts
    DEFUNCT = "defunct"
    #: scaled to zero: no process runs; the next prediction starts one (a cold boot)
    IDLE = "idle"


@dataclass
class StateInfo:
    """A model's state with the details an operator needs."""

    state: WorkerState
    error: str | None = None
    setup_logs: str = ""
    restarts: int = 0
    queued: int = 0
    running: int = 0
    pid: int | None = None
    #: the worker's output outside any one prediction since setup (the last 64 kB)
    worker_logs: str = ""
