"""Outbox rows and file records as the embedded store keeps them."""

from __future__ import annotations

import datetime
import sqlite3
from pathlib import PurePosixPath

import orjson

from foretell.store.protocol import FileRecord, WebhookDelivery

_DELIVERY_TIMES = ("created_at", "next_attempt_at", "finished_at")


def insert_delivery(db: sqlite3.Connection, delivery: WebhookDelivery) -> None:
    """Insert an outbox row, numbered after every row before it (one writer)."""
    db.execute(
        "INSERT INTO webhook_deliveries VALUES (?, ?, ?, ?, ?, ?, "
        "(SELECT coalesce(max(seq), 0) + 1 FROM webhook_deliveries), ?)",
        (
            delivery.id, delivery.prediction_id, delivery.account, delivery.status,
            delivery.next_attempt_at.isoformat(), delivery.created_at.isoformat(),
            dump_delivery(delivery),
        ),
    )  # fmt: skip


def dump_delivery(delivery: WebhookDelivery) -> bytes:
    """An outbox row as stored JSON."""
    data = dict(delivery.__dict__)
    data["payload"] = delivery.payload.decode()
    for key in _DELIVERY_TIMES:
        data[key] = data[key].isoformat() if data[key] else None
    return orjson.dumps(data)


def load_delivery(raw: bytes) -> WebhookDelivery:
    """An outbox row from stored JSON."""
    data = orjson.loads(raw)
    data["payload"] = data["payload"].encode()
    for key in _DELIVERY_TIMES:
        data[key] = datetime.datetime.fromisoformat(data[key]) if data[key] else None
    return WebhookDelivery(**data)


def now_text() -> str:
    """Now, as the ISO text the tables hold."""
    return datetime.datetime.now(datetime.UTC).isoformat()


def dump_file(record: FileRecord) -> bytes:
    """A file record as stored JSON."""
    data = dict(record.__dict__)
    data["created_at"] = record.created_at.isoformat()
    data["expires_at"] = record.expires_at.isoformat()
    return orjson.dumps(data)


def load_file(raw: bytes) -> FileRecord:
    """A file record from stored JSON."""
    data = orjson.loads(raw)
    data["created_at"] = datetime.datetime.fromisoformat(data["created_at"])
    data["expires_at"] = datetime.datetime.fromisoformat(data["expires_at"])
    if "key" not in data:
        data["key"] = legacy_key(data["id"], data.pop("path"))
    return FileRecord(**data)


def legacy_key(file_id: str, path: str) -> str:
    """The key of an upload recorded by path (before keys): the local engine kept it at
    `<files root>/uploads/<id>/<name>`, and keeps it there, under the key
    `uploads/<id>/<name>`, wherever the data directory has moved since."""
    return f"uploads/{file_id}/{PurePosixPath(path).name}"
