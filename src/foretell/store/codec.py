"""Prediction <-> stored JSON (foretell.codec), and opaque list cursors."""

from __future__ import annotations

import base64
import datetime

from foretell.codec import dump_prediction, load_prediction
from foretell.errors import InvalidCursor

__all__ = ["decode_cursor", "dump_prediction", "encode_cursor", "load_prediction"]


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
