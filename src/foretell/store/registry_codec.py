"""Model registry records <-> stored JSON (one document per model, for every engine)."""

from __future__ import annotations

import datetime
from dataclasses import fields
from typing import Any

import orjson

from foretell.core.models import Model, ModelRecord, SetupStatus


def _time(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse(value: str | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(value) if value is not None else None


def dump_record(record: ModelRecord) -> bytes:
    """A registry record as a JSON document."""
    model = {f.name: getattr(record.model, f.name) for f in fields(Model)}
    model["created_at"] = record.model.created_at.isoformat()
    setup = {f.name: getattr(record.setup, f.name) for f in fields(SetupStatus)}
    setup["started_at"] = _time(record.setup.started_at)
    setup["ready_at"] = _time(record.setup.ready_at)
    return orjson.dumps(
        {
            "model": model,
            "setup": setup,
            "node": record.node,
            "updated_at": record.updated_at.isoformat(),
            "accelerators": record.accelerators,
        }
    )


def load_record(raw: bytes | str) -> ModelRecord:
    """The record stored by dump_record."""
    data: dict[str, Any] = orjson.loads(raw)
    model = data["model"]
    model["created_at"] = datetime.datetime.fromisoformat(model["created_at"])
    setup = data["setup"]
    setup["started_at"] = _parse(setup["started_at"])
    setup["ready_at"] = _parse(setup["ready_at"])
    return ModelRecord(
        Model(**model),
        SetupStatus(**setup),
        data["node"],
        datetime.datetime.fromisoformat(data["updated_at"]),
        tuple(data.get("accelerators", ())),
    )
