"""WorkItem <-> bytes, for queues that keep their items outside the process (Redis).

Two JSON lines: the item's own fields, then the prediction as the store encodes it. orjson
never writes a raw newline inside a document, so the first one splits them, and the
prediction is loaded from its bytes as they are (no second encode of a large input).
"""

from __future__ import annotations

from typing import Any

import orjson

from foretell.codec import dump_prediction, load_prediction
from foretell.queue.protocol import WorkItem


def dump_item(item: WorkItem) -> bytes:
    """The item as bytes (load_item reads it back)."""
    fields = {
        "runner_model": item.runner_model,
        "file_keys": item.file_keys,
        "remote_files": item.remote_files,
        "admitted": item.admitted,
        "base_url": item.base_url,
    }
    return orjson.dumps(fields) + b"\n" + dump_prediction(item.prediction)


def load_item(raw: bytes) -> WorkItem:
    """The item dump_item wrote."""
    head, sep, prediction = raw.partition(b"\n")
    if not sep:
        raise ValueError("not a queued item: its prediction line is missing")
    fields: dict[str, Any] = orjson.loads(head)
    return WorkItem(
        prediction=load_prediction(prediction),
        runner_model=fields["runner_model"],
        file_keys=dict(fields.get("file_keys", {})),
        remote_files=tuple(fields.get("remote_files", ())),
        admitted=bool(fields.get("admitted", True)),
        base_url=str(fields.get("base_url", "")),
    )
