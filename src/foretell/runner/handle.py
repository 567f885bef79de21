"""PredictionHandle: the events of one prediction, as an async iterator that ends with Done."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator, Callable

from foretell.core.events import Done, Log, Message, Metric, Output, Started

Event = Started | Log | Output | Metric | Done
_EVENTS = (Started, Log, Output, Metric, Done)


class PredictionHandle:
    """Receives a prediction's events in order; iterate it, or await `done()`.

    One reader at a time may iterate (`async for` or `batches()`); any number may await
    `done()`. Events are kept in a plain deque with one waiter future, which costs less
    per event than an asyncio.Queue: a stream delivers hundreds of thousands.
    """

    def __init__(self, prediction_id: str) -> None:
        self.id = prediction_id
        self._loop = asyncio.get_running_loop()
        self._events: collections.deque[Event] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None
        self._final: Done | None = None
        self._final_future: asyncio.Future[Done] | None = None
        self._on_done: list[Callable[[], None]] = []

    @property
    def finished(self) -> bool:
        """Whether Done has been delivered."""
        return self._final is not None

    def deliver(self, event: Message) -> None:
        """Called by the runner for each event; events after Done are dropped."""
        if self._final is not None or not isinstance(event, _EVENTS):
            return
        self._events.append(event)
        if isinstance(event, Done):
            self._final = event
            if self._final_future is not None:
                self._final_future.set_result(event)
            for callback in self._on_done:
                callback()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def on_done(self, callback: Callable[[], None]) -> None:
        """Call `callback` (synchronously) when Done arrives."""
        self._on_done.append(callback)

    async def done(self) -> Done:
        """Wait for the prediction to end."""
        if self._final is not None:
            return self._final
        if self._final_future is None:
            self._final_future = self._loop.create_future()
        # shielded: one waiter giving up must not cancel the others' future
        return await asyncio.shield(self._final_future)

    async def batches(self) -> AsyncIterator[list[Event]]:
        """Events in batches of whatever has arrived: one wake-up per burst, not per token."""
        while True:
            await self._arrived()
            batch = list(self._events)
            self._events.clear()
            yield batch
            if isinstance(batch[-1], Done):
                return

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        events = self._events
        while True:
            if not events:
                await self._arrived()
            event = events.popleft()
            yield event
            if isinstance(event, Done):
                return

    async def _arrived(self) -> None:
        while not self._events:
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
