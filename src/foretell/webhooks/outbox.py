"""Outbox: turns prediction changes into webhook rows, filtered and throttled like Replicate.

`start` and `completed` are never dropped: their rows are handed to whoever writes that
state (the runner, or the API for a prediction it ends itself), which commits them in the same transaction as the state change, so a crash can't lose one.
`output` and `logs` go at most once per THROTTLE_S per prediction, always carrying the
latest state (a trailing send follows a burst); one writer task stores those rows in order.
Rows of one prediction are delivered in the order they were written.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from foretell.core.ids import file_id
from foretell.core.prediction import WEBHOOK_EVENTS, Prediction, utcnow
from foretell.store.protocol import Store, WebhookDelivery

log = logging.getLogger("foretell.webhooks")

THROTTLE_S = 0.5
DEFAULT_EVENTS = WEBHOOK_EVENTS

Render = Callable[[Prediction], bytes]


class Outbox:
    """Receives (prediction, event) from whoever changes it; writes outbox rows to the store."""

    def __init__(
        self,
        store: Store,
        render: Render,
        wake: Callable[[], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.render = render
        self.wake = wake
        self.clock = clock
        self._rows: asyncio.Queue[WebhookDelivery] = asyncio.Queue()
        self._last_sent: dict[str, float] = {}
        self._trailing: dict[str, asyncio.TimerHandle] = {}
        self._latest: dict[str, tuple[Prediction, str]] = {}
        self._writer: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin writing rows."""
        self._writer = asyncio.create_task(self._write_forever())

    async def close(self) -> None:
        """Send the throttled sends that are due, write every queued row, then stop."""
        for pid in list(self._trailing):
            self._cancel_timer(pid)
            self._send_latest(pid)
        await self._rows.join()
        if self._writer is not None:
            self._writer.cancel()

    def rows_for(self, prediction: Prediction, event: str) -> list[WebhookDelivery]:
        """The rows of a `start` or `completed` change, for the caller to commit with it."""
        pid = prediction.id
        self._cancel_trailing(pid)  # this state supersedes a pending throttled send
        rows = [self._row(prediction, event)] if _wants(prediction, event) else []
        if event == "completed":
            self._last_sent.pop(pid, None)
        return rows

    def on_change(self, prediction: Prediction, event: str) -> None:
        """A prediction produced output or logs."""
        if not _wants(prediction, event):
            return
        pid = prediction.id
        self._latest[pid] = (prediction, event)
        if pid in self._trailing:
            return  # a trailing send is already due; it will carry this state
        wait = THROTTLE_S - (self.clock() - self._last_sent.get(pid, -THROTTLE_S))
        if wait <= 0:
            self._send_latest(pid)
        else:
            self._trailing[pid] = asyncio.get_running_loop().call_later(
                wait, self._send_latest, pid
            )

    def _send_latest(self, pid: str) -> None:
        self._trailing.pop(pid, None)
        latest = self._latest.pop(pid, None)
        if latest is not None:
            self._queue(*latest)

    def _cancel_trailing(self, pid: str) -> None:
        self._cancel_timer(pid)
        self._latest.pop(pid, None)

    def _cancel_timer(self, pid: str) -> None:
        timer = self._trailing.pop(pid, None)
        if timer is not None:
            timer.cancel()

    def _queue(self, prediction: Prediction, event: str) -> None:
        self._rows.put_nowait(self._row(prediction, event))

    def _row(self, prediction: Prediction, event: str) -> WebhookDelivery:
        assert prediction.webhook is not None
        now = utcnow()
        self._last_sent[prediction.id] = self.clock()
        return WebhookDelivery(
            id=f"msg_{file_id()}",
            prediction_id=prediction.id,
            account=prediction.account,
            url=prediction.webhook,
            event=event,
            payload=self.render(prediction),
            created_at=now,
            next_attempt_at=now,
        )

    async def _write_forever(self) -> None:
        while True:
            row = await self._rows.get()
            try:
                await self.store.add_delivery(row)
            except Exception:  # keep writing the others; this one is logged
                log.exception("could not write webhook %s of %s", row.id, row.prediction_id)
            else:
                self.wake()
            finally:
                self._rows.task_done()


def _wants(prediction: Prediction, event: str) -> bool:
    """Whether the prediction's webhook subscribed to `event`."""
    if prediction.webhook is None:
        return False
    return event in (prediction.webhook_events_filter or DEFAULT_EVENTS)
