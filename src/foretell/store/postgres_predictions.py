"""The cluster store's predictions: the hot path (one statement each), pages, retention."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Collection, Sequence
from typing import Any

from foretell.core.prediction import Prediction, remove_data
from foretell.core.status import Status
from foretell.store import postgres_outbox
from foretell.store.codec import decode_cursor, dump_prediction, load_prediction, page_of_rows
from foretell.store.postgres_pool import Conn
from foretell.store.protocol import Page, WebhookDelivery

_MOVE = (
    "UPDATE predictions SET status = %s, data = %s, completed_at = %s, data_removed = %s "
    "WHERE id = %s AND status = ANY (%s::text[])"
)
# with its webhook rows: both in one statement, so both or neither (a row that can't be
# inserted fails the whole statement, the state change with it)
_MOVE_WITH_ROWS = (
    f"WITH moved AS ({_MOVE} RETURNING 1), "  # noqa: S608 — constant text
    f"queued AS ({postgres_outbox.insert_many_sql('moved')}) "
    "SELECT count(*) FROM moved"
)


async def create(conn: Conn, prediction: Prediction) -> None:
    await conn.execute(
        "INSERT INTO predictions (id, account, status, created_at, data, deadline, kind) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (
            prediction.id, prediction.account, prediction.status.value, prediction.created_at,
            dump_prediction(prediction), prediction.deadline, prediction.kind,
        ),
    )  # fmt: skip


async def transition(
    conn: Conn,
    prediction: Prediction,
    from_states: Collection[Status],
    deliveries: Sequence[WebhookDelivery],
) -> bool:
    """Compare-and-set, with the webhook rows in the same statement."""
    params: list[Any] = [
        prediction.status.value, dump_prediction(prediction), prediction.completed_at,
        prediction.data_removed, prediction.id, [state.value for state in from_states],
    ]  # fmt: skip
    if not deliveries:
        cursor = await conn.execute(_MOVE, params)
        return cursor.rowcount > 0
    cursor = await conn.execute(_MOVE_WITH_ROWS, [*params, *postgres_outbox.columns(deliveries)])
    found = await cursor.fetchone()
    return found is not None and found[0] > 0


async def get(conn: Conn, account: str, prediction_id: str) -> Prediction | None:
    cursor = await conn.execute(
        "SELECT data FROM predictions WHERE id = %s AND account = %s", (prediction_id, account)
    )
    found = await cursor.fetchone()
    return load_prediction(found[0]) if found else None


async def page(
    conn: Conn,
    table: str,
    where: list[str],
    params: list[Any],
    limit: int,
    cursor: str | None,
    load: Callable[[Any], Any],
) -> Page:
    """A newest-first page of `table` (predictions or files), with SQLiteStore's cursors: a
    row comparison on (created_at, id), which the (account, created_at DESC, id DESC) index
    answers in order."""
    direction = "n"
    if cursor:
        direction, created_at, item_id = decode_cursor(cursor)
        params = [*params, datetime.datetime.fromisoformat(created_at), item_id]
    sql = page_query(table, where, direction if cursor else None)
    found = await (await conn.execute(sql, [*params, limit + 1])).fetchall()
    return page_of_rows(found, limit, direction, cursor, load, _created_text)


def page_query(table: str, where: list[str], direction: str | None) -> str:
    """The SELECT of a page: after `where`'s parameters come, with a cursor (`direction`
    n or p), its created_at and id, then the limit."""
    if direction is not None:
        op = "<" if direction == "n" else ">"
        where = [*where, f"(created_at, id) {op} (%s, %s)"]
    order = "ASC" if direction == "p" else "DESC"
    return (
        f"SELECT id, created_at, data FROM {table} WHERE {' AND '.join(where)} "  # noqa: S608 — fixed table and clause names
        f"ORDER BY created_at {order}, id {order} LIMIT %s"
    )


def _created_text(created_at: datetime.datetime) -> str:
    return created_at.isoformat()


async def unfinished(conn: Conn) -> list[Prediction]:
    cursor = await conn.execute(
        "SELECT data FROM predictions WHERE status IN ('starting', 'processing') "
        "ORDER BY created_at, id"
    )
    return [load_prediction(data) for (data,) in await cursor.fetchall()]


async def remove_data_before(
    conn: Conn, completed_before: datetime.datetime, limit: int
) -> list[str]:
    """Clear input, output and logs of up to `limit` predictions finished before the cutoff."""
    async with conn.transaction():
        cursor = await conn.execute(
            "SELECT id, data FROM predictions WHERE NOT data_removed "
            "AND completed_at IS NOT NULL AND completed_at < %s ORDER BY completed_at LIMIT %s "
            "FOR UPDATE SKIP LOCKED",
            (completed_before, limit),
        )
        found = await cursor.fetchall()
        async with conn.cursor() as many:
            await many.executemany(
                "UPDATE predictions SET data = %s, data_removed = true WHERE id = %s",
                [(dump_prediction(remove_data(load_prediction(data))), pid) for pid, data in found],
            )
    return [pid for pid, _ in found]
