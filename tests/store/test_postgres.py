"""The PostgreSQL store beyond the contract: migrations, outages, recovery, its indexes."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import secrets
import socket
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from foretell.api.errors import HANDLERS
from foretell.core.prediction import Prediction
from foretell.errors import StoreUnavailable
from foretell.store import migrations
from foretell.store.postgres import PostgresStore
from foretell.store.postgres_predictions import page_query
from tests.store.postgres_db import TABLES, scratch_database

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def _prediction(n: int, account: str = "ann") -> Prediction:
    return Prediction(
        id=f"p{n:05d}", account=account, model="acme/echo", version="v" * 64, input={},
        created_at=T0 + datetime.timedelta(seconds=n),
    )  # fmt: skip


async def _tables(url: str) -> set[str]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cursor = await conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )
        return {name for (name,) in await cursor.fetchall()}


async def _revision(url: str) -> str:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        found = await (await conn.execute("SELECT version_num FROM alembic_version")).fetchone()
        assert found is not None
        return str(found[0])


async def test_migrations_are_idempotent_and_reversible() -> None:
    """Upgrading twice changes nothing; down to nothing and up again gives the same schema."""
    async with scratch_database() as url:
        await asyncio.to_thread(migrations.upgrade, url)
        await asyncio.to_thread(migrations.upgrade, url)
        assert await _revision(url) == migrations.head()
        assert await _tables(url) == {*TABLES, "alembic_version"}
        await asyncio.to_thread(migrations.downgrade, url, "base")
        assert await _tables(url) == {"alembic_version"}
        store = PostgresStore(url)
        await store.open()  # migrates again
        await store.close()
        assert await _tables(url) == {*TABLES, "alembic_version"}


_OPEN_STORE = """
import asyncio, sys
from foretell.store.postgres import PostgresStore
async def main():
    store = PostgresStore(sys.argv[1])
    await store.open()
    assert await store.count_tokens() == 0
    await store.close()
asyncio.run(main())
"""


async def _waiting_for_the_lock(admin: psycopg.AsyncConnection[tuple[Any, ...]]) -> int:
    cursor = await admin.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = %s",
        (migrations.LOCK_KEY,),
    )
    found = await cursor.fetchone()
    return int(found[0]) if found else 0


async def test_processes_opening_at_once_take_turns_migrating() -> None:
    """Two nodes starting together on an empty database: both open it, one migrates."""
    async with scratch_database() as url:
        async with await psycopg.AsyncConnection.connect(url) as admin:
            # hold the migration lock, so that both are certainly there at once
            await admin.execute("SELECT pg_advisory_lock(%s)", (migrations.LOCK_KEY,))
            procs = [
                await asyncio.create_subprocess_exec(sys.executable, "-c", _OPEN_STORE, url)
                for _ in range(2)
            ]
            async with asyncio.timeout(30):
                while await _waiting_for_the_lock(admin) < 2:
                    await asyncio.sleep(0.05)  # polling the server's lock table, with a deadline
            await admin.execute("SELECT pg_advisory_unlock(%s)", (migrations.LOCK_KEY,))
        codes = [await asyncio.wait_for(proc.wait(), 60) for proc in procs]
        assert codes == [0, 0]
        assert await _revision(url) == migrations.head()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_an_unreachable_server_is_store_unavailable() -> None:
    """Nothing listening: opening says so as StoreUnavailable (a 503), within the timeout."""
    store = PostgresStore(f"postgresql://postgres@127.0.0.1:{_closed_port()}/x", timeout=1.0)
    with pytest.raises(StoreUnavailable, match=r"127\.0\.0\.1:\d+/x can't be reached"):
        await store.open()


class Proxy:
    """A TCP proxy to the test server that can be taken down and brought back (an outage)."""

    def __init__(self) -> None:
        self.port = _closed_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def down(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", 5432)
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}


@contextlib.asynccontextmanager
async def _through(proxy: Proxy, url: str) -> AsyncIterator[PostgresStore]:
    await proxy.up()
    store = PostgresStore(url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}"), timeout=1.0)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def _get(store: PostgresStore) -> httpx.Response:
    """A request to an app whose one route reads the store, answered as the API answers."""

    async def count(request: Request) -> Response:
        return JSONResponse({"tokens": await store.count_tokens()})

    app = Starlette(routes=[Route("/", count)], exception_handlers=HANDLERS)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get("/")


async def test_an_outage_is_store_unavailable_and_the_store_recovers_by_itself() -> None:
    """Server gone mid-life: calls fail fast with StoreUnavailable (a 503 with Retry-After);
    once it is back, calls work again with nothing done to the store."""
    proxy = Proxy()
    async with scratch_database() as url, _through(proxy, url) as store:
        await store.create_prediction(_prediction(1))
        await proxy.down()
        with pytest.raises(StoreUnavailable, match="can't be reached"):
            await store.get_prediction("ann", "p00001")
        response = await _get(store)
        assert (response.status_code, response.headers["retry-after"]) == (503, "1")
        assert "can't be reached" in response.json()["detail"]
        await proxy.up()
        async with asyncio.timeout(30):
            while True:  # the pool reconnects in the background, with backoff
                with contextlib.suppress(StoreUnavailable):
                    assert await store.get_prediction("ann", "p00001") is not None
                    break
        await proxy.down()


async def test_killed_connections_are_replaced_without_an_error() -> None:
    """pg_terminate_backend of every pooled session: the next call still works (it met a
    session the server had ended, so nothing of it ran, and it ran again on a new one)."""
    name = f"foretell_kill_{secrets.token_hex(4)}"
    async with scratch_database() as url:
        store = PostgresStore(f"{url}?application_name={name}", min_size=3)
        await store.open()
        try:
            await asyncio.gather(*(store.create_prediction(_prediction(n)) for n in range(6)))
            async with await psycopg.AsyncConnection.connect(url, autocommit=True) as admin:
                cursor = await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = %s",
                    (name,),
                )
                assert len(await cursor.fetchall()) >= 1
            assert [p.id for p in (await store.list_predictions("ann", limit=2)).items] == [
                "p00005",
                "p00004",
            ]
            await store.create_prediction(_prediction(7))
        finally:
            await store.close()


async def test_a_page_after_a_cursor_is_an_index_scan() -> None:
    """With thousands of predictions, a newest-first page after a cursor reads the
    (account, created_at DESC, id DESC) index, not the table."""
    async with scratch_database() as url:
        store = PostgresStore(url)
        await store.open()
        await store.close()
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await conn.execute(
                "INSERT INTO predictions (id, account, status, created_at, data) "
                "SELECT 'p' || n, 'acct' || (n %% 20), 'succeeded', "
                "%s::timestamptz + n * interval '1 second', '\\x7b7d' "
                "FROM generate_series(1, 5000) AS n",
                (T0,),
            )
            await conn.execute("ANALYZE predictions")
            sql = page_query("predictions", ["account = %s"], "n")
            cursor = await conn.execute(
                f"EXPLAIN {sql}", ("acct3", T0 + datetime.timedelta(hours=1), "p3603", 10)
            )
            plan = "\n".join(line for (line,) in await cursor.fetchall())
        assert "Index Scan using predictions_by_account" in plan, plan
        assert "Sort" not in plan, plan
