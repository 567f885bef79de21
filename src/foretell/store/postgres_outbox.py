"""The cluster store's webhook outbox: rows claimed by one node at a time, fairly, in order.

Any node's deliverer may send any row. `due(..., hold_s)` claims what it returns with
FOR UPDATE SKIP LOCKED in the statement that finds it: another node's query skips the rows
being claimed and, once committed, sees them held (not due) until `hold_s` has passed or
`update` records the attempt. A prediction's rows go in order because only its oldest
pending row can be due (a row being sent stays pending, so the next one waits behind it)."""

from __future__ import annotations

import datetime
from collections.abc import Collection, Sequence
from typing import Any

from foretell.store.postgres_pool import Conn
from foretell.store.protocol import WebhookDelivery
from foretell.store.rows import dump_delivery, load_delivery

_COLUMNS = "id, prediction_id, account, status, next_attempt_at, created_at, data"

# Each prediction's oldest pending row, when due, numbered per account by how long it has
# been due: the page takes every account's first turn before anyone's second.
_TURNS = """
turns AS (
    SELECT d.id, d.next_attempt_at, d.seq,
        row_number() OVER (PARTITION BY d.account ORDER BY d.next_attempt_at, d.seq) AS turn
    FROM webhook_deliveries d
    WHERE d.status = 'pending' AND d.next_attempt_at <= %(now)s
        AND d.prediction_id <> ALL (%(exclude)s::text[])
        AND NOT EXISTS (
            SELECT 1 FROM webhook_deliveries o
            WHERE o.status = 'pending' AND o.prediction_id = d.prediction_id AND o.seq < d.seq)
), picked AS (
    SELECT id, next_attempt_at, seq, turn FROM turns
    ORDER BY turn, next_attempt_at, seq LIMIT %(limit)s
)"""

_DUE = f"""WITH {_TURNS}
SELECT w.data FROM picked p JOIN webhook_deliveries w USING (id)
ORDER BY p.turn, p.next_attempt_at, p.seq"""  # noqa: S608 — constant text

# The rows picked are locked, skipping any another node is claiming right now, and checked
# again as they are now (a row another node claimed and committed meanwhile is no longer
# due); their stored document keeps the time they came due, which is what is returned,
# each with how many were picked (one row with no document when none was locked): fewer
# locked than picked means another node had them, and rows after them may still be due.
_CLAIM = f"""WITH {_TURNS}, locked AS (
    SELECT w.id, w.data, p.turn, p.next_attempt_at, p.seq
    FROM webhook_deliveries w JOIN picked p USING (id)
    WHERE w.status = 'pending' AND w.next_attempt_at <= %(now)s
    FOR UPDATE OF w SKIP LOCKED
), held AS (
    UPDATE webhook_deliveries w SET next_attempt_at = %(until)s
    FROM locked WHERE w.id = locked.id
)
SELECT l.data, p.n FROM (SELECT count(*) AS n FROM picked) p LEFT JOIN locked l ON true
ORDER BY l.turn, l.next_attempt_at, l.seq"""  # noqa: S608 — constant text


def row(delivery: WebhookDelivery) -> tuple[Any, ...]:
    """The columns of an outbox row, in _COLUMNS' order."""
    return (
        delivery.id, delivery.prediction_id, delivery.account, delivery.status,
        delivery.next_attempt_at, delivery.created_at, dump_delivery(delivery),
    )  # fmt: skip


def insert_many_sql(moved: str) -> str:
    """INSERT of a batch of rows passed as one array per column (in order: each gets the next
    `seq`), only if the CTE `moved` has a row (used by transition)."""
    return (
        f"INSERT INTO webhook_deliveries ({_COLUMNS}) "  # noqa: S608 — constant text
        f"SELECT r.id, r.prediction_id, r.account, r.status, r.next_attempt_at, r.created_at, "
        f"r.data FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], "
        f"%s::timestamptz[], %s::timestamptz[], %s::bytea[]) WITH ORDINALITY "
        f"AS r(id, prediction_id, account, status, next_attempt_at, created_at, data, n) "
        f"WHERE EXISTS (SELECT 1 FROM {moved}) ORDER BY r.n"
    )


def columns(deliveries: Sequence[WebhookDelivery]) -> list[list[Any]]:
    """`deliveries` as one list per column, for insert_many_sql."""
    return [list(column) for column in zip(*(row(d) for d in deliveries), strict=True)]


async def insert(conn: Conn, delivery: WebhookDelivery) -> None:
    """Insert one outbox row."""
    await conn.execute(
        f"INSERT INTO webhook_deliveries ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)",  # noqa: S608 — constant text
        row(delivery),
    )


async def update(conn: Conn, delivery: WebhookDelivery) -> None:
    """Record an attempt's outcome (which ends the hold of a claimed row)."""
    await conn.execute(
        "UPDATE webhook_deliveries SET status = %s, next_attempt_at = %s, data = %s WHERE id = %s",
        (delivery.status, delivery.next_attempt_at, dump_delivery(delivery), delivery.id),
    )


#: how many claims one call makes at most, when a claim found some of the rows it picked
#: taken by another node's claim
CLAIM_TRIES = 3


async def due(
    conn: Conn, now: datetime.datetime, limit: int, exclude: Collection[str], hold_s: float
) -> list[WebhookDelivery]:
    """Each prediction's oldest pending row if due, round-robin across accounts; claimed
    until `now + hold_s` when `hold_s` > 0.

    Two nodes claiming at once pick the same first rows; the one that finds them locked
    skips them and would come back short although later rows are due. So a claim that
    locked fewer rows than it picked claims again (each statement commits: what it claimed
    is held now, no longer due)."""
    params: dict[str, Any] = {"now": now, "limit": limit, "exclude": list(exclude)}
    if hold_s <= 0:
        cursor = await conn.execute(_DUE, params)
        return [load_delivery(data) for (data,) in await cursor.fetchall()]
    params["until"] = now + datetime.timedelta(seconds=hold_s)
    claimed: list[WebhookDelivery] = []
    for _ in range(CLAIM_TRIES):
        cursor = await conn.execute(_CLAIM, {**params, "limit": limit - len(claimed)})
        rows = await cursor.fetchall()
        locked = [load_delivery(data) for data, _ in rows if data is not None]
        claimed += locked
        if len(locked) == rows[0][1] or len(claimed) >= limit:
            break
    return claimed


async def of_prediction(conn: Conn, account: str, prediction_id: str) -> list[WebhookDelivery]:
    """A prediction's rows, oldest first."""
    cursor = await conn.execute(
        "SELECT data FROM webhook_deliveries WHERE account = %s AND prediction_id = %s "
        "ORDER BY seq",
        (account, prediction_id),
    )
    return [load_delivery(data) for (data,) in await cursor.fetchall()]
