"""The API's side of the seam: predictions over the Store, the WorkQueue and the EventBus
only, so that the handlers are the same whether the runner is in this process or on
another machine.

- create: durable in the store before anyone hears of it, then queued;
- get/list: the store (a runner writes its progress there, throttled);
- wait and stream: the bus (a runner publishes every event there);
- cancel: a queued prediction is taken out of the queue and ended here; a held one gets a
  durable cancel request (the store) and a prompt one (the bus) for the runner holding it.
"""

from __future__ import annotations

import asyncio
import collections
import datetime
import logging
from collections.abc import Callable

from foretell.core.prediction import Prediction, finish
from foretell.core.status import OPEN, Status
from foretell.core.times import utcnow
from foretell.metrics import NO_METRICS, Recorder
from foretell.queue.protocol import WorkItem, WorkQueue
from foretell.store.protocol import Store
from foretell.streaming.bus import CancelRequest, EventBus, EventsDropped, publish_end
from foretell.webhooks.protocol import Webhooks

log = logging.getLogger("foretell.predictions")

#: while waiting for a quiet prediction, ask the store this often whether it ended
RECHECK_S = 1.0
#: a prediction ended in this process is answered from memory for this long after its end
#: (a `Prefer: wait` answer, a poll right after it), far inside any retention period
RECENT_S = 5.0
#: and at most this many of them
RECENT_MAX = 4096


class PredictionService:
    """Create, read, wait for, cancel and stream predictions."""

    def __init__(self, store: Store, queue: WorkQueue, bus: EventBus) -> None:
        self.store = store
        self.queue = queue
        self.bus = bus
        self.webhooks: Webhooks | None = None
        #: created, but the queue refused them: the reconciler puts them in later
        self.unqueued: list[WorkItem] = []
        #: told of each new deadline (the sweeper's schedule)
        self.on_deadline: Callable[[Prediction], None] = lambda _: None
        #: counts what is created and ended here (and the SSE streams of this API)
        self.metrics: Recorder = NO_METRICS
        #: finished predictions as written, by id, oldest first (remember()), and how long
        #: each is answered from there (never longer than data retention keeps its data)
        self._recent: collections.OrderedDict[str, Prediction] = collections.OrderedDict()
        self.recent_s = RECENT_S

    async def create(self, item: WorkItem) -> None:
        """Store the prediction (durable when this returns), then queue it. A queue that
        can't take it now doesn't undo it: it is accepted, and the reconciler (a shared
        queue's) puts it in once the queue answers again."""
        await self.store.create_prediction(item.prediction)
        try:
            # shielded: a client that goes away now must not leave it stored but unqueued
            await asyncio.shield(self.queue.put(item))
        except Exception:
            log.warning("queueing %s failed; it is put in later", item.prediction.id, exc_info=True)
            self.unqueued.append(item)
        self.metrics.created(item.prediction.model)
        if item.prediction.deadline is not None:
            self.on_deadline(item.prediction)

    def take_unqueued(self) -> list[WorkItem]:
        """The items whose `put` failed, handed to the one who retries them."""
        items, self.unqueued = self.unqueued, []
        return items

    async def get(self, account: str, prediction_id: str) -> Prediction | None:
        """The account's prediction as stored (a running one's progress lags ≤ 0.25 s)."""
        recent = self._recent.get(prediction_id)
        if recent is not None and recent.account == account and self._fresh(recent):
            return recent  # what the store holds: a finished prediction never changes
        return await self.store.get_prediction(account, prediction_id)

    def remember(self, final: Prediction) -> None:
        """A prediction ended in this process, its end written: get() answers it without a
        read for `recent_s` (a finished one changes only when retention removes its data)."""
        recent = self._recent
        recent[final.id] = final
        recent.move_to_end(final.id)
        while len(recent) > RECENT_MAX or not self._fresh(next(iter(recent.values()))):
            recent.popitem(last=False)
            if not recent:
                break

    async def wait(self, account: str, prediction_id: str, timeout: float) -> None:
        """Wait up to `timeout` seconds for the prediction's `done` event (or, should the
        bus have let go of a finished prediction's events, for the store to say it ended)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        position = 0
        while (remaining := deadline - loop.time()) > 0:
            try:
                events = await self.bus.read(prediction_id, position, min(remaining, RECHECK_S))
            except EventsDropped as dropped:
                position = dropped.first
                continue
            if events and events[-1].name == "done":
                return
            if events:
                position = events[-1].seq + 1
                continue
            stored = await self.store.get_prediction(account, prediction_id)
            if stored is None or stored.status.is_terminal:
                return

    async def cancel(
        self, prediction: Prediction, reason: str | None = None, queued_reason: str | None = None
    ) -> None:
        """End `prediction` as `canceled` (with `reason` as its error, if given; with
        `queued_reason` instead if it never left the queue), wherever it is: queued, it
        never runs; held by a runner, that runner stops it."""
        if prediction.status.is_terminal:
            return
        if await self.queue.remove(prediction.id):
            await self.end_unrun(prediction, Status.CANCELED, queued_reason or reason)
            return
        state = await self.store.request_cancel(prediction.id, reason)
        if state is None or state.prediction.status.is_terminal:
            return
        if state.held:
            await self.bus.request_cancel(CancelRequest(prediction.id, reason))
        else:  # claimed by nobody (its runner died, or it's between queue and claim)
            await self.end_unrun(state.prediction, Status.CANCELED, reason)

    async def end_unrun(
        self, prediction: Prediction, status: Status, error: str | None = None
    ) -> bool:
        """End a prediction no runner holds: written by compare-and-set with its webhook
        rows, then published. False if it had ended already."""
        final = finish(prediction, status, utcnow(), error=error)
        rows = self.webhooks.rows_for(final, "completed") if self.webhooks else []
        if not await self.store.transition(final, OPEN, rows):
            return False
        if rows and self.webhooks is not None:
            self.webhooks.wake()
        self.metrics.ended(final)
        self.remember(final)
        await publish_end(self.bus, final)
        return True

    def _fresh(self, prediction: Prediction) -> bool:
        ended = prediction.completed_at
        return ended is not None and utcnow() - ended < datetime.timedelta(seconds=self.recent_s)
