"""The cluster store's side of who runs what: owners, leases, cancel requests, deadlines.

Each is one statement (one round trip, its own transaction); a claim locks the row it
decides on, so two runners claiming at once are answered one after the other."""

from __future__ import annotations

import datetime
from collections.abc import Collection

from foretell.core.prediction import Prediction
from foretell.core.status import Status
from foretell.store.codec import load_prediction
from foretell.store.postgres_pool import Conn
from foretell.store.protocol import CancelState, Claim, ClaimVerdict

_OPEN = "status IN ('starting', 'processing')"

# `cur` is the row as it is once locked (a claim that waited on another sees its outcome);
# `won` takes it when it is queued, not canceled and nobody else holds a live lease on it.
_CLAIM = """
WITH cur AS (
    SELECT status, owner, lease_expires_at, cancel_requested, cancel_reason, data
    FROM predictions WHERE id = %(id)s FOR UPDATE
), won AS (
    UPDATE predictions p SET owner = %(owner)s, lease_expires_at = %(until)s
    FROM cur
    WHERE p.id = %(id)s AND cur.status = 'starting' AND NOT cur.cancel_requested
        AND (cur.owner IS NULL OR cur.owner = %(owner)s
             OR cur.lease_expires_at IS NULL OR cur.lease_expires_at <= %(now)s)
    RETURNING 1
)
SELECT status, owner, lease_expires_at, cancel_requested, cancel_reason,
    CASE WHEN cancel_requested OR status = 'processing' THEN data END,
    EXISTS (SELECT 1 FROM won)
FROM cur"""


async def claim(
    conn: Conn, prediction_id: str, owner: str, now: datetime.datetime,
    lease_until: datetime.datetime,
) -> Claim:  # fmt: skip
    """The runner's verdict, in the order SQLiteStore decides it."""
    cursor = await conn.execute(
        _CLAIM, {"id": prediction_id, "owner": owner, "until": lease_until, "now": now}
    )
    found = await cursor.fetchone()
    if found is None:
        return Claim(ClaimVerdict.FINISHED, None)
    status, holder, lease, cancel_requested, reason, data, won = found
    if Status(status).is_terminal:
        return Claim(ClaimVerdict.FINISHED, None)
    if cancel_requested:
        return Claim(ClaimVerdict.CANCELED, load_prediction(data), reason)
    if won:
        return Claim(ClaimVerdict.RUN, None)
    if holder is not None and holder != owner and lease is not None and lease > now:
        return Claim(ClaimVerdict.HELD, None)
    return Claim(ClaimVerdict.ORPHANED, load_prediction(data))


async def renew(
    conn: Conn, owner: str, prediction_ids: Collection[str], lease_until: datetime.datetime
) -> set[str]:
    """One statement for every lease of the runner; the ids it still holds."""
    cursor = await conn.execute(
        f"UPDATE predictions SET lease_expires_at = %s "  # noqa: S608 — a fixed clause
        f"WHERE id = ANY (%s::text[]) AND owner = %s AND {_OPEN} RETURNING id",
        (lease_until, list(prediction_ids), owner),
    )
    return {row[0] for row in await cursor.fetchall()}


async def request_cancel(
    conn: Conn, prediction_id: str, reason: str | None, now: datetime.datetime
) -> CancelState | None:
    """Mark it (the first reason given stays), and say whether a live lease holds it."""
    # the outer SELECT reads the row as it was before the mark: nothing it returns changes
    cursor = await conn.execute(
        f"WITH marked AS (UPDATE predictions SET cancel_requested = true, "  # noqa: S608 — a fixed clause
        f"cancel_reason = coalesce(cancel_reason, %(reason)s) WHERE id = %(id)s AND {_OPEN}) "
        f"SELECT data, owner, lease_expires_at FROM predictions WHERE id = %(id)s",
        {"id": prediction_id, "reason": reason},
    )
    found = await cursor.fetchone()
    if found is None:
        return None
    data, holder, lease = found
    return CancelState(
        load_prediction(data), holder is not None and lease is not None and lease > now
    )


async def due_deadlines(conn: Conn, before: datetime.datetime, limit: int) -> list[Prediction]:
    """Open predictions past their deadline, soonest first."""
    cursor = await conn.execute(
        f"SELECT data FROM predictions WHERE deadline IS NOT NULL AND {_OPEN} "  # noqa: S608 — a fixed clause
        "AND deadline < %s ORDER BY deadline LIMIT %s",
        (before, limit),
    )
    return [load_prediction(data) for (data,) in await cursor.fetchall()]


async def expired_leases(conn: Conn, now: datetime.datetime, limit: int) -> list[Prediction]:
    """Processing predictions whose runner's lease ran out."""
    cursor = await conn.execute(
        "SELECT data FROM predictions WHERE status = 'processing' AND lease_expires_at < %s "
        "ORDER BY lease_expires_at LIMIT %s",
        (now, limit),
    )
    return [load_prediction(data) for (data,) in await cursor.fetchall()]
