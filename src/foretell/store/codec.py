"""Prediction <-> stored JSON, and opaque list cursors."""

from __future__ import annotations

import base64
import datetime
from typing import Any

import orjson

from foretell.core.prediction import Prediction
from foretell.core.status import Status
from foretell.errors import InvalidCursor

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


def encode_cursor(direction: str, created_at: str, item_id: str) -> str:
    """An opaque cursor: the items older (`n`ext) or newer (`p`revious) than this one."""
    text = f"{direction}|{created_at}|{item_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str, str]:
    """(direction, created_at, id) of a cursor; InvalidCursor if it isn't one of ours."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        direction, created_at, item_id = text.split("|", 2)
        datetime.datetime.fromisoformat(created_at)
        if direction not in ("n", "p"):
            raise ValueError(direction)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor(
            f"invalid cursor {cursor!r}: use the `next` or `previous` URL of a page as it is"
        ) from exc
    return direction, created_at, item_id
