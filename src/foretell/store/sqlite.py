"""The embedded store: one SQLite file in WAL mode, used from a single thread."""

from __future__ import annotations

import datetime
import pathlib
import secrets
import sqlite3
from collections.abc import Callable, Collection, Sequence
from typing import Any, TypeVar

from foretell.core.deployments import Deployment
from foretell.core.models import ModelRecord
from foretell.core.prediction import Prediction, remove_data
from foretell.core.status import Status
from foretell.core.times import utcnow
from foretell.errors import StoreError
from foretell.store import sqlite_deployments, sqlite_leases, sqlite_outbox
from foretell.store.codec import dump_prediction, load_prediction
from foretell.store.deployments_codec import load_deployment
from foretell.store.protocol import CancelState, Claim, Page, WebhookDelivery
from foretell.store.rows import insert_delivery
from foretell.store.sqlite_accounts import SQLiteAccounts
from foretell.store.sqlite_batch import MAX_BATCH, GroupCommit
from foretell.store.sqlite_files import SQLiteFiles
from foretell.store.sqlite_instances import SQLiteInstances
from foretell.store.sqlite_library import SQLiteLibrary
from foretell.store.sqlite_loop import LoopCommit
from foretell.store.sqlite_registry import delete_model, select_model, select_models, upsert_model
from foretell.store.sqlite_schema import migrate

T = TypeVar("T")


