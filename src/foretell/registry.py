"""Publishing a runner's models into the store's model registry, where the API reads them.

A record is written when its model's state changes (a phase of its bring-up, its worker
turning ready, busy or defunct), at most once a second for build progress alone, and every
`heartbeat_s` even when nothing changed: a record nobody republishes is a runner gone, and the
API stops listing it (foretell.api.catalog).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
import time
from collections.abc import Callable, Collection

from foretell.core.models import Model, ModelRecord, SetupStatus
from foretell.core.times import utcnow
from foretell.errors import StoreError
from foretell.store.protocol import Store

log = logging.getLogger("foretell.registry")

#: a model's current state on this runner: its Model and how far its setup has come
Current = Callable[[str], tuple[Model, SetupStatus]]


class RegistryPublisher:
    """Writes this runner node's model records, skipping writes that would change nothing."""

    def __init__(
        self,
        store: Store,
        node: str,
        current: Current,
        *,
        on_publish: Callable[[], None] | None = None,
        accelerators: tuple[str, ...] = (),
        progress_every_s: float = 1.0,
        heartbeat_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime.datetime] = utcnow,
    ) -> None:
        self.store = store
        self.node = node
        self.current = current
        #: called after each write (the embedded shape's catalog refreshes at once)
        self.on_publish = on_publish
        self.accelerators = accelerators
        self.progress_every_s = progress_every_s
        self.heartbeat_s = heartbeat_s
        self.clock = clock
        self.now = now
        #: what was last written per model, and when (self.clock)
        self._written: dict[str, tuple[ModelRecord, float]] = {}
        #: one write at a time, so a model's records reach the store in the order made
        self._lock = asyncio.Lock()

    async def publish(self, name: str) -> None:
        """Write the model's record now."""
        async with self._lock:
            await self._write(*self.current(name))

    async def publish_changes(self, names: Collection[str]) -> None:
        """Write the records of those models whose state changed (or is due a heartbeat)."""
        async with self._lock:
            for name in names:
                model, setup = self.current(name)
                if self._due(name, model, setup):
                    await self._write(model, setup)

    async def forget_others(self, keep: Collection[str]) -> None:
        """Remove the records this node published for models it no longer hosts."""
        for record in await self.store.list_models():
            if record.node == self.node and record.key not in keep:
                await self.store.remove_model(record.key)

    async def run(self, names: Callable[[], Collection[str]], interval_s: float = 0.5) -> None:
        """Publish changes every `interval_s` until canceled."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.publish_changes(names())
            except Exception:  # a bug must not stop the publishing of every model
                log.exception("publishing the model registry failed")

    def _due(self, name: str, model: Model, setup: SetupStatus) -> bool:
        written = self._written.get(name)
        if written is None:
            return True
        record, at = written
        elapsed = self.clock() - at
        if record.model is not model:  # replaced when described
            return True
        if dataclasses.replace(record.setup, progress=setup.progress) != setup:
            return True
        if record.setup.progress != setup.progress:
            return elapsed >= self.progress_every_s
        return elapsed >= self.heartbeat_s

    async def _write(self, model: Model, setup: SetupStatus) -> None:
        record = ModelRecord(model, setup, self.node, self.now(), self.accelerators)
        try:
            await self.store.publish_model(record)
        except StoreError as exc:  # the next change or heartbeat tries again
            log.warning("can't publish %s to the model registry: %s", model.full_name, exc)
            return
        self._written[record.key] = (record, self.clock())
        if self.on_publish is not None:
            self.on_publish()
