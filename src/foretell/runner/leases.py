"""The leases a runner holds: renewed together by one heartbeat, in the queue and the store.

One task for all of them (not one timer per prediction): every third of the lease, each
queue lease is extended and the store's leases move forward in one write. The store, not
the queue, says who runs a prediction: a queue that lost a lease (its Redis restarted, or
the item was delivered again) only stops that lease's extension, since another runner's
claim of the copy is answered HELD while the store's lease here lives; a prediction the
store no longer gives this runner (it ended, or went to another) is told to stop.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Callable

from foretell.core.times import utcnow
from foretell.queue.protocol import Lease, LeaseLost, WorkQueue
from foretell.store.protocol import Store

log = logging.getLogger("foretell.consumer")


class Leases:
    """Leases by prediction id; `heartbeat()` renews every one of them."""

    def __init__(
        self,
        queue: WorkQueue,
        store: Store,
        owner: str,
        lease_s: float,
        lost: Callable[[str], None],
        clock: Callable[[], datetime.datetime] = utcnow,
    ) -> None:
        self.queue = queue
        self.store = store
        self.owner = owner
        self.lease_s = lease_s
        self.lost = lost
        self.clock = clock
        self._held: dict[str, Lease] = {}
        #: held in the store only: the queue lost their leases
        self._store_only: set[str] = set()

    def hold(self, lease: Lease) -> None:
        """Keep renewing `lease` until it is released."""
        self._held[lease.item.prediction.id] = lease

    def release(self, prediction_id: str) -> Lease | None:
        """Stop renewing; the latest lease (to ack with), if the queue still holds it."""
        self._store_only.discard(prediction_id)
        return self._held.pop(prediction_id, None)

    def until(self) -> datetime.datetime:
        """When a lease taken or renewed now runs out, on the store's (wall) clock."""
        return self.clock() + datetime.timedelta(seconds=self.lease_s)

    async def heartbeat(self) -> None:
        """Renew every held lease once."""
        for prediction_id, lease in list(self._held.items()):
            try:
                renewed = await self.queue.extend(lease, self.lease_s)
            except LeaseLost:
                if self._held.pop(prediction_id, None) is not None:
                    self._store_only.add(prediction_id)
                continue
            if prediction_id in self._held:  # not released while extending
                self._held[prediction_id] = renewed
        ids = [*self._held, *self._store_only]
        if ids:
            kept = await self.store.renew_leases(self.owner, ids, self.until())
            for prediction_id in ids:
                if prediction_id not in kept and self._forget(prediction_id):
                    self.lost(prediction_id)

    def _forget(self, prediction_id: str) -> bool:
        """Stop renewing a lease the store gave to another; whether it was still held."""
        held = self._held.pop(prediction_id, None) is not None
        if prediction_id in self._store_only:
            self._store_only.discard(prediction_id)
            held = True
        return held

    async def heartbeat_forever(self) -> None:
        """`heartbeat()` every third of the lease until cancelled."""
        while True:
            await asyncio.sleep(self.lease_s / 3)
            try:
                await self.heartbeat()
            except Exception:  # the store or queue is down: try again next beat
                log.exception("renewing leases failed")
