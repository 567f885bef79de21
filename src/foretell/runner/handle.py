"""PredictionHandle: the events of one prediction, as an async iterator that ends with Done."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from foretell.core.events import Done, Log, Message, Metric, Output, Started

Event = Started | Log | Output | Metric | Done


class PredictionHandle:
    """Receives a prediction's events in order; iterate it, or await `done()`."""

    def __init__(self, prediction_id: str) -> None:
        self.id = prediction_id
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._done: asyncio.Future[Done] = asyncio.get_running_loop().create_future()

    @property
    def finished(self) -> bool:
        """Whether Done has been delivered."""
        return self._done.done()

    def deliver(self, event: Message) -> None:
        """Called by the runner for each event; events after Done are dropped."""
        if self._done.done() or not isinstance(event, Started | Log | Output | Metric | Done):
            return
        self._events.put_nowait(event)
        if isinstance(event, Done):
            self._done.set_result(event)

    async def done(self) -> Done:
        """Wait for the prediction to end."""
        return await asyncio.shield(self._done)

    async def batches(self) -> AsyncIterator[list[Event]]:
        """Events in batches of whatever has arrived: one wake-up per burst, not per token."""
        while True:
            batch = [await self._events.get()]
            while not self._events.empty():
                batch.append(self._events.get_nowait())
            yield batch
            if isinstance(batch[-1], Done):
                return

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            event = await self._events.get()
            yield event
            if isinstance(event, Done):
                return
