"""Time in UTC, and the one text form every API timestamp takes."""

from __future__ import annotations

import datetime


def utcnow() -> datetime.datetime:
    """Now, in UTC."""
    return datetime.datetime.now(datetime.UTC)


def timestamp(value: datetime.datetime | None) -> str | None:
    """RFC 3339 in UTC with microseconds and `Z`, which every client parses."""
    if value is None:
        return None
    if value.tzinfo is not datetime.UTC:  # foretell's own times are UTC already
        value = value.astimezone(datetime.UTC)
    return value.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
