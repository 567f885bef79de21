"""Deadlines and dead runners, swept by one task per API node (not a timer per prediction).

- Cancel-After / `lifetime`: the deadlines of predictions made here are kept in a heap and
  slept on; the store is also scanned every SCAN_S, so deadlines of predictions made on
  another node (or before a restart) are met too. A due prediction is canceled wherever it
  is (PredictionService.cancel).
- A queue time-to-live (--queue-ttl, X-Foretell-Queue-TTL): a prediction with one is stored
  with the sooner of its TTL's end and its Cancel-After as its `deadline` (the store's
  index), so the same heap and scans meet it: due and still `starting`, it is canceled with
  QUEUE_TTL_ERROR; running by then, it is left alone until its Cancel-After, if any.
- A prediction `processing` on a runner whose lease expired (it died, or lost touch) is
  failed: nobody will finish it.
"""

from __future__ import annotations

import asyncio
import datetime
import heapq
import logging
from collections.abc import Callable

from foretell.api.service import PredictionService
from foretell.core.prediction import Prediction, cancel_deadline, queue_expiry
from foretell.core.status import EXPIRED_ERROR, EXPIRED_QUEUED_ERROR, ORPHANED_ERROR, Status
from foretell.core.times import utcnow

log = logging.getLogger("foretell.sweeper")

#: how often the store is scanned for deadlines and expired leases
SCAN_S = 5.0
_BATCH = 100
#: the most due rows one scan reads: past _BATCH only while the rows are predictions that
#: left the queue before their TTL ran out (due by the index, not yet by Cancel-After)
_MAX_BATCH = 10_000


def queue_ttl_error(ttl_s: float) -> str:
    """The error of a prediction canceled for waiting in the queue past its TTL."""
    return (
        "Prediction canceled: it waited in the queue longer than its queue time-to-live "
        f"({ttl_s:g} s)."
    )


class Sweeper:
    """Meets deadlines and fails the predictions of dead runners."""

    def __init__(
        self,
        service: PredictionService,
        clock: Callable[[], datetime.datetime] = utcnow,
        scan_s: float = SCAN_S,
    ) -> None:
        self.service = service
        self.clock = clock
        self.scan_s = scan_s
        #: (deadline, prediction id, account) of the deadlines due before the next scan only,
        #: so it stays small however many predictions have far-off deadlines
        self._heap: list[tuple[datetime.datetime, str, str]] = []
        self._scheduled: set[str] = set()
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def schedule(self, prediction: Prediction, when: datetime.datetime | None = None) -> None:
        """Meet this prediction's deadline (it has one; `when`, if given, instead): to the
        minute if it falls before the next scan of the store, else that scan finds it in
        time."""
        deadline = when or prediction.deadline
        assert deadline is not None
        horizon = self.clock() + datetime.timedelta(seconds=self.scan_s)
        if deadline <= horizon and prediction.id not in self._scheduled:
            self._scheduled.add(prediction.id)
            heapq.heappush(self._heap, (deadline, prediction.id, prediction.account))
            self._changed.set()

    def held(self) -> list[str]:
        """The predictions whose deadlines are held in memory, soonest first."""
        return [entry[1] for entry in sorted(self._heap)]

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def sweep(self) -> None:
        """Once: cancel what is past its deadline, fail what a dead runner held."""
        await self._due_from_heap()
        now = self.clock()
        horizon = now + datetime.timedelta(seconds=self.scan_s)
        limit = _BATCH
        while True:
            due = await self.service.store.due_deadlines(horizon, limit)
            met = 0
            for prediction in due:
                assert prediction.deadline is not None
                if prediction.deadline <= now:
                    met += await self._meet(prediction, now)
                else:
                    self.schedule(prediction)
            if len(due) < limit or met or limit >= _MAX_BATCH:
                break
            limit *= 10  # a page of runs past their TTL only: read past them
        for prediction in await self.service.store.expired_leases(now, _BATCH):
            await self.service.end_unrun(prediction, Status.FAILED, ORPHANED_ERROR)

    async def _run(self) -> None:
        last_scan = -self.scan_s
        loop = asyncio.get_running_loop()
        while True:
            try:
                if loop.time() - last_scan >= self.scan_s:
                    await self.sweep()
                    last_scan = loop.time()
                else:
                    await self._due_from_heap()
            except Exception:  # the store is down: try again on the next round
                log.exception("sweeping deadlines failed")
            await self._sleep(min(self.scan_s - (loop.time() - last_scan), self._next_due()))

    async def _due_from_heap(self) -> None:
        now = self.clock()
        while self._heap and self._heap[0][0] <= now:
            _, prediction_id, account = heapq.heappop(self._heap)
            self._scheduled.discard(prediction_id)
            prediction = await self.service.get(account, prediction_id)
            if prediction is not None:
                await self._meet(prediction, now)

    async def _meet(self, prediction: Prediction, now: datetime.datetime) -> bool:
        """Cancel a prediction whose stored deadline has come, if it is really due: still
        queued past its TTL, or past its Cancel-After. False if it isn't (it left the queue
        in time; its Cancel-After, if any, is scheduled)."""
        if prediction.status.is_terminal:
            return True
        expiry = queue_expiry(prediction)
        if prediction.status is Status.STARTING and expiry is not None and expiry <= now:
            assert prediction.queue_ttl_s is not None
            reason = queue_ttl_error(prediction.queue_ttl_s)
            await self.service.cancel(prediction, reason, reason)
            return True
        deadline = cancel_deadline(prediction)
        if deadline is not None and deadline <= now:
            await self.service.cancel(prediction, EXPIRED_ERROR, EXPIRED_QUEUED_ERROR)
            return True
        if deadline is not None:
            self.schedule(prediction, deadline)
        return False

    def _next_due(self) -> float:
        if not self._heap:
            return self.scan_s
        return max(0.0, (self._heap[0][0] - self.clock()).total_seconds())

    async def _sleep(self, seconds: float) -> None:
        self._changed.clear()
        try:
            async with asyncio.timeout(max(0.0, seconds)):
                await self._changed.wait()
        except TimeoutError:
            pass
