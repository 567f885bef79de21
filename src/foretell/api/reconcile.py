"""Keeps a shared queue (Redis) in step with the store, the state of record.

The queue may lose what it held (Redis restarted with nothing on disk) or be unreachable
when a prediction is created. Either way the prediction is already durable in the store, so
nothing accepted is lost: each API node watches the queue's epoch and, when it changes (and
once at start), puts back every prediction the store says is still `starting`. Putting one
back twice is harmless: the store's claim lets only one runner run it (the other's claim
says FINISHED or HELD, and it drops the copy).
"""

from __future__ import annotations

import asyncio
import logging

from foretell.api.service import PredictionService
from foretell.core.prediction import Prediction
from foretell.core.status import Status
from foretell.queue.protocol import WorkItem

log = logging.getLogger("foretell.reconcile")

#: how often the queue's epoch is read (one small read per node)
CHECK_S = 2.0


class Reconciler:
    """Puts `starting` predictions back into a queue that lost them."""

    def __init__(self, service: PredictionService, base_url: str, check_s: float = CHECK_S) -> None:
        self.service = service
        self.base_url = base_url
        self.check_s = check_s
        self._seen: str | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def check(self) -> int:
        """Reconcile if the queue's epoch changed since the last look; how many were put
        back."""
        epoch = await self.service.queue.epoch()
        if epoch == self._seen and not self.service.unqueued:
            return 0
        if epoch == self._seen:  # the queue kept its contents: only retry failed puts
            return await self._put_back([item.prediction for item in self.service.take_unqueued()])
        self.service.take_unqueued()  # all of them are among the store's `starting` ones
        waiting = [
            p for p in await self.service.store.unfinished_predictions()
            if p.status is Status.STARTING
        ]  # fmt: skip
        count = await self._put_back(waiting)
        self._seen = epoch
        if count:
            log.warning("the queue lost its work (epoch %s): put back %d predictions", epoch, count)
        return count

    async def _put_back(self, predictions: list[Prediction]) -> int:
        for prediction in predictions:
            item = WorkItem(prediction, prediction.model, admitted=False, base_url=self.base_url)
            await self.service.queue.put(item)
        return len(predictions)

    async def _run(self) -> None:
        failing: str | None = None
        while True:
            try:
                await self.check()
            except Exception as exc:  # the queue or the store is down: look again soon
                said = f"{type(exc).__name__}: {exc}"
                if said != failing:  # once per outage, not every few seconds
                    log.warning("the queue or the store can't be reached (%s); retrying", said)
                failing = said
            else:
                if failing is not None:
                    log.warning("the queue and the store answer again")
                failing = None
            await asyncio.sleep(self.check_s)
