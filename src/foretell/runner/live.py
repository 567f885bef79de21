"""The live copy of every prediction the runner runs, and its throttled writes to the
store: output and logs in memory (written every PERSIST_INTERVAL_S), state changes at once.

A prediction's writes never overlap: with a pool of connections (PostgreSQL) a flush of an
older copy could otherwise commit after the end and lose its compare-and-set, which would
read as "another writer ended it". Under its lock, a flush that finds a newer copy already
written skips its own."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from foretell.core.prediction import Prediction
from foretell.core.status import OPEN
from foretell.store.protocol import Store, WebhookDelivery

log = logging.getLogger("foretell.consumer")

#: While a prediction runs, its stored copy lags the live one by at most this long.
PERSIST_INTERVAL_S = 0.25


class LiveCopies:
    """Predictions by id, fresher than the store's; a write that fails is retried by the
    flusher (with the webhook rows that must commit with it) until it succeeds."""

    def __init__(
        self,
        store: Store,
        committed: Callable[[], None],
        lost: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.store = store
        #: called after webhook rows were committed
        self.committed = committed
        #: called with a prediction that another writer ended: this copy is stale
        self.lost = lost
        self.by_id: dict[str, Prediction] = {}
        self._dirty: set[str] = set()
        #: webhook rows whose state change could not be saved yet (committed with it later)
        self._unsaved_rows: dict[str, list[WebhookDelivery]] = {}
        #: one lock per prediction being written, and how many writers use it
        self._locks: dict[str, tuple[asyncio.Lock, list[int]]] = {}

    def update(self, prediction: Prediction) -> None:
        """A newer live copy, written by the next flush."""
        self.by_id[prediction.id] = prediction
        self._dirty.add(prediction.id)

    def forget(self, prediction_id: str) -> None:
        """Drop a copy that is not this runner's to write any more (its lease went elsewhere,
        or it was never ours): nothing of it is written from here on."""
        self.by_id.pop(prediction_id, None)
        self._dirty.discard(prediction_id)
        self._unsaved_rows.pop(prediction_id, None)

    def saved(self, prediction_id: str) -> bool:
        """Whether the live copy has reached the store."""
        return prediction_id not in self._dirty

    async def save(self, prediction: Prediction, rows: list[WebhookDelivery]) -> None:
        """Write now (a state change), with its webhook rows; on failure the flusher retries."""
        self.update(prediction)
        try:
            await self._write(prediction, rows)
        except Exception:  # the flusher keeps trying; the live copy stays authoritative
            log.exception("saving prediction %s failed; retrying", prediction.id)
            if rows:
                self._unsaved_rows.setdefault(prediction.id, []).extend(rows)
            return
        self._dirty.discard(prediction.id)
        if rows:
            self.committed()

    async def _write(
        self, prediction: Prediction, rows: list[WebhookDelivery], *, stale_ok: bool = False
    ) -> None:
        """Persist over an unfinished state only (compare-and-set), so a prediction that
        another writer already ended keeps that end, and this copy learns it is stale.
        With `stale_ok` (a flush), a copy that a newer one replaced meanwhile isn't written."""
        pid = prediction.id
        lock, users = self._locks.setdefault(pid, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                if stale_ok and not rows and self.by_id.get(pid) is not prediction:
                    return  # a newer copy (the end, say) was written, or will be
                written = await self.store.transition(prediction, OPEN, rows)
        finally:
            users[0] -= 1
            if not users[0]:
                del self._locks[pid]
        if not written:
            log.warning("%s had already ended elsewhere; this write is dropped", pid)
            self.by_id.pop(pid, None)
            self.lost(pid)

    async def flush(self) -> None:
        """Write every changed live copy; finished ones are dropped once written."""
        dirty, self._dirty = self._dirty, set()
        for prediction_id in dirty:
            prediction = self.by_id.get(prediction_id)
            if prediction is None:
                continue
            rows = self._unsaved_rows.pop(prediction_id, [])
            try:
                await self._write(prediction, rows, stale_ok=True)
            except Exception:
                self._dirty.add(prediction_id)
                if rows:
                    self._unsaved_rows[prediction_id] = rows
                raise
            if rows:
                self.committed()
            if prediction.status.is_terminal:
                self.by_id.pop(prediction_id, None)

    async def flush_forever(self) -> None:
        """Flush every PERSIST_INTERVAL_S until cancelled."""
        while True:
            await asyncio.sleep(PERSIST_INTERVAL_S)
            try:
                await self.flush()
            except Exception:  # the live copies stay authoritative; try again next tick
                log.exception("persisting running predictions failed")
