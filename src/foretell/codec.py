"""Prediction <-> JSON bytes: how a prediction is stored and how it travels in queued work."""

from __future__ import annotations

import datetime
from typing import Any

import orjson

from foretell.core.prediction import Prediction
from foretell.core.status import Status

_TIMES = ("created_at", "started_at", "completed_at", "deadline")


def dump_prediction(prediction: Prediction) -> bytes:
    """A prediction as a JSON document."""
    # orjson serialises the dataclass itself (times as ISO 8601, the status as its value),
    # in C and without copying the output: a long token stream is written on every flush
    return orjson.dumps(prediction)


def load_prediction(raw: bytes | str) -> Prediction:
    """The prediction stored by dump_prediction."""
    data: dict[str, Any] = orjson.loads(raw)
    for key in _TIMES:
        if data.get(key):
            data[key] = datetime.datetime.fromisoformat(data[key])
    data["status"] = Status(data["status"])
    data["output_files"] = tuple(tuple(loc) for loc in data.get("output_files", ()))
    if data.get("webhook_events_filter") is not None:
        data["webhook_events_filter"] = tuple(data["webhook_events_filter"])
    return Prediction(**data)
