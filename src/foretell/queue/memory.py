"""The embedded shape's queue: per-model lanes (priority, then fair share between accounts,
then arrival: foretell.queue.lanes) and leases inside the server process."""

from __future__ import annotations

import collections
import heapq
import itertools
import time
import uuid
from collections.abc import Callable, Collection
from dataclasses import replace

from foretell.queue.lanes import ModelLanes
from foretell.queue.protocol import RESERVE_S, Lease, LeaseLost, WorkItem
from foretell.wakeups import Wakeups


class MemoryQueue:
    """Unbounded queue per model; durability comes from the store, which recovery re-reads on
    start. Leases expire on the injected clock (monotonic by default)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._waiting: dict[str, ModelLanes] = collections.defaultdict(ModelLanes)
        #: prediction id -> the lease that holds it now
        self._held: dict[str, Lease] = {}
        #: (expires_at, token, prediction id): the earliest expiry first, stale rows skipped
        self._expiries: list[tuple[float, str, str]] = []
        self._attempts: dict[str, int] = {}
        self._tokens = itertools.count(1)
        #: this queue lives as long as its process: recovery (foretell.server) re-reads the store
        self._epoch = uuid.uuid4().hex
        #: claims waiting for work (no await between a claim's look and its wait, so a put
        #: can't come between them unseen)
        self._arrived = Wakeups()
        #: model -> prediction id -> when its place (reserve) lapses
        self._reserved: dict[str, dict[str, float]] = collections.defaultdict(dict)

    async def put(self, item: WorkItem) -> None:
        self._reserved[item.runner_model].pop(item.prediction.id, None)
        self._waiting[item.runner_model].push(item)
        self._arrived.wake_all()

    async def reserve(self, prediction_id: str, model: str, cap: int) -> bool:
        # no await between the count and the hold: atomic on the event loop
        now, held = self.clock(), self._reserved[model]
        for pid in [pid for pid, until in held.items() if until <= now]:
            del held[pid]
        waiting = self._waiting.get(model)
        if (len(waiting) if waiting is not None else 0) + len(held) >= cap:
            return False
        held[prediction_id] = now + RESERVE_S
        return True

    async def claim(
        self, models: Collection[str], lease_s: float, wait_s: float = 0.0
    ) -> Lease | None:
        deadline = self.clock() + wait_s
        while True:
            lease = self._claim_now(models, lease_s)
            if lease is not None or self.clock() >= deadline:
                return lease
            await self._arrived.wait(self._next_wake(deadline))

    def _next_wake(self, deadline: float) -> float:
        """Seconds until the claim must look again: its deadline or the next expiry."""
        soonest = deadline
        if self._expiries:
            soonest = min(soonest, self._expiries[0][0])
        return max(0.0, soonest - self.clock())

    def _claim_now(self, models: Collection[str], lease_s: float) -> Lease | None:
        expired = self._expired(models)
        if expired is not None:
            return self._lease(expired, lease_s)
        # the highest level any of the models has waiting; the first such model in order
        best: tuple[int, int, str] | None = None
        for order, model in enumerate(models):
            waiting = self._waiting.get(model)
            level = waiting.top_level() if waiting is not None else None
            if level is not None and (best is None or (level, order) < best[:2]):
                best = (level, order, model)
        if best is None:
            return None
        item = self._waiting[best[2]].pop()
        assert item is not None
        return self._lease(item, lease_s)

    def _expired(self, models: Collection[str]) -> WorkItem | None:
        """An item of `models` whose lease has run out (stale heap rows are dropped)."""
        now = self.clock()
        kept: list[tuple[float, str, str]] = []
        found = None
        while self._expiries and self._expiries[0][0] <= now:
            row = heapq.heappop(self._expiries)
            held = self._held.get(row[2])
            if held is None or held.token != row[1] or held.expires_at > now:
                continue  # acked, released or extended since (an extension has its own row)
            if found is None and held.item.runner_model in models:
                found = held.item
                del self._held[row[2]]
            else:
                kept.append(row)
        for row in kept:
            heapq.heappush(self._expiries, row)
        return found

    def _lease(self, item: WorkItem, lease_s: float) -> Lease:
        pid = item.prediction.id
        self._attempts[pid] = self._attempts.get(pid, 0) + 1
        lease = Lease(item, str(next(self._tokens)), self.clock() + lease_s, self._attempts[pid])
        self._hold(lease)
        return lease

    def _hold(self, lease: Lease) -> None:
        self._held[lease.item.prediction.id] = lease
        heapq.heappush(self._expiries, (lease.expires_at, lease.token, lease.item.prediction.id))

    def _holding(self, lease: Lease) -> bool:
        held = self._held.get(lease.item.prediction.id)
        return held is not None and held.token == lease.token and held.expires_at > self.clock()

    def _forget_expiries(self) -> None:
        """With nothing held, every expiry row is stale: drop them, so a waiting claim
        doesn't wake for each (a claim acked at once leaves one behind)."""
        if not self._held:
            self._expiries.clear()

    async def extend(self, lease: Lease, lease_s: float) -> Lease:
        if not self._holding(lease):
            raise LeaseLost(lease.item.prediction.id)
        extended = replace(lease, expires_at=self.clock() + lease_s)
        self._hold(extended)
        return extended

    async def ack(self, lease: Lease) -> None:
        if not self._holding(lease):
            raise LeaseLost(lease.item.prediction.id)
        pid = lease.item.prediction.id
        del self._held[pid]
        self._attempts.pop(pid, None)
        self._forget_expiries()

    async def release(self, lease: Lease) -> None:
        if not self._holding(lease):
            return
        del self._held[lease.item.prediction.id]
        self._forget_expiries()
        self._waiting[lease.item.runner_model].give_back(lease.item)
        self._arrived.wake_all()

    async def remove(self, prediction_id: str) -> bool:
        for waiting in self._waiting.values():
            if waiting.remove(prediction_id):
                self._attempts.pop(prediction_id, None)
                return True
        return False

    async def depth(self, model: str) -> int:
        waiting = self._waiting.get(model)
        return len(waiting) if waiting is not None else 0

    async def position(self, prediction_id: str) -> int | None:
        # O(waiting items of the models): a GET of a queued prediction, not a hot path
        for waiting in self._waiting.values():
            found = waiting.position(prediction_id)
            if found is not None:
                return found
        return None

    async def epoch(self) -> str:
        return self._epoch
