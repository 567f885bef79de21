"""What the embedded store's method groups (its mixins) are built on: `_run`, a write that
has committed when it returns, and `_read` (foretell.store.sqlite.SQLiteStore provides both),
and `_page`, one page of a table newest first, by cursor."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from foretell.store.codec import decode_cursor, page_of_rows
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
            found = db.execute(sql, [*params, limit + 1]).fetchall()
            return page_of_rows(found, limit, direction, cursor, load)

        return await self._read(run)
