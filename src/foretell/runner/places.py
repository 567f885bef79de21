"""Instance places across the cluster, and the scaling policies deployments ask for.

A deployment's `max_instances` holds for all workers together: each instance takes a place
in the store (`Store.reserve_instance`) before it starts and gives it back when it stops; a
heartbeat keeps the places of running instances, so a worker that dies frees its places
once their lease runs out. Models no deployment names have no cluster-wide cap (each worker
keeps to its own --max-instances).
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Awaitable, Callable

from foretell.core.deployments import Deployment
from foretell.core.times import utcnow
from foretell.runner.autoscale import ScalePolicy
from foretell.store.protocol import Store

log = logging.getLogger("foretell.autoscale")

#: seconds a place lasts without a heartbeat
PLACE_LEASE_S = 30.0
#: how often deployments are read again
REFRESH_S = 5.0


class DeploymentPolicies:
    """Each model's policy: its deployments' instance bounds when a deployment names it
    (the largest of them), else the one the command line gave."""

    def __init__(
        self,
        store: Store,
        base: Callable[[str], ScalePolicy | None],
        refresh_s: float = REFRESH_S,
    ) -> None:
        self.store = store
        self.base = base
        self.refresh_s = refresh_s
        self._bounds: dict[str, tuple[int, int]] = {}
        self._task: asyncio.Task[None] | None = None

    def __call__(self, model: str) -> ScalePolicy | None:
        base = self.base(model)
        bounds = self._bounds.get(model)
        if base is None or bounds is None:
            return base
        least, most = bounds
        idle = base.idle_timeout_s
        if least == 0 and idle is None:
            idle = 300.0  # a deployment that may scale to zero does so when idle
        return ScalePolicy(least, max(most, least, 1), idle)

    def limit(self, model: str) -> int | None:
        """The cluster-wide cap on the model's instances, if a deployment sets one."""
        bounds = self._bounds.get(model)
        return None if bounds is None else max(bounds[1], 1)

    async def current_limit(self, model: str) -> int | None:
        """The cap as the store has it now (read before an instance starts: rare, and a
        deployment made a moment ago must already hold)."""
        try:
            await self.refresh()
        except Exception as exc:  # the store is down: the last bounds it gave
            log.warning("reading deployments failed: %s", exc)
        return self.limit(model)

    async def refresh(self) -> None:
        bounds: dict[str, tuple[int, int]] = {}
        cursor: str | None = None
        while True:
            page = await self.store.list_deployments(None, limit=100, cursor=cursor)
            for deployment in page.items:
                _merge(bounds, deployment)
            cursor = page.next_cursor
            if cursor is None:
                break
        self._bounds = bounds

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception as exc:  # the store is down: keep the last bounds
                log.warning("reading deployments failed: %s", exc)
            await asyncio.sleep(self.refresh_s)


def _merge(bounds: dict[str, tuple[int, int]], deployment: Deployment) -> None:
    release = deployment.current_release
    config = release.configuration
    least, most = bounds.get(release.model, (0, 0))
    bounds[release.model] = (max(least, config.min_instances), max(most, config.max_instances))


class InstancePlaces:
    """Takes and keeps this runner's instance places in the store."""

    def __init__(
        self,
        store: Store,
        limit: Callable[[str], Awaitable[int | None]],
        lease_s: float = PLACE_LEASE_S,
    ) -> None:
        self.store = store
        self.limit = limit
        self.lease_s = lease_s
        self._held: set[str] = set()

    def _until(self) -> datetime.datetime:
        return utcnow() + datetime.timedelta(seconds=self.lease_s)

    async def take(self, model: str, holder: str) -> bool:
        """Whether `holder` may start an instance of `model` (a place is free, or the
        model has no cluster-wide cap)."""
        limit = await self.limit(model)
        if limit is None:
            return True
        if await self.store.reserve_instance(model, holder, limit, self._until()):
            self._held.add(holder)
            return True
        return False

    async def give_back(self, holder: str) -> None:
        if holder in self._held:
            self._held.discard(holder)
            await self.store.release_instance(holder)

    async def renew(self) -> None:
        if self._held:
            await self.store.renew_instances(list(self._held), self._until())
