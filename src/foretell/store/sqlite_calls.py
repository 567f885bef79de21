"""What the embedded store's method groups (its mixins) are built on: `_run`, a write that
has committed when it returns, and `_read`; foretell.store.sqlite.SQLiteStore provides both."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class SQLiteCalls:
    """The two ways a method reaches the connection."""

    async def _run(self, fn: Callable[[sqlite3.Connection], T], *, single: bool = False) -> T:
        raise NotImplementedError

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError
