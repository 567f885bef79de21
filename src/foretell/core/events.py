"""The messages that cross the sockets between the runner and a model's worker process."""

# Standard library only: the worker imports this inside the model's own environment. Each
# message is a frozen dataclass; on the wire it is a JSON object whose "t" names it
# (foretell.worker.wire frames it).

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# ---- runner -> worker ------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    """Run the model's setup(); sent once after Described."""

    weights: str | None = None


@dataclass(frozen=True)
class Predict:
    """Run one prediction. File outputs go to `output_dir`."""

    id: str
    input: dict[str, Any]
    output_dir: str
    allow_local_files: bool = False
    context: dict[str, str] = field(default_factory=dict)
    #: URLs the runner has already resolved to local files (the server's own file URLs)
    local_files: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Cancel:
    """Cancel prediction `id` if it is queued or running in the worker; else ignored."""

    id: str


@dataclass(frozen=True)
class Shutdown:
    """Finish and exit."""


# ---- worker -> runner ------------------------------------------------------------------


@dataclass(frozen=True)
class Described:
    """The model imported; here is its schema. The worker now waits for Setup."""

    schema: dict[str, Any]
    is_async: bool
    max_concurrency_hint: int | None = None


@dataclass(frozen=True)
class LoadFailed:
    """The model could not be imported or its predictor is invalid; the worker exits."""

    error: str


@dataclass(frozen=True)
class SetupDone:
    """setup() finished: ok, or failed with `error` (the traceback)."""

    ok: bool
    error: str | None = None


@dataclass(frozen=True)
class Started:
    """Prediction `id` started: given by the runner when it hands it to a free slot."""

    id: str


@dataclass(frozen=True)
class Log:
    """Log text; `id` is None for output outside any one prediction (setup, background)."""

    id: str | None
    stream: str
    text: str


@dataclass(frozen=True)
class Output:
    """One yielded item; `files` are the locations of file paths inside `value`."""

    id: str
    value: Any
    files: list[list[str | int]] = field(default_factory=list)


@dataclass(frozen=True)
class Metric:
    """A custom metric recorded by the model (`mode`: replace, incr or append)."""

    id: str
    key: str
    value: Any
    mode: str = "replace"


#: The statuses a prediction can end with: Replicate's wire strings.
DONE_STATUSES = ("succeeded", "failed", "canceled")


@dataclass(frozen=True)
class Done:
    """Prediction `id` ended: `status` is one of DONE_STATUSES; `metrics` has predict_time.

    `output` is the returned value (None for an iterator, whose items were Output messages);
    `files` locates the file paths in it, as in Output.
    """

    id: str
    status: str
    output: Any = None
    files: list[list[str | int]] = field(default_factory=list)
    error: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in DONE_STATUSES:
            raise ValueError(f"Done.status must be one of {DONE_STATUSES} (got {self.status!r})")

    @property
    def predict_time(self) -> float | None:
        """Seconds the worker spent on the prediction (inputs, predict(), outputs)."""
        value = self.metrics.get("predict_time")
        return float(value) if isinstance(value, int | float) else None


Message = (
    Setup
    | Predict
    | Cancel
    | Shutdown
    | Described
    | LoadFailed
    | SetupDone
    | Started
    | Log
    | Output
    | Metric
    | Done
)

_TYPES: dict[str, type[Message]] = {
    cls.__name__: cls
    for cls in (
        Setup,
        Predict,
        Cancel,
        Shutdown,
        Described,
        LoadFailed,
        SetupDone,
        Started,
        Log,
        Output,
        Metric,
        Done,
    )
}


def to_json(message: Message) -> dict[str, Any]:
    """The JSON object of a message: its fields plus "t", its type name."""
    return {"t": type(message).__name__, **message.__dict__}


def from_json(data: dict[str, Any]) -> Message:
    """The message a JSON object describes; raises ValueError for an unknown or bad one."""
    name = data.pop("t", None)
    cls = _TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"unknown message type {name!r}")
    try:
        return cls(**data)
    except TypeError as exc:
        raise ValueError(f"bad {name} message: {exc}") from exc
