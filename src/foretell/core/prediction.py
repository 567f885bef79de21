"""The Prediction record and the pure functions that move it through its lifecycle."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from foretell.core.status import Status, transition
from foretell.core.times import utcnow as utcnow  # re-exported: most callers import it here

FileLocation = list[str | int]

#: webhook events a prediction is subscribed to when its webhook_events_filter is unset
WEBHOOK_EVENTS = ("start", "output", "logs", "completed")


@dataclass(frozen=True)
class Prediction:
    """One prediction as foretell keeps it; `api.render` shapes it into Replicate's JSON."""

    id: str
    account: str
    model: str
    version: str
    input: dict[str, Any]
    created_at: datetime.datetime
    status: Status = Status.STARTING
    output: Any = None
    #: where `output` holds stored files (rendered as signed URLs)
    output_files: tuple[tuple[str | int, ...], ...] = ()
    logs: str = ""
    error: str | None = None
    started_at: datetime.datetime | None = None
    completed_at: datetime.datetime | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    source: str = "api"
    data_removed: bool = False
    webhook: str | None = None
    webhook_events_filter: tuple[str, ...] | None = None
    deadline: datetime.datetime | None = None
    #: the output schema says the model yields (output is then a growing list)
    iterator: bool = False
    #: foretell extensions (README, "Backpressure and priorities"): the queue level it waits
    #: at, one of PRIORITIES (0 is claimed first, as Baseten's), and the seconds it may wait
    #: there before it is canceled (None: as long as it takes)
    priority: int = 0
    queue_ttl_s: float | None = None
    #: with a queue TTL, `deadline` is the sooner of the TTL's end and Cancel-After's, so the
    #: store's deadline index (the sweeper's) meets both; this is Cancel-After's own, in
    #: seconds after created_at (None: there is none)
    cancel_after_s: float | None = None
    #: `owner/name` of the deployment it was made through, if any (Replicate's field)
    deployment: str | None = None
    #: PREDICTION, or TRAINING: a run of the version's `train:` whose weights become a new
    #: version of `destination` (`owner/name`); the same machinery runs both
    kind: str = "prediction"
    destination: str | None = None


#: what a Prediction record is (`kind`): GET /v1/predictions and GET /v1/trainings list one each
PREDICTION = "prediction"
TRAINING = "training"

#: the queue's priority levels, claimed in this order (a small fixed set: one queue each)
PRIORITIES = (0, 1, 2)
DEFAULT_PRIORITY = 0


def _evolve(prediction: Prediction, **changes: Any) -> Prediction:
    """`dataclasses.replace` for the helpers below, a seventh of its cost (it calls the
    generated __init__, which sets each of the ~25 fields through object.__setattr__;
    a prediction is changed several times on its way). Prediction has no __post_init__
    and no slots, and `changes` are field names (these helpers are the only callers)."""
    new = object.__new__(Prediction)
    values = new.__dict__
    values.update(prediction.__dict__)
    values.update(changes)
    return new


def queue_expiry(prediction: Prediction) -> datetime.datetime | None:
    """When it is canceled if it is still queued then (its queue TTL), or None."""
    if prediction.queue_ttl_s is None:
        return None
    return prediction.created_at + datetime.timedelta(seconds=prediction.queue_ttl_s)


def cancel_deadline(prediction: Prediction) -> datetime.datetime | None:
    """Its Cancel-After / lifetime deadline (whether it runs or waits), or None."""
    if prediction.queue_ttl_s is None:
        return prediction.deadline
    if prediction.cancel_after_s is None:
        return None
    return prediction.created_at + datetime.timedelta(seconds=prediction.cancel_after_s)


def with_queue_ttl(prediction: Prediction, ttl_s: float) -> Prediction:
    """`prediction` canceled if still queued `ttl_s` seconds after it was created."""
    cancel = cancel_deadline(prediction)
    expiry = prediction.created_at + datetime.timedelta(seconds=ttl_s)
    after = None if cancel is None else (cancel - prediction.created_at).total_seconds()
    sooner = expiry if cancel is None else min(cancel, expiry)
    return _evolve(prediction, queue_ttl_s=ttl_s, cancel_after_s=after, deadline=sooner)


def start(prediction: Prediction, at: datetime.datetime) -> Prediction:
    """predict() began."""
    return _evolve(
        prediction, status=transition(prediction.status, Status.PROCESSING), started_at=at
    )


def append_output(prediction: Prediction, item: Any, files: list[FileLocation]) -> Prediction:
    """One yielded item. The output list only ever grows (clients rely on it), so it is
    appended in place and shared with earlier snapshots: O(1) per token, not O(n)."""
    items = prediction.output if isinstance(prediction.output, list) else []
    index = len(items)
    items.append(item)
    if not files:
        return prediction if items is prediction.output else _evolve(prediction, output=items)
    located = prediction.output_files + tuple((index, *loc) for loc in files)
    return _evolve(prediction, output=items, output_files=located)


def append_logs(prediction: Prediction, text: str) -> Prediction:
    """More log text."""
    return _evolve(prediction, logs=prediction.logs + text)


def finish(
    prediction: Prediction,
    status: Status,
    at: datetime.datetime,
    *,
    output: Any = None,
    files: list[FileLocation] | None = None,
    error: str | None = None,
    metrics: dict[str, Any] | None = None,
) -> Prediction:
    """The prediction ended; a terminal status never changes again (InvalidTransition)."""
    new_status = transition(prediction.status, status)
    changes: dict[str, Any] = {"status": new_status, "completed_at": at, "error": error}
    if not prediction.iterator and output is not None:
        changes["output"] = output
        changes["output_files"] = tuple(tuple(loc) for loc in files or [])
    total = (at - prediction.created_at).total_seconds()
    changes["metrics"] = {**prediction.metrics, **(metrics or {}), "total_time": round(total, 6)}
    if new_status is Status.CANCELED and "predict_time" not in changes["metrics"]:
        started = prediction.started_at
        changes["metrics"]["predict_time"] = (
            round((at - started).total_seconds(), 6) if started else 0.0
        )
    return _evolve(prediction, **changes)


def remove_data(prediction: Prediction) -> Prediction:
    """The prediction after retention cleanup: input, output and logs gone, the rest kept
    (Replicate's `data_removed`)."""
    return _evolve(prediction, input={}, output=None, output_files=(), logs="", data_removed=True)
