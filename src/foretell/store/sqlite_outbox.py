"""The embedded store's webhook outbox: attempts recorded, due rows handed out fairly.

Functions over one connection, run inside SQLiteStore's transactions (rows are inserted
with their state change by foretell.store.rows.insert_delivery)."""

from __future__ import annotations

import datetime
import sqlite3
from collections.abc import Collection

from foretell.store.protocol import WebhookDelivery
from foretell.store.rows import dump_delivery, load_delivery


def update(db: sqlite3.Connection, delivery: WebhookDelivery) -> None:
    """Record an attempt's outcome."""
    db.execute(
        "UPDATE webhook_deliveries SET status=?, next_attempt_at=?, data=? WHERE id=?",
        (delivery.status, delivery.next_attempt_at.isoformat(), dump_delivery(delivery),
         delivery.id),
    )  # fmt: skip


def due(
    db: sqlite3.Connection, now: datetime.datetime, limit: int, exclude: Collection[str],
    hold_s: float = 0.0,
) -> list[WebhookDelivery]:  # fmt: skip
    """Each prediction's oldest pending row if due, round-robin across accounts; claimed
    until `now + hold_s` when `hold_s` > 0 (its column moves, its stored row doesn't: it
    comes back as it was, and saving it unchanged hands it back)."""
    skip = ",".join("?" * len(exclude))
    where = f" AND d.prediction_id NOT IN ({skip})" if exclude else ""
    # only placeholders are added to the text
    sql = (
        "SELECT id, data FROM (SELECT d.id, d.data, d.next_attempt_at, ROW_NUMBER() OVER ("  # noqa: S608
        "   PARTITION BY d.account ORDER BY d.next_attempt_at, d.seq) AS turn"
        " FROM webhook_deliveries d JOIN ("
        "  SELECT prediction_id, min(seq) AS seq FROM webhook_deliveries"
        "  WHERE status = 'pending' GROUP BY prediction_id) first"
        " ON d.prediction_id = first.prediction_id AND d.seq = first.seq"
        f" WHERE d.next_attempt_at <= ?{where})"
        " ORDER BY turn, next_attempt_at LIMIT ?"
    )
    rows = db.execute(sql, (now.isoformat(), *exclude, limit)).fetchall()
    if hold_s > 0:
        until = (now + datetime.timedelta(seconds=hold_s)).isoformat()
        db.executemany(
            "UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ?",
            [(until, row[0]) for row in rows],
        )
    return [load_delivery(row[1]) for row in rows]


def of_prediction(
    db: sqlite3.Connection, account: str, prediction_id: str
) -> list[WebhookDelivery]:
    """A prediction's rows, oldest first."""
    rows = db.execute(
        "SELECT data FROM webhook_deliveries WHERE account = ? AND prediction_id = ? ORDER BY seq",
        (account, prediction_id),
    ).fetchall()
    return [load_delivery(row[0]) for row in rows]
