"""Retention: what a finished prediction leaves behind is removed after a while (Replicate's
`data_removed`), and uploads go when their `expires_at` passes."""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Callable

from foretell.core.prediction import utcnow
from foretell.files.protocol import FileStore, outputs_prefix
from foretell.store.protocol import Store

log = logging.getLogger("foretell.retention")

#: rows handled per store call, so one sweep never holds the store for long
BATCH = 200


class Retention:
    """Clears the input, output, logs and output files of predictions finished more than
    `retention_s` ago, and deletes expired uploads; `retention_s` 0 keeps everything."""

    def __init__(
        self,
        store: Store,
        files: FileStore,
        retention_s: float,
        clock: Callable[[], datetime.datetime] = utcnow,
    ) -> None:
        self.store = store
        self.files = files
        self.retention_s = retention_s
        self.clock = clock
        self._task: asyncio.Task[None] | None = None

    @property
    def interval_s(self) -> float:
        """How often to sweep: often enough that data outlives its time by at most ~10 %."""
        return min(60.0, max(1.0, self.retention_s / 10))

    def start(self) -> None:
        """Sweep now and then every `interval_s`, until closed."""
        if self.retention_s > 0:
            self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def sweep(self) -> tuple[int, int]:
        """One pass: (predictions cleared, uploads deleted)."""
        now = self.clock()
        cutoff = now - datetime.timedelta(seconds=self.retention_s)
        cleared = deleted = 0
        while True:
            ids = await self.store.remove_prediction_data(cutoff, BATCH)
            for prediction_id in ids:
                await self.files.delete_prefix(outputs_prefix(prediction_id))
            cleared += len(ids)
            if len(ids) < BATCH:
                break
        while True:
            expired = await self.store.expired_files(now, BATCH)
            for record in expired:
                await self.files.delete(record.key)
                await self.store.delete_file(record.account, record.id)
            deleted += len(expired)
            if len(expired) < BATCH:
                break
        return cleared, deleted

    async def _run(self) -> None:
        while True:
            try:
                cleared, deleted = await self.sweep()
                if cleared or deleted:
                    log.info(
                        "retention: cleared %d predictions, deleted %d uploads", cleared, deleted
                    )
            except Exception:  # a store hiccup must not stop retention for good
                log.exception("retention sweep failed; trying again later")
            await asyncio.sleep(self.interval_s)
