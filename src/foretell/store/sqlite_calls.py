"""What the embedded store's method groups (its mixins) are built on: `_run`, a write that
has committed when it returns, and `_read` (foretell.store.sqlite.SQLiteStore provides both),
and `_page`, one page of a table newest first, by cursor."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from foretell.store.codec import decode_cursor, encode_cursor
from foretell.store.protocol import Page

T = TypeVar("T")


class SQLiteCalls:
    """The two ways a method reaches the connection."""

    async def _run(self, fn: Callable[[sqlite3.Connection], T], *, single: bool = False) -> T:
        raise NotImplementedError

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError

    async def _page(
        self,
        table: str,
        where: list[str],
        params: list[Any],
        limit: int,
        cursor: str | None,
        load: Callable[[Any], Any],
    ) -> Page:
        direction = "n"
        if cursor:
            direction, created_at, item_id = decode_cursor(cursor)
            op = "<" if direction == "n" else ">"
            where = [*where, f"(created_at {op} ? OR (created_at = ? AND id {op} ?))"]
            params = [*params, created_at, created_at, item_id]
        order = "DESC" if direction == "n" else "ASC"
        sql = (
            f"SELECT id, created_at, data FROM {table} WHERE {' AND '.join(where)} "  # noqa: S608 — fixed table and clause names
            f"ORDER BY created_at {order}, id {order} LIMIT ?"
        )

        def run(db: sqlite3.Connection) -> Page:
            rows = db.execute(sql, [*params, limit + 1]).fetchall()
            more = len(rows) > limit
            rows = rows[:limit]
            if direction == "p":
                rows.reverse()  # a previous page is read oldest-first, shown newest-first
            older = more if direction == "n" else bool(rows)
            newer = cursor is not None if direction == "n" else more
            next_cursor = encode_cursor("n", rows[-1][1], rows[-1][0]) if older and rows else None
            previous = encode_cursor("p", rows[0][1], rows[0][0]) if newer and rows else None
            return Page([load(row[2]) for row in rows], next_cursor, previous)

        return await self._read(run)
