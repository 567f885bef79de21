"""What the cluster store's method groups (its mixins) are built on: `_run`, one call on a
pooled connection, which foretell.store.postgres.PostgresStore provides; and two helpers
for a query of one value."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from foretell.store.postgres_pool import Conn

T = TypeVar("T")


class PostgresCalls:
    """The way a method reaches a connection."""

    async def _run(self, fn: Callable[[Conn], Awaitable[T]]) -> T:
        raise NotImplementedError


async def scalar_of(conn: Conn, sql: str, *params: Any) -> Any:
    """The first column of the first row, or None."""
    found = await (await conn.execute(sql, params)).fetchone()
    return found[0] if found else None


async def scalar(conn: Conn, sql: str) -> Any:
    """The first column of the first row of a query without parameters, or None."""
    found = await (await conn.execute(sql)).fetchone()
    return found[0] if found else None
