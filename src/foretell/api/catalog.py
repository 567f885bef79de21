"""The hosted models as the API sees them: a snapshot of the store's model registry.

Runners publish their models into the store (foretell.hosting); the API never asks a runner.
Request handlers read the snapshot synchronously; a background task refreshes it every
`interval_s`, and at once when nudged (the embedded shape's host nudges after it publishes,
so a model's new state shows without waiting for the next tick).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
from collections.abc import Callable

from foretell.core.models import ModelRecord
from foretell.core.times import utcnow
from foretell.core.versions import StoredModel
from foretell.errors import StoreError
from foretell.store.protocol import Store

log = logging.getLogger("foretell.api.catalog")


class ModelCatalog:
    """The registry's records, refreshed in the background; lookups never wait."""

    def __init__(
        self,
        store: Store,
        interval_s: float = 1.0,
        stale_after_s: float = 120.0,
        clock: Callable[[], datetime.datetime] = utcnow,
    ) -> None:
        self.store = store
        self.interval_s = interval_s
        #: a record its runner hasn't republished for this long is gone (the runner is)
        self.stale_after_s = stale_after_s
        self.clock = clock
        #: the newest predict record of each model, by `owner/name`
        self._records: dict[str, ModelRecord] = {}
        #: every predict record of each model, newest first
        self._versions: dict[str, list[ModelRecord]] = {}
        self._by_version: dict[str, ModelRecord] = {}
        self._trainers: dict[str, ModelRecord] = {}
        #: the stored models (the models API's), by `owner/name`, as of the last refresh
        self._stored: dict[str, StoredModel] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def get(self, full_name: str) -> ModelRecord | None:
        """A model's record by `owner/name`: its newest hosted version that has described
        itself (a version still building doesn't take a model's predictions from the last
        good one), or its newest when none has."""
        return self._records.get(full_name)

    def by_version(self, version_id: str) -> ModelRecord | None:
        """The record of the model version `version_id` (the predictions' one)."""
        return self._by_version.get(version_id)

    def trainer(self, version_id: str) -> ModelRecord | None:
        """The record of the trainer (cog.yaml's `train:`) of version `version_id`, if it
        has one; its schema is the training one (`TrainingInput`, `TrainingOutput`)."""
        return self._trainers.get(version_id)

    def versions(self, full_name: str) -> list[ModelRecord]:
        """Every hosted version of a model, newest first."""
        return self._versions.get(full_name, [])

    def all(self) -> list[ModelRecord]:
        """Every model (its record as get() gives it), by name."""
        return list(self._records.values())

    def stored(self, full_name: str) -> StoredModel | None:
        """The stored model `owner/name` as of the last refresh (the store has the latest)."""
        return self._stored.get(full_name)

    def public(self) -> list[ModelRecord]:
        """The models anyone may see, by name (is_public())."""
        return [record for name, record in self._records.items() if self.is_public(name)]

    def is_public(self, full_name: str) -> bool:
        """Whether anyone may see the hosted model `owner/name`: a command-line one, or a
        public stored one (not a private stored model, nor a deleted one still hosted)."""
        record = self._records.get(full_name)
        if record is None:
            return False
        stored = self._stored.get(full_name)
        if stored is None:
            return not record.is_stored_unit
        return stored.visibility == "public"

    async def refresh(self) -> None:
        """Read the registry now (a StoreError keeps the last snapshot and is raised)."""
        records = await self.store.list_models()
        stored = await self.store.list_stored_models()
        oldest = self.clock() - datetime.timedelta(seconds=self.stale_after_s)
        fresh = [r for r in records if r.updated_at >= oldest]
        predicting = sorted(
            (r for r in fresh if not r.is_trainer),
            key=lambda r: (r.full_name, not r.model.is_described, -r.model.created_at.timestamp()),
        )
        versions: dict[str, list[ModelRecord]] = {}
        for record in predicting:
            versions.setdefault(record.full_name, []).append(record)
        self._records = {name: found[0] for name, found in versions.items()}
        self._versions = {
            name: sorted(found, key=lambda r: r.model.created_at, reverse=True)
            for name, found in versions.items()
        }
        self._by_version = {r.model.version: r for r in predicting}
        self._trainers = {r.model.version: r for r in fresh if r.is_trainer}
        self._stored = {m.full_name: m for m in stored}

    def nudge(self) -> None:
        """Something was published: refresh soon (several nudges make one refresh)."""
        self._wake.set()

    def start(self) -> None:
        """Refresh in the background until close()."""
        self._task = asyncio.create_task(self._refreshing())

    async def close(self) -> None:
        """Stop refreshing."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _refreshing(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval_s):
                    await self._wake.wait()
            self._wake.clear()  # a nudge from here on makes the next refresh
            try:
                await self.refresh()
            except StoreError as exc:
                log.warning("can't read the model registry (keeping the last one): %s", exc)