class SQLiteStore(SQLiteAccounts, SQLiteFiles, SQLiteInstances, SQLiteLibrary):
    """SQLite behind the Store protocol, on one connection: the writes of one event-loop turn
    share a transaction (foretell.store.sqlite_loop), or with on_loop=False a thread's batch."""

    def __init__(
        self, path: pathlib.Path, *, group_commit: bool = True, on_loop: bool = True
    ) -> None:
        self.path = path
        # Calls made together share one transaction and one commit; group_commit=False makes
        # it one transaction per call (bench/store_writes.py). on_loop runs them on the event
        # loop at the end of its turn (foretell.store.sqlite_loop); else on a thread of their
        # own (foretell.store.sqlite_batch).
        batch = MAX_BATCH if group_commit else 1
        self._thread: GroupCommit | LoopCommit = (
            LoopCommit("sqlite", batch) if on_loop else GroupCommit("sqlite", max_batch=batch)
        )

    async def _run(self, fn: Callable[[sqlite3.Connection], T], *, single: bool = False) -> T:
        """Run `fn` on the store's thread; it has committed when this returns. `single`: it
        makes one write statement at most (it needs no savepoint of its own)."""
        try:
            return await self._thread.call(fn, single=single)
        except sqlite3.Error as exc:
            raise StoreError(f"database error in {self.path}: {exc}") from exc

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """A read: at once on the loop's connection (no batch, no commit to wait for), or on
        the store's thread."""
        committer = self._thread
        try:
            if isinstance(committer, LoopCommit):
                return committer.read(fn)
            return await committer.call(fn)
        except sqlite3.Error as exc:
            raise StoreError(f"database error in {self.path}: {exc}") from exc

    async def open(self) -> None:
        def connect() -> sqlite3.Connection:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                migrate(db)
            except BaseException:
                db.close()
                raise
            return db

        try:
            await self._thread.open(connect)
        except sqlite3.Error as exc:  # a corrupt or unreadable file at start
            raise StoreError(f"can't open the database {self.path}: {exc}") from exc

    async def close(self) -> None:
        """Wait for the calls already made, then close the database."""
        await self._thread.close()

    # ---- predictions ---------------------------------------------------------------------

    async def create_prediction(self, prediction: Prediction) -> None:
        deadline = prediction.deadline
        row = (
            prediction.id,
            prediction.account,
            prediction.status.value,
            prediction.created_at.isoformat(),
            dump_prediction(prediction),
            deadline.isoformat(timespec="microseconds") if deadline else None,
            prediction.kind,
        )
        await self._run(
            lambda db: db.execute(
                "INSERT INTO predictions (id, account, status, created_at, data, deadline, kind) "
                "VALUES (?,?,?,?,?,?,?)",
                row,
            ),
            single=True,
        )

    async def transition(
        self,
        prediction: Prediction,
        from_states: Collection[Status],
        deliveries: Sequence[WebhookDelivery] = (),
    ) -> bool:
        states = [state.value for state in from_states]
        completed = prediction.completed_at.isoformat() if prediction.completed_at else None
        sql = (
            "UPDATE predictions SET status=?, data=?, completed_at=?, data_removed=? "  # noqa: S608 — only placeholders are added
            f"WHERE id=? AND status IN ({','.join('?' * len(states))})"
        )
        params: list[Any] = [
            prediction.status.value, dump_prediction(prediction), completed,
            int(prediction.data_removed), prediction.id, *states,
        ]  # fmt: skip

        def run(db: sqlite3.Connection) -> bool:
            if db.execute(sql, params).rowcount == 0:
                return False
            for delivery in deliveries:
                insert_delivery(db, delivery)
            return True

        return await self._run(run, single=not deliveries)

    async def get_prediction(self, account: str, prediction_id: str) -> Prediction | None:
        def run(db: sqlite3.Connection) -> Prediction | None:
            row = db.execute(
                "SELECT data FROM predictions WHERE id = ? AND account = ?",
                (prediction_id, account),
            ).fetchone()
            return load_prediction(row[0]) if row else None

        return await self._read(run)

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
        where, params = ["account = ?", "kind = ?"], [account, kind]
        if created_after:
            where.append("created_at >= ?")
            params.append(created_after.isoformat())
        if created_before:
            where.append("created_at < ?")
            params.append(created_before.isoformat())
        return await self._page("predictions", where, params, limit, cursor, load_prediction)

    async def oldest_waiting(self) -> dict[str, datetime.datetime]:
        def run(db: sqlite3.Connection) -> dict[str, datetime.datetime]:
            rows = db.execute(
                "SELECT json_extract(CAST(data AS TEXT), '$.model'), min(created_at)"
                " FROM predictions WHERE status = 'starting' GROUP BY 1"
            ).fetchall()
            return {row[0]: datetime.datetime.fromisoformat(row[1]) for row in rows}

        return await self._read(run)

    async def unfinished_predictions(self) -> list[Prediction]:
        def run(db: sqlite3.Connection) -> list[Prediction]:
            rows = db.execute(
                "SELECT data FROM predictions WHERE status IN ('starting', 'processing') "
                "ORDER BY created_at, id"
            ).fetchall()
            return [load_prediction(row[0]) for row in rows]

        return await self._read(run)

    # ---- who runs what ------------------------------------------------------------------

    async def claim_prediction(
        self,
        prediction_id: str,
        owner: str,
        lease_until: datetime.datetime,
        start: Prediction | None = None,
        start_rows: Sequence[WebhookDelivery] = (),
    ) -> Claim:
        now = utcnow()
        data = dump_prediction(start) if start is not None else None
        return await self._run(
            lambda db: sqlite_leases.claim(
                db, prediction_id, owner, now, lease_until, data, start_rows
            ),
            single=not start_rows,  # else one UPDATE at most
        )

    async def renew_leases(
        self, owner: str, prediction_ids: Collection[str], lease_until: datetime.datetime
    ) -> set[str]:
        ids = list(prediction_ids)
        return await self._run(lambda db: sqlite_leases.renew(db, owner, ids, lease_until))

    async def request_cancel(self, prediction_id: str, reason: str | None) -> CancelState | None:
        now = utcnow()
        return await self._run(
            lambda db: sqlite_leases.request_cancel(db, prediction_id, reason, now)
        )

    async def due_deadlines(self, before: datetime.datetime, limit: int) -> list[Prediction]:
        rows = await self._read(lambda db: sqlite_leases.due_deadlines(db, before, limit))
        return [load_prediction(row) for row in rows]

    async def expired_leases(self, now: datetime.datetime, limit: int) -> list[Prediction]:
        rows = await self._read(lambda db: sqlite_leases.expired_leases(db, now, limit))
        return [load_prediction(row) for row in rows]

    # ---- webhook outbox ------------------------------------------------------------------

    async def add_delivery(self, delivery: WebhookDelivery) -> None:
        await self._run(lambda db: insert_delivery(db, delivery))

    async def save_delivery(self, delivery: WebhookDelivery) -> None:
        await self._run(lambda db: sqlite_outbox.update(db, delivery))

    async def due_deliveries(
        self,
        now: datetime.datetime,
        limit: int,
        exclude: Collection[str] = (),
        hold_s: float = 0.0,
    ) -> list[WebhookDelivery]:
        if hold_s > 0:  # a claim writes: it commits with the calls of its turn
            return await self._run(lambda db: sqlite_outbox.due(db, now, limit, exclude, hold_s))
        return await self._read(lambda db: sqlite_outbox.due(db, now, limit, exclude))

    async def list_deliveries(self, account: str, prediction_id: str) -> list[WebhookDelivery]:
        return await self._read(lambda db: sqlite_outbox.of_prediction(db, account, prediction_id))

    # ---- retention -----------------------------------------------------------------------

    async def remove_prediction_data(
        self, completed_before: datetime.datetime, limit: int
    ) -> list[str]:
        def run(db: sqlite3.Connection) -> list[str]:
            rows = db.execute(
                "SELECT id, data FROM predictions WHERE data_removed = 0 "
                "AND completed_at IS NOT NULL AND completed_at < ? ORDER BY completed_at LIMIT ?",
                (completed_before.isoformat(), limit),
            ).fetchall()
            for row in rows:
                removed = remove_data(load_prediction(row[1]))
                db.execute(
                    "UPDATE predictions SET data = ?, data_removed = 1 WHERE id = ?",
                    (dump_prediction(removed), row[0]),
                )
            return [row[0] for row in rows]

        return await self._run(run)

    # ---- model registry ------------------------------------------------------------------

    async def publish_model(self, record: ModelRecord) -> None:
        await self._run(lambda db: upsert_model(db, record))

    async def list_models(self) -> list[ModelRecord]:
        return await self._read(select_models)

    async def get_model(self, full_name: str) -> ModelRecord | None:
        return await self._read(lambda db: select_model(db, full_name))

    async def remove_model(self, full_name: str) -> bool:
        return await self._run(lambda db: delete_model(db, full_name))

    async def shared_secret(self, name: str) -> bytes:
        def run(db: sqlite3.Connection) -> bytes:
            db.execute(
                "INSERT OR IGNORE INTO shared_secrets (name, value) VALUES (?, ?)",
                (name, secrets.token_bytes(32)),
            )
            row = db.execute("SELECT value FROM shared_secrets WHERE name = ?", (name,)).fetchone()
            return bytes(row[0])

        return await self._run(run)

    # ---- deployments ---------------------------------------------------------------------

    async def create_deployment(self, deployment: Deployment) -> bool:
        return await self._run(lambda db: sqlite_deployments.insert(db, deployment))

    async def get_deployment(self, owner: str, name: str) -> Deployment | None:
        return await self._read(lambda db: sqlite_deployments.select(db, owner, name))

    async def list_deployments(
        self, account: str | None, *, limit: int, cursor: str | None = None
    ) -> Page:
        where, params = (["owner = ?"], [account]) if account is not None else (["1 = 1"], [])
        return await self._page("deployments", where, params, limit, cursor, load_deployment)

    async def save_deployment(self, deployment: Deployment) -> bool:
        return await self._run(lambda db: sqlite_deployments.update(db, deployment))

    async def delete_deployment(self, owner: str, name: str) -> bool:
        return await self._run(lambda db: sqlite_deployments.delete(db, owner, name))
