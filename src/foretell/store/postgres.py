"""The cluster store: PostgreSQL through a psycopg 3 pool, its schema kept by Alembic."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any, TypeVar

import psycopg.conninfo
import psycopg.errors
import sqlalchemy.exc

from foretell.core.deployments import Deployment
from foretell.core.models import ModelRecord
from foretell.core.prediction import Prediction
from foretell.core.status import Status
from foretell.core.times import utcnow
from foretell.errors import StoreError
from foretell.store import migrations, postgres_leases, postgres_outbox, postgres_predictions
from foretell.store import postgres_deployments as deployments
from foretell.store import postgres_registry as registry
from foretell.store.codec import load_prediction
from foretell.store.deployments_codec import load_deployment
from foretell.store.postgres_accounts import PostgresAccounts
from foretell.store.postgres_instances import PostgresInstances
from foretell.store.postgres_library import PostgresLibrary
from foretell.store.postgres_pool import Conn, Pool, unavailable
from foretell.store.protocol import (
    CancelState,
    Claim,
    ClaimVerdict,
    FileRecord,
    Page,
    WebhookDelivery,
)
from foretell.store.rows import dump_file, load_file

T = TypeVar("T")


def describe(url: str) -> str:
    """host:port/dbname of a URL, for messages (never its password)."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "PostgreSQL (unreadable URL)"
    return f"{info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')}"


