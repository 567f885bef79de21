"""The outbox: which changes become webhook rows, and the throttle of output/logs (a fake
store that records rows, a manual clock; no sleeps)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence

import orjson

from foretell.core.prediction import Prediction
from foretell.core.times import utcnow
from foretell.store.protocol import WebhookDelivery
from foretell.webhooks.outbox import THROTTLE_S, Outbox


class RowStore:
    """Records the rows the outbox writes itself; `written` is set after each."""

    def __init__(self) -> None:
        self.rows: list[WebhookDelivery] = []
        self.written = asyncio.Event()

    async def add_delivery(self, delivery: WebhookDelivery) -> None:
        self.rows.append(delivery)
        self.written.set()


def _prediction(
    logs: str = "", events: Collection[str] | None = None, webhook: str | None = "https://x/h"
) -> Prediction:
    return Prediction(
        id="p1", account="ann", model="acme/echo", version="v" * 64, input={},
        created_at=utcnow(), logs=logs, webhook=webhook,
        webhook_events_filter=tuple(events) if events is not None else None,
    )  # fmt: skip


def _outbox(store: RowStore, clock: list[float], woken: list[int]) -> Outbox:
    return Outbox(
        store,  # type: ignore[arg-type]
        lambda p: orjson.dumps({"id": p.id, "logs": p.logs}),
        lambda: woken.append(1),
        clock=lambda: clock[0],
    )


def _logs(rows: Sequence[WebhookDelivery]) -> list[str]:
    return [orjson.loads(row.payload)["logs"] for row in rows]


async def test_start_and_completed_rows_follow_the_filter() -> None:
    """They are handed back (to commit with the state), never written by the outbox."""
    store, woken = RowStore(), list[int]()
    outbox = _outbox(store, [0.0], woken)
    assert outbox.rows_for(_prediction(webhook=None), "completed") == []
    assert outbox.rows_for(_prediction(events=["completed"]), "start") == []
    rows = outbox.rows_for(_prediction(events=["completed"]), "completed")
    assert [(r.event, r.url, r.account) for r in rows] == [("completed", "https://x/h", "ann")]
    assert store.rows == [] and woken == []


async def test_output_and_logs_are_throttled_and_carry_the_latest_state() -> None:
    """The first change goes at once; changes within THROTTLE_S make one trailing row with
    the newest state, sent when the throttle allows (here: at close)."""
    store, clock, woken = RowStore(), [100.0], list[int]()
    outbox = _outbox(store, clock, woken)
    outbox.start()
    outbox.on_change(_prediction(logs="a"), "logs")
    await store.written.wait()
    clock[0] += THROTTLE_S / 10
    outbox.on_change(_prediction(logs="ab"), "logs")
    outbox.on_change(_prediction(logs="abc"), "logs")
    await outbox.close()
    assert _logs(store.rows) == ["a", "abc"]
    assert len(woken) == 2


async def test_a_completed_row_supersedes_a_pending_throttled_one() -> None:
    """Once it ended, no older output/logs state is sent after its `completed`."""
    store, clock = RowStore(), [100.0]
    outbox = _outbox(store, clock, [])
    outbox.start()
    outbox.on_change(_prediction(logs="a"), "logs")
    await store.written.wait()
    outbox.on_change(_prediction(logs="ab"), "logs")  # throttled: trailing
    assert [r.event for r in outbox.rows_for(_prediction(logs="ab"), "completed")] == ["completed"]
    await outbox.close()
    assert _logs(store.rows) == ["a"]


async def test_unsubscribed_events_make_no_rows() -> None:
    """A filter without `logs` never makes a logs row."""
    store = RowStore()
    outbox = _outbox(store, [0.0], [])
    outbox.start()
    outbox.on_change(_prediction(logs="a", events=["completed"]), "logs")
    await outbox.close()
    assert store.rows == []
