"""The embedded shape's EventBus: each prediction's events in the StreamHub's logs, and
cancel requests fanned out to this process's subscribers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from foretell.streaming.bus import CancelRequest, EventsDropped, StreamEvent
from foretell.streaming.hub import StreamHub, StreamLog


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
        log = self.hub.get(prediction_id)
        if log is None:
            if position > 0:  # it had events, and they were let go of
                raise EventsDropped(prediction_id, 0)
            log = self.hub.open(prediction_id)  # nothing published yet: wait for the first
        events = _since(log, prediction_id, position)
        if events:
            return events
        if not await log.wait(wait_s):
            return []
        return _since(log, prediction_id, position)  # the log held, even if evicted meanwhile

    async def has_events(self, prediction_id: str) -> bool:
        log = self.hub.get(prediction_id)
        return log is not None and log.next_seq > 0

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


def _since(log: StreamLog, prediction_id: str, position: int) -> list[StreamEvent]:
    try:
        return log.since(position)
    except LookupError:
        raise EventsDropped(prediction_id, log.first_seq) from None
