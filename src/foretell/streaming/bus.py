"""The EventBus protocol, and its embedded engine over the StreamHub.

What crosses it: each prediction's events (output, logs, error, done) with their sequence
numbers, for SSE readers, `Prefer: wait` waiters and webhooks on any API node; and cancel
requests, for whichever runner holds the prediction.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from foretell.streaming.hub import StreamEvent, StreamHub


@dataclass(frozen=True)
class CancelRequest:
    """Someone asked for a prediction to stop; `reason` becomes its error, if given."""

    prediction_id: str
    reason: str | None = None


class EventsDropped(LookupError):
    """The reader asked for events the bus no longer keeps; it can resume from `first`."""

    def __init__(self, prediction_id: str, first: int) -> None:
        super().__init__(f"{prediction_id}: events before {first} were dropped")
        self.first = first


class EventBus(Protocol):
    """Per-prediction event logs with replay from any kept position; cancel requests."""

    async def publish(
        self,
        prediction_id: str,
        name: str,
        data: Any,
        files: tuple[tuple[str | int, ...], ...] = (),
    ) -> int:
        """Append an event; returns its sequence number (0, 1, 2… per prediction).
        `done` is the last event of a prediction."""

    async def read(self, prediction_id: str, position: int, wait_s: float) -> list[StreamEvent]:
        """Events with seq >= `position`, oldest first; if there are none yet, waits up to
        `wait_s` for the next ones (then [] — a keep-alive moment). EventsDropped if some of
        them are no longer kept. Never blocks the publisher."""

    async def request_cancel(self, request: CancelRequest) -> None:
        """Ask whoever runs (or will run) the prediction to cancel it."""

    def cancels(self) -> CancelSubscription:
        """Cancel requests made from now on (from this call, not from the first read), as
        they come; close the subscription when done."""


class CancelSubscription(Protocol):
    """Cancel requests as an async iterator."""

    def __aiter__(self) -> AsyncIterator[CancelRequest]: ...

    def close(self) -> None:
        """Stop receiving."""


class MemoryBus:
    """The embedded shape's bus: the StreamHub's logs, and cancel requests fanned out to
    this process's subscribers."""

    def __init__(self, hub: StreamHub | None = None) -> None:
        self.hub = hub if hub is not None else StreamHub()
        self._subscribers: set[asyncio.Queue[CancelRequest]] = set()

    async def publish(
        self,
        prediction_id: str,
        name: str,
        data: Any,
        files: tuple[tuple[str | int, ...], ...] = (),
    ) -> int:
        log = self.hub.open(prediction_id)
        seq = log.next_seq
        self.hub.publish(prediction_id, name, data, files)
        return seq

    async def read(self, prediction_id: str, position: int, wait_s: float) -> list[StreamEvent]:
        log = self.hub.open(prediction_id)
        waiter = log.changed
        events = self._since(prediction_id, position)
        if events:
            return events
        try:
            async with asyncio.timeout(wait_s):
                await waiter.wait()
        except TimeoutError:
            return []
        return self._since(prediction_id, position)

    def _since(self, prediction_id: str, position: int) -> list[StreamEvent]:
        log = self.hub.open(prediction_id)
        try:
            return log.since(position)
        except LookupError:
            raise EventsDropped(prediction_id, log.first_seq) from None

    async def request_cancel(self, request: CancelRequest) -> None:
        for subscriber in self._subscribers:
            subscriber.put_nowait(request)

    def cancels(self) -> _Subscription:
        return _Subscription(self._subscribers)


class _Subscription:
    """Registered when made, so no request between subscribing and reading is missed."""

    def __init__(self, subscribers: set[asyncio.Queue[CancelRequest]]) -> None:
        self._subscribers = subscribers
        self._queue: asyncio.Queue[CancelRequest] = asyncio.Queue()
        subscribers.add(self._queue)

    async def __aiter__(self) -> AsyncIterator[CancelRequest]:
        while True:
            yield await self._queue.get()

    def close(self) -> None:
        self._subscribers.discard(self._queue)
