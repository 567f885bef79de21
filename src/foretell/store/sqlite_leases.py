"""The embedded store's side of who runs what: owners, leases, cancel requests, deadlines.

Functions over one connection, run inside SQLiteStore's one-transaction-per-call."""

from __future__ import annotations

import datetime
import sqlite3
from collections.abc import Collection, Sequence

from foretell.core.prediction import Prediction
from foretell.core.status import Status
from foretell.store.codec import load_prediction
from foretell.store.protocol import CancelState, Claim, ClaimVerdict, WebhookDelivery
from foretell.store.rows import insert_delivery

_OPEN = "('starting', 'processing')"


def claim(
    db: sqlite3.Connection, prediction_id: str, owner: str, now: datetime.datetime,
    lease_until: datetime.datetime, start_data: bytes | None = None,
    start_rows: Sequence[WebhookDelivery] = (),
) -> Claim:  # fmt: skip
    """The verdict; for RUN the row is the owner's, and with `start_data` (the prediction
    as it starts, dumped) it is `processing` too, with its `start_rows`."""
    row = db.execute(
        "SELECT status, owner, lease_expires_at, cancel_requested, cancel_reason "
        "FROM predictions WHERE id = ?",
        (prediction_id,),
    ).fetchone()
    if row is None:
        return Claim(ClaimVerdict.FINISHED, None)
    status, holder, lease, cancel_requested, reason = row
    if Status(status).is_terminal:
        return Claim(ClaimVerdict.FINISHED, None)
    if cancel_requested:
        return Claim(ClaimVerdict.CANCELED, _stored(db, prediction_id), reason)
    held = holder is not None and holder != owner and lease is not None and lease > now.isoformat()
    if held:
        return Claim(ClaimVerdict.HELD, None)
    if status == "processing":
        return Claim(ClaimVerdict.ORPHANED, _stored(db, prediction_id))
    if start_data is not None:
        db.execute(
            "UPDATE predictions SET owner = ?, lease_expires_at = ?, status = 'processing', "
            "data = ? WHERE id = ?",
            (owner, lease_until.isoformat(), start_data, prediction_id),
        )
        for delivery in start_rows:
            insert_delivery(db, delivery)
        return Claim(ClaimVerdict.RUN, None, started=True)
    db.execute(
        "UPDATE predictions SET owner = ?, lease_expires_at = ? WHERE id = ?",
        (owner, lease_until.isoformat(), prediction_id),
    )
    return Claim(ClaimVerdict.RUN, None)


def _stored(db: sqlite3.Connection, prediction_id: str) -> Prediction:
    row = db.execute("SELECT data FROM predictions WHERE id = ?", (prediction_id,)).fetchone()
    return load_prediction(row[0])


def renew(
    db: sqlite3.Connection, owner: str, prediction_ids: Collection[str],
    lease_until: datetime.datetime,
) -> set[str]:  # fmt: skip
    until = lease_until.isoformat()
    renewed = set()
    for pid in prediction_ids:
        cursor = db.execute(
            f"UPDATE predictions SET lease_expires_at = ? WHERE id = ? AND owner = ? "  # noqa: S608 — a fixed clause
            f"AND status IN {_OPEN}",
            (until, pid, owner),
        )
        if cursor.rowcount:
            renewed.add(pid)
    return renewed


def request_cancel(
    db: sqlite3.Connection, prediction_id: str, reason: str | None, now: datetime.datetime
) -> CancelState | None:
    db.execute(
        f"UPDATE predictions SET cancel_requested = 1, cancel_reason = coalesce(cancel_reason, ?) "  # noqa: S608 — a fixed clause
        f"WHERE id = ? AND status IN {_OPEN}",
        (reason, prediction_id),
    )
    row = db.execute(
        "SELECT data, owner, lease_expires_at FROM predictions WHERE id = ?", (prediction_id,)
    ).fetchone()
    if row is None:
        return None
    data, holder, lease = row
    held = holder is not None and lease is not None and lease > now.isoformat()
    return CancelState(load_prediction(data), held)


def due_deadlines(db: sqlite3.Connection, before: datetime.datetime, limit: int) -> list[bytes]:
    rows = db.execute(
        f"SELECT data FROM predictions WHERE deadline IS NOT NULL AND status IN {_OPEN} "  # noqa: S608 — a fixed clause
        "AND deadline < ? ORDER BY deadline LIMIT ?",
        (before.isoformat(), limit),
    ).fetchall()
    return [row[0] for row in rows]


def expired_leases(db: sqlite3.Connection, now: datetime.datetime, limit: int) -> list[bytes]:
    rows = db.execute(
        "SELECT data FROM predictions WHERE status = 'processing' AND lease_expires_at < ? "
        "ORDER BY lease_expires_at LIMIT ?",
        (now.isoformat(), limit),
    ).fetchall()
    return [row[0] for row in rows]
