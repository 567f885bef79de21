"""Stored models and versions <-> stored JSON (one document per row, for every engine)."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import orjson

from foretell.core.versions import StoredModel, StoredVersion

_MODEL_FIELDS = frozenset(f.name for f in dataclasses.fields(StoredModel))
_VERSION_FIELDS = frozenset(f.name for f in dataclasses.fields(StoredVersion))


def dump_stored(record: StoredModel | StoredVersion) -> bytes:
    """A stored model or version as a JSON document (times as ISO 8601)."""
    return orjson.dumps(record)


def created_text(at: datetime.datetime) -> str:
    """A time as the embedded store's columns keep it: fixed width, so text order is time
    order."""
    return at.isoformat(timespec="microseconds")


def _known(data: dict[str, Any], fields: frozenset[str]) -> dict[str, Any]:
    # a row written by a newer release may carry fields this one doesn't know: skip them
    known = {k: v for k, v in data.items() if k in fields}
    known["created_at"] = datetime.datetime.fromisoformat(known["created_at"])
    return known


def load_stored_model(raw: bytes | str) -> StoredModel:
    """The model stored by dump_stored."""
    return StoredModel(**_known(orjson.loads(raw), _MODEL_FIELDS))


def load_version(raw: bytes | str) -> StoredVersion:
    """The version stored by dump_stored."""
    return StoredVersion(**_known(orjson.loads(raw), _VERSION_FIELDS))
