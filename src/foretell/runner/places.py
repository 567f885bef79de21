"""Instance places across the cluster, and the scaling policies deployments ask for.

A deployment's `max_instances` holds for all workers together: each instance takes a place
in the store (`Store.reserve_instance`) before it starts and gives it back when it stops; a
heartbeat keeps the places of running instances, so a worker that dies frees its places
once their lease runs out. Models no deployment names have no cluster-wide cap (each worker
keeps to its own --max-instances).

A deployment's `hardware` says where its model's instances may run: `cpu` on no GPU, a GPU
sku (`gpu-a100-80gb`, as GET /v1/hardware lists them) on a GPU of that kind only, so a
runner without a free one starts none (another runner that has one takes the work).
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from foretell.core.deployments import Configuration
from foretell.core.times import utcnow
from foretell.runner.autoscale import BUILTIN_IDLE_S, ScalePolicy
from foretell.store.protocol import Store

log = logging.getLogger("foretell.autoscale")

#: seconds a place lasts without a heartbeat
PLACE_LEASE_S = 30.0
#: how often deployments are read again
REFRESH_S = 5.0
#: the hardware sku of no accelerator
CPU = "cpu"


@dataclass(frozen=True)
class _Asked:
    """What a model's deployments ask for, together."""

    min_instances: int = 0
    max_instances: int = 0
    #: the shortest idle timeout any of them sets (None: none sets one)
    idle_timeout_s: float | None = None
    #: their hardware skus (`cpu` included)
    hardware: frozenset[str] = frozenset()

    def merged(self, config: Configuration) -> _Asked:
        idles = [t for t in (self.idle_timeout_s, config.idle_timeout) if t is not None]
        return _Asked(
            max(self.min_instances, config.min_instances),
            max(self.max_instances, config.max_instances),
            min(idles, default=None),
            self.hardware | {config.hardware},
        )


class DeploymentPolicies:
    """Each model's policy: its deployments' instance bounds when a deployment names it
    (the largest of them), else the one cog.yaml or the command line gave."""

    def __init__(
        self,
        store: Store,
        base: Callable[[str], ScalePolicy | None],
        refresh_s: float = REFRESH_S,
    ) -> None:
        self.store = store
        self.base = base
        self.refresh_s = refresh_s
        self._asked: dict[str, _Asked] = {}
        self._task: asyncio.Task[None] | None = None

    def __call__(self, model: str) -> ScalePolicy | None:
        base = self.base(model)
        asked = self._asked.get(model)
        if base is None or asked is None:
            return base
        least, most = asked.min_instances, asked.max_instances
        idle = asked.idle_timeout_s if asked.idle_timeout_s is not None else base.idle_timeout_s
        if least == 0 and idle is None:
            idle = BUILTIN_IDLE_S  # a deployment that may scale to zero does so when idle
        return ScalePolicy(least, max(most, least, 1), idle)

    def limit(self, model: str) -> int | None:
        """The cluster-wide cap on the model's instances, if a deployment sets one."""
        asked = self._asked.get(model)
        return None if asked is None else max(asked.max_instances, 1)

    def hardware(self, model: str) -> frozenset[str] | None:
        """The GPU skus an instance of the model must hold one of (empty: none, it runs on
        the CPU), as its deployments ask; None where no deployment names it (then cog.yaml's
        build.gpu decides: any GPU)."""
        asked = self._asked.get(model)
        if asked is None:
            return None
        return frozenset(sku for sku in asked.hardware if sku != CPU)

    async def current_limit(self, model: str) -> int | None:
        """The cap as the store has it now (read before an instance starts: rare, and a
        deployment made a moment ago must already hold)."""
        try:
            await self.refresh()
        except Exception as exc:  # the store is down: the last bounds it gave
            log.warning("reading deployments failed: %s", exc)
        return self.limit(model)

    async def refresh(self) -> None:
        asked: dict[str, _Asked] = {}
        cursor: str | None = None
        while True:
            page = await self.store.list_deployments(None, limit=100, cursor=cursor)
            for deployment in page.items:
                release = deployment.current_release
                asked[release.model] = asked.get(release.model, _Asked()).merged(
                    release.configuration
                )
            cursor = page.next_cursor
            if cursor is None:
                break
        self._asked = asked

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


class InstancePlaces:
    """Takes and keeps this runner's instance places in the store, and tells what hardware
    an instance needs (foretell.runner.instances.Places)."""

    def __init__(
        self,
        store: Store,
        limit: Callable[[str], Awaitable[int | None]],
        lease_s: float = PLACE_LEASE_S,
        hardware: Callable[[str], frozenset[str] | None] = lambda _: None,
    ) -> None:
        self.store = store
        self.limit = limit
        self.lease_s = lease_s
        self._hardware = hardware
        self._held: set[str] = set()

    def hardware(self, model: str) -> frozenset[str] | None:
        """The GPU skus an instance of `model` must hold one of (empty: none; None: no
        deployment says, cog.yaml's build.gpu decides)."""
        return self._hardware(model)

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
