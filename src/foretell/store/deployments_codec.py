"""Deployment records <-> stored JSON (one document per deployment, for every engine)."""

from __future__ import annotations

import datetime
from typing import Any

import orjson

from foretell.core.deployments import Configuration, Creator, Deployment, Release


def dump_deployment(deployment: Deployment) -> bytes:
    """A deployment as a JSON document (orjson writes the dataclasses, times as ISO 8601)."""
    return orjson.dumps(deployment)


def load_deployment(raw: bytes | str) -> Deployment:
    """The deployment stored by dump_deployment."""
    data: dict[str, Any] = orjson.loads(raw)
    release = data["current_release"]
    return Deployment(
        owner=data["owner"],
        name=data["name"],
        created_at=datetime.datetime.fromisoformat(data["created_at"]),
        current_release=Release(
            number=release["number"],
            model=release["model"],
            version=release["version"],
            created_at=datetime.datetime.fromisoformat(release["created_at"]),
            created_by=Creator(**release["created_by"]),
            configuration=Configuration(**release["configuration"]),
        ),
    )
