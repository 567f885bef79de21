"""Prediction <-> stored JSON (foretell.codec), and opaque list cursors."""

from __future__ import annotations

import base64
import datetime
from collections.abc import Callable, Sequence
from typing import Any

from foretell.codec import dump_prediction, load_prediction
from foretell.errors import InvalidCursor
from foretell.store.protocol import Page

__all__ = [
    "decode_cursor",
    "dump_prediction",
    "encode_cursor",
    "load_prediction",
    "page_of_rows",
]


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


def page_of_rows(
    found: Sequence[Sequence[Any]],
    limit: int,
    direction: str,
    cursor: str | None,
    load: Callable[[Any], Any],
    created_text: Callable[[Any], str] = str,
) -> Page:
    """The Page of a newest-first query's rows (id, created_at, data), read `limit + 1` at a
    time so that one more row says there is a further page; `created_text` gives a row's
    created_at as the cursor holds it (each engine's column type differs)."""
    more = len(found) > limit
    rows = list(found[:limit])
    if direction == "p":
        rows.reverse()  # a previous page is read oldest-first, shown newest-first
    older = more if direction == "n" else bool(rows)
    newer = cursor is not None if direction == "n" else more

    def at(row: Sequence[Any], to: str) -> str:
        return encode_cursor(to, created_text(row[1]), row[0])

    next_cursor = at(rows[-1], "n") if older and rows else None
    previous = at(rows[0], "p") if newer and rows else None
    return Page([load(row[2]) for row in rows], next_cursor, previous)