class PostgresStore(PostgresAccounts, PostgresInstances, PostgresLibrary):
    """PostgreSQL behind the Store protocol; any number of nodes share one database."""

    def __init__(
        self, url: str, *, min_size: int = 1, max_size: int = 10, timeout: float = 5.0
    ) -> None:
        """`url`: postgresql://user:password@host:port/dbname?options. `timeout`: how long a
        call waits for a connection before StoreUnavailable (the server is down, or every
        connection is busy)."""
        self.url = url
        self.label = describe(url)
        self._timeout = timeout
        self._pool = Pool(url, self.label, min_size, max_size, timeout)

    async def _run(self, fn: Callable[[Conn], Awaitable[T]]) -> T:
        return await self._pool.run(fn)

    async def open(self) -> None:
        """Connect, and migrate to the newest schema unless it is there already (Alembic
        runs only then: nodes starting together take turns on its lock)."""
        await self._pool.open()
        try:
            if await self._run(_revision) != migrations.head():
                await asyncio.to_thread(migrations.upgrade, self.url)
        except sqlalchemy.exc.OperationalError as exc:
            await self._pool.close()
            raise unavailable(self.label, exc.orig or exc) from exc
        except sqlalchemy.exc.SQLAlchemyError as exc:
            await self._pool.close()
            raise StoreError(f"can't migrate the database {self.label}: {exc}") from exc
        except BaseException:
            await self._pool.close()
            raise

    async def close(self) -> None:
        await self._pool.close()

    # ---- predictions ---------------------------------------------------------------------

    async def create_prediction(self, prediction: Prediction) -> None:
        await self._run(lambda conn: postgres_predictions.create(conn, prediction))

    async def transition(
        self,
        prediction: Prediction,
        from_states: Collection[Status],
        deliveries: Sequence[WebhookDelivery] = (),
    ) -> bool:
        return await self._run(
            lambda conn: postgres_predictions.transition(conn, prediction, from_states, deliveries)
        )

    async def get_prediction(self, account: str, prediction_id: str) -> Prediction | None:
        return await self._run(lambda conn: postgres_predictions.get(conn, account, prediction_id))

    async def list_predictions(
        self,
        account: str,
        *,
        limit: int,
        cursor: str | None = None,
        created_after: datetime.datetime | None = None,
        created_before: datetime.datetime | None = None,
        kind: str = "prediction",
    ) -> Page:
        where, params = ["account = %s", "kind = %s"], list[Any]([account, kind])
        if created_after:
            where.append("created_at >= %s")
            params.append(created_after)
        if created_before:
            where.append("created_at < %s")
            params.append(created_before)
        return await self._page("predictions", where, params, limit, cursor, load_prediction)

    async def _page(
        self, table: str, where: list[str], params: list[Any], limit: int, cursor: str | None,
        load: Callable[[Any], Any],
    ) -> Page:  # fmt: skip
        return await self._run(
            lambda conn: postgres_predictions.page(conn, table, where, params, limit, cursor, load)
        )

    async def oldest_waiting(self) -> dict[str, datetime.datetime]:
        async def run(conn: Conn) -> dict[str, datetime.datetime]:
            cursor = await conn.execute(
                "SELECT convert_from(data, 'UTF8')::jsonb ->> 'model', min(created_at)"
                " FROM predictions WHERE status = 'starting' GROUP BY 1"
            )
            return {row[0]: row[1] for row in await cursor.fetchall()}

        return await self._run(run)

    async def unfinished_predictions(self) -> list[Prediction]:
        return await self._run(postgres_predictions.unfinished)

    # ---- who runs what -------------------------------------------------------------------

    async def claim_prediction(
        self,
        prediction_id: str,
        owner: str,
        lease_until: datetime.datetime,
        start: Prediction | None = None,
        start_rows: Sequence[WebhookDelivery] = (),
    ) -> Claim:
        now = utcnow()

        async def run(conn: Conn) -> Claim:
            claim = await postgres_leases.claim(conn, prediction_id, owner, now, lease_until)
            if claim.verdict is not ClaimVerdict.RUN or start is None:
                return claim
            # same transaction, and the claim holds the row's lock: it is still `starting`
            await postgres_predictions.transition(conn, start, (Status.STARTING,), start_rows)
            return dataclasses.replace(claim, started=True)

        return await self._run(run)

    async def renew_leases(
        self, owner: str, prediction_ids: Collection[str], lease_until: datetime.datetime
    ) -> set[str]:
        ids = list(prediction_ids)
        return await self._run(lambda conn: postgres_leases.renew(conn, owner, ids, lease_until))

    async def request_cancel(self, prediction_id: str, reason: str | None) -> CancelState | None:
        now = utcnow()
        return await self._run(
            lambda conn: postgres_leases.request_cancel(conn, prediction_id, reason, now)
        )

    async def due_deadlines(self, before: datetime.datetime, limit: int) -> list[Prediction]:
        return await self._run(lambda conn: postgres_leases.due_deadlines(conn, before, limit))

    async def expired_leases(self, now: datetime.datetime, limit: int) -> list[Prediction]:
        return await self._run(lambda conn: postgres_leases.expired_leases(conn, now, limit))

    # ---- webhook outbox ------------------------------------------------------------------

    async def add_delivery(self, delivery: WebhookDelivery) -> None:
        await self._run(lambda conn: postgres_outbox.insert(conn, delivery))

    async def save_delivery(self, delivery: WebhookDelivery) -> None:
        await self._run(lambda conn: postgres_outbox.update(conn, delivery))

    async def due_deliveries(
        self,
        now: datetime.datetime,
        limit: int,
        exclude: Collection[str] = (),
        hold_s: float = 0.0,
    ) -> list[WebhookDelivery]:
        return await self._run(lambda conn: postgres_outbox.due(conn, now, limit, exclude, hold_s))

    async def list_deliveries(self, account: str, prediction_id: str) -> list[WebhookDelivery]:
        return await self._run(
            lambda conn: postgres_outbox.of_prediction(conn, account, prediction_id)
        )

    # ---- files ---------------------------------------------------------------------------

    async def add_file(self, record: FileRecord) -> None:
        row = (record.id, record.account, record.created_at, record.expires_at, dump_file(record))

        async def run(conn: Conn) -> None:
            await conn.execute(
                "INSERT INTO files (id, account, created_at, expires_at, data) "
                "VALUES (%s, %s, %s, %s, %s)",
                row,
            )

        await self._run(run)

    async def get_file(self, account: str | None, file_id: str) -> FileRecord | None:
        async def run(conn: Conn) -> FileRecord | None:
            cursor = await conn.execute("SELECT account, data FROM files WHERE id = %s", (file_id,))
            found = await cursor.fetchone()
            if found is None or (account is not None and found[0] != account):
                return None
            return load_file(found[1])

        return await self._run(run)

    async def list_files(self, account: str, *, limit: int, cursor: str | None = None) -> Page:
        return await self._page("files", ["account = %s"], [account], limit, cursor, load_file)

    async def delete_file(self, account: str, file_id: str) -> bool:
        async def run(conn: Conn) -> bool:
            cursor = await conn.execute(
                "DELETE FROM files WHERE id = %s AND account = %s", (file_id, account)
            )
            return cursor.rowcount > 0

        return await self._run(run)

    # ---- retention -----------------------------------------------------------------------

    async def remove_prediction_data(
        self, completed_before: datetime.datetime, limit: int
    ) -> list[str]:
        return await self._run(
            lambda conn: postgres_predictions.remove_data_before(conn, completed_before, limit)
        )

    async def expired_files(self, now: datetime.datetime, limit: int) -> list[FileRecord]:
        async def run(conn: Conn) -> list[FileRecord]:
            cursor = await conn.execute(
                "SELECT data FROM files WHERE expires_at < %s ORDER BY expires_at LIMIT %s",
                (now, limit),
            )
            return [load_file(data) for (data,) in await cursor.fetchall()]

        return await self._run(run)

    # ---- model registry ------------------------------------------------------------------

    async def publish_model(self, record: ModelRecord) -> None:
        await self._run(lambda conn: registry.upsert_model(conn, record))

    async def list_models(self) -> list[ModelRecord]:
        return await self._run(registry.select_models)

    async def get_model(self, full_name: str) -> ModelRecord | None:
        return await self._run(lambda conn: registry.select_model(conn, full_name))

    async def remove_model(self, full_name: str) -> bool:
        return await self._run(lambda conn: registry.delete_model(conn, full_name))

    # ---- deployments ---------------------------------------------------------------------

    async def create_deployment(self, deployment: Deployment) -> bool:
        return await self._run(lambda conn: deployments.insert(conn, deployment))

    async def get_deployment(self, owner: str, name: str) -> Deployment | None:
        return await self._run(lambda conn: deployments.select(conn, owner, name))

    async def list_deployments(
        self, account: str | None, *, limit: int, cursor: str | None = None
    ) -> Page:
        where, params = (["owner = %s"], [account]) if account is not None else (["TRUE"], [])
        return await self._page("deployments", where, params, limit, cursor, load_deployment)

    async def save_deployment(self, deployment: Deployment) -> bool:
        return await self._run(lambda conn: deployments.update(conn, deployment))

    async def delete_deployment(self, owner: str, name: str) -> bool:
        return await self._run(lambda conn: deployments.delete(conn, owner, name))


async def _revision(conn: Conn) -> str | None:
    """The schema's Alembic revision; None before the first migration."""
    try:
        found = await (await conn.execute("SELECT version_num FROM alembic_version")).fetchone()
    except psycopg.errors.UndefinedTable:
        return None
    return found[0] if found else None
