"""The cluster store's connections: one psycopg pool, and the one place its failures are
translated into foretell's errors."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import psycopg
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from foretell.errors import StoreError, StoreUnavailable

Conn = psycopg.AsyncConnection[TupleRow]
T = TypeVar("T")

log = logging.getLogger("foretell.store")


class _Retry(Exception):
    """The call met a connection the server had closed before anything was committed."""


async def _utc(conn: Conn) -> None:
    # timestamps come back in UTC (cursors and token times are ISO text made from them)
    await conn.execute("SET TIME ZONE 'UTC'")


class Pool:
    """Autocommit connections (a single statement is its own transaction: no BEGIN/COMMIT
    round trips); calls needing more open `conn.transaction()` themselves."""

    def __init__(self, conninfo: str, label: str, min_size: int, max_size: int, timeout: float):
        self.label = label
        self._pool: AsyncConnectionPool[Conn] = AsyncConnectionPool(
            conninfo,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            open=False,
            kwargs={"autocommit": True},
            configure=_utc,
            reconnect_timeout=0,  # keep trying for ever: the server may come back any time
            name=f"foretell-{label}",
        )
        self._timeout = timeout

    async def open(self) -> None:
        try:
            await self._pool.open(wait=True, timeout=self._timeout)
        except PoolTimeout as exc:
            await self._pool.close()
            raise unavailable(self.label, exc) from exc

    async def close(self) -> None:
        await self._pool.close()

    async def run(self, fn: Callable[[Conn], Awaitable[T]]) -> T:
        """`fn` on a pooled connection. A connection the server dropped while it sat in the
        pool (a restart, pg_terminate_backend) is noticed by the call that meets it; nothing
        of that call was committed, so the idle connections are checked and it runs once more
        on a live one. Unreachable or lost server: StoreUnavailable (503); else StoreError."""
        try:
            try:
                return await self._once(fn)
            except _Retry:
                await self._pool.check()
                return await self._once(fn)
        except _Retry as exc:
            raise unavailable(self.label, exc.__cause__ or exc) from exc.__cause__
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise unavailable(self.label, exc) from exc
        except psycopg.Error as exc:
            raise StoreError(f"database error in {self.label}: {exc}") from exc

    async def _once(self, fn: Callable[[Conn], Awaitable[T]]) -> T:
        async with self._pool.connection() as conn:
            try:
                return await fn(conn)
            except psycopg.OperationalError as exc:
                if conn.broken and exc.sqlstate in _TERMINATED:
                    log.warning("PostgreSQL connection lost (%s); retrying on another", exc)
                    raise _Retry() from exc
                raise


#: the server ended the session (pg_terminate_backend, a shutdown or restart): the FATAL
#: it sent either aborted the statement or came before it, so nothing of it committed and
#: running it again is safe (a statement whose outcome is unknown is never retried)
_TERMINATED = ("57P01", "57P02", "57P03")


def unavailable(label: str, exc: BaseException) -> StoreUnavailable:
    """The one message a lost or unreachable server gives."""
    return StoreUnavailable(
        f"the database {label} can't be reached ({type(exc).__name__}: {exc}); "
        "try again in a moment"
    )
