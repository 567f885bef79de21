"""The instances of one model on this runner: zero or more worker processes of the same
spec, scaled by the autoscaler (foretell.runner.autoscale).

To the rest of the runner it is one model: its capacity is the sum of its instances' free
slots; a prediction goes to the instance with the most free slots; its schema is known once
the first instance described it, and stays known while it is scaled to zero (`idle`), so
the API keeps listing it and predictions for it wait in the queue for a cold boot.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
import pathlib
import time
from collections.abc import Callable
from typing import Any, Protocol

from foretell.core.times import utcnow
from foretell.runner.handle import PredictionHandle
from foretell.runner.hardware import Accelerator, AcceleratorPool, visible_devices
from foretell.runner.model import UNBOUNDED, HostedModel
from foretell.runner.spec import ModelSpec, PredictionRequest, StateInfo, WorkerState

log = logging.getLogger("foretell.runner")

_RUNNING = (WorkerState.READY, WorkerState.BUSY)
_FAILED = (WorkerState.SETUP_FAILED, WorkerState.DEFUNCT)


class CannotStartHere(Exception):
    """No instance of the model can start here now (it waits at zero instances)."""


class NoFreeAccelerator(CannotStartHere):
    """The model needs a GPU and none is free on this machine."""


class NoPlace(CannotStartHere):
    """The model's deployment caps its instances across the cluster, and all run already."""


class Places(Protocol):
    """Instance places across the cluster (foretell.runner.places.InstancePlaces)."""

    async def take(self, model: str, holder: str) -> bool: ...

    async def give_back(self, holder: str) -> None: ...

    def hardware(self, model: str) -> frozenset[str] | None:
        """The GPU skus an instance of `model` must hold one of, as its deployments ask
        (empty: none; None: no deployment names it)."""
        ...


@dataclasses.dataclass(frozen=True)
class ColdBoot:
    """An instance started when none ran: from `started_at` until it was ready."""

    started_at: datetime.datetime
    seconds: float


class ModelInstances:
    """One model's worker processes (instances), all of the same spec."""

    def __init__(
        self,
        spec: ModelSpec,
        scratch: pathlib.Path,
        clock: Callable[[], float] = time.monotonic,
        accelerators: AcceleratorPool | None = None,
        places: Places | None = None,
        holder_prefix: str = "",
    ) -> None:
        self.spec = spec
        #: the cluster's instance places (None: no cap beyond this runner's own)
        self.places = places
        self.holder_prefix = holder_prefix
        self._holders: dict[int, str] = {}
        #: this machine's GPUs, for a model that needs one (empty: it runs on the CPU)
        self.accelerators = accelerators or AcceleratorPool([])
        self._held: dict[int, Accelerator] = {}
        self.scratch = scratch
        self.clock = clock
        self.instances: list[HostedModel] = []
        self._numbers = 0
        self._schema: dict[str, Any] | None = None
        #: when each instance last had nothing to do (its idle time counts from there)
        self._idle_since: dict[int, float] = {}
        self._seen_running: set[int] = set()
        self._boots: set[asyncio.Task[float]] = set()
        #: the last cold boot, for the predictions that waited for it
        self.cold_boot: ColdBoot | None = None
        #: told of each cold boot (model, seconds), however it was started
        self.on_cold_boot: Callable[[str, float], None] | None = None

    # ---- scaling -----------------------------------------------------------------------

    @property
    def count(self) -> int:
        return len(self.instances)

    def gpu_skus(self) -> frozenset[str] | None:
        """The GPU kinds an instance may hold, as the model's deployments ask (empty: no
        GPU, `cpu`); None where no deployment names it (any GPU, if it needs one)."""
        return None if self.places is None else self.places.hardware(self.spec.name)

    def needs_accelerator(self) -> bool:
        """Whether each instance must hold a GPU: a deployment of the model asks for a GPU
        sku, or (none names it) cog.yaml asks for a GPU and the machine has some (with none
        at all, a GPU model runs on the CPU, as it always has)."""
        skus = self.gpu_skus()
        if skus is not None:
            return bool(skus)
        return self.spec.gpu and bool(self.accelerators)

    def can_add(self) -> bool:
        """Whether one more instance can start here now (a GPU of the kind it needs is free,
        if it needs one)."""
        return not self.needs_accelerator() or self.accelerators.free(self.gpu_skus()) > 0

    async def add(self, *, defer_setup: bool = False) -> HostedModel:
        """Start one more instance (returns once it is spawned). A GPU model with no GPU
        free here is only described (imported, no setup, no GPU) and then stopped: it stays
        known, at zero instances, until a GPU frees."""
        if not self.can_add():
            await self._describe_only()
            raise NoFreeAccelerator(self.spec.name)
        holder = f"{self.holder_prefix}/{self.spec.name}/{self._numbers + 1}"
        if self.places is not None and not await self.places.take(self.spec.name, holder):
            await self._describe_only()
            raise NoPlace(self.spec.name)
        if not self.can_add():  # taking the place read the deployments: new hardware
            await self._give_back_place(holder)
            await self._describe_only()
            raise NoFreeAccelerator(self.spec.name)
        instance = self._new()
        self._holders[id(instance)] = holder
        await instance.start(defer_setup=defer_setup)
        return instance

    async def _describe_only(self) -> None:
        if self._schema is not None:
            return
        self._numbers += 1
        spec = dataclasses.replace(self.spec, env={**self.spec.env, **visible_devices(None)})
        probe = HostedModel(spec, self.scratch / f"describe-{self._numbers}")
        await probe.start(defer_setup=True)
        try:
            self._schema = dict(await probe.described())
        finally:
            await probe.close()

    def _new(self) -> HostedModel:
        self._numbers += 1
        spec = self.spec
        needs = self.needs_accelerator()
        accelerator = self.accelerators.take(self.gpu_skus()) if needs else None
        if self.accelerators:  # on a GPU machine, an instance sees its own GPU or none
            spec = dataclasses.replace(spec, env={**spec.env, **visible_devices(accelerator)})
        instance = HostedModel(spec, self.scratch / f"instance-{self._numbers}")
        if accelerator is not None:
            self._held[id(instance)] = accelerator
        self.instances.append(instance)
        self._idle_since[id(instance)] = self.clock()
        return instance

    def accelerator_of(self, instance: HostedModel) -> Accelerator | None:
        return self._held.get(id(instance))

    async def cold_start(self, instance: HostedModel | None = None) -> float:
        """Start an instance when none runs (or finish starting `instance`), wait until it
        is ready; its boot time."""
        began, at = self.clock(), utcnow()
        if instance is None:
            instance = await self.add()
        else:
            await instance.start()
        await instance.settled()
        seconds = self.clock() - began
        self.cold_boot = ColdBoot(at, seconds)
        if self.on_cold_boot is not None:
            self.on_cold_boot(self.spec.name, seconds)
        return seconds

    def idle_instance(self, idle_s: float) -> HostedModel | None:
        """An instance with nothing queued or running for at least `idle_s`, if any."""
        now = self.clock()
        for instance in reversed(self.instances):  # the newest goes first
            if instance.queue or instance.running or instance.state not in _RUNNING:
                continue
            if id(instance) not in self._seen_running:  # idle from when it first ran
                self._seen_running.add(id(instance))
                self._idle_since[id(instance)] = now
            # idle with no time noted (its last prediction's end was missed): idle from now
            if now - self._idle_since.setdefault(id(instance), now) >= idle_s:
                return instance
        return None

    def misplaced_instance(self) -> HostedModel | None:
        """An idle instance on hardware the model's deployments no longer ask for (a GPU of
        another kind, a GPU where they ask for `cpu`, none where they ask for a GPU)."""
        skus = self.gpu_skus()
        if skus is None:  # no deployment names it: cog.yaml decides, and it stays as it is
            return None
        for instance in self.instances:
            if instance.queue or instance.running or instance.state not in _RUNNING:
                continue
            held = self._held.get(id(instance))
            if (held is None) != (not skus) or (held is not None and held.sku not in skus):
                return instance
        return None

    async def remove(self, instance: HostedModel) -> None:
        """Stop an (idle) instance."""
        self.instances.remove(instance)
        self._idle_since.pop(id(instance), None)
        self._seen_running.discard(id(instance))
        await instance.close()
        await self._release(instance)

    async def _release(self, instance: HostedModel) -> None:
        accelerator = self._held.pop(id(instance), None)
        if accelerator is not None:
            self.accelerators.give_back(accelerator)
        holder = self._holders.pop(id(instance), None)
        if holder is not None:
            await self._give_back_place(holder)

    async def _give_back_place(self, holder: str) -> None:
        if self.places is None:
            return
        try:
            await self.places.give_back(holder)
        except Exception:  # its lease runs out instead
            log.warning("could not give back the place of %s", holder, exc_info=True)

    def starting(self) -> bool:
        """Whether an instance is still coming up (a scale-up is under way)."""
        return any(i.state is WorkerState.STARTING for i in self.instances)

    def busy(self) -> int:
        """Predictions queued or running on the instances."""
        return sum(len(i.queue) + len(i.running) for i in self.instances)

    def slots(self) -> int:
        """Slots of one running instance (1 until one has described itself)."""
        running = [i.slots for i in self.instances if i.state in _RUNNING]
        return max(running, default=1)

    # ---- one model to the runner -------------------------------------------------------

    @property
    def primary(self) -> HostedModel | None:
        return self.instances[0] if self.instances else None

    async def described(self) -> dict[str, Any]:
        if self._schema is None:
            assert self.primary is not None, "a model is described by its first instance"
            self._schema = dict(await self.primary.described())
        return self._schema

    @property
    def schema(self) -> dict[str, Any] | None:
        if self._schema is None and self.primary is not None:
            return self.primary.schema
        return self._schema

    async def settled(self) -> WorkerState:
        if self.primary is None:
            return WorkerState.IDLE
        return await self.primary.settled()

    def start_setup(self) -> None:
        for instance in self.instances:
            instance.start_setup()

    @property
    def state(self) -> WorkerState:
        if not self.instances:
            return WorkerState.IDLE
        states = [i.state for i in self.instances]
        if WorkerState.READY in states:
            return WorkerState.READY
        if WorkerState.BUSY in states:
            return WorkerState.BUSY
        return states[0]

    def info(self) -> StateInfo:
        if self.primary is None:
            return StateInfo(state=WorkerState.IDLE)
        first = self.primary.info()
        return dataclasses.replace(
            first,
            state=self.state,
            queued=sum(len(i.queue) for i in self.instances),
            running=sum(len(i.running) for i in self.instances),
        )

    def capacity(self) -> int:
        if self.primary is not None and self.primary.state in _FAILED:
            return UNBOUNDED  # what waits for it fails at once, with the reason
        return sum(i.capacity() for i in self.instances if i.state in _RUNNING)

    def starts_now(self) -> bool:
        """Whether work claimed within capacity() starts at once: an instance is up (not
        booting, not failed), so a claim made for a free slot goes straight to it."""
        if self.primary is not None and self.primary.state in _FAILED:
            return False
        return any(i.state in _RUNNING for i in self.instances)

    def submit(self, request: PredictionRequest) -> PredictionHandle:
        """To the running instance with the most free slots (the first one otherwise)."""
        running = [i for i in self.instances if i.state in _RUNNING]
        if not running and self.primary is None:
            # claimed just as the last instance stopped: boot one; it waits in its queue
            chosen = self._new()
            boot = asyncio.create_task(self.cold_start(chosen))
            self._boots.add(boot)
            boot.add_done_callback(self._boots.discard)
        elif not running:
            chosen = self.instances[0]
        else:
            chosen = max(running, key=lambda i: i.slots - len(i.queue) - len(i.running))
        handle = chosen.submit(request)
        self._idle_since.pop(id(chosen), None)
        # after the instance has let go of it (Done is delivered before it leaves `running`)
        loop = asyncio.get_running_loop()

        def done() -> None:
            loop.call_soon(self._maybe_idle, chosen)

        handle.on_done(done)
        return handle

    def _maybe_idle(self, instance: HostedModel) -> None:
        if not instance.queue and not instance.running:
            self._idle_since[id(instance)] = self.clock()

    def cancel(self, prediction_id: str) -> bool:
        return any(instance.cancel(prediction_id) for instance in self.instances)

    async def close(self) -> None:
        for instance in self.instances:
            await instance.close()
            await self._release(instance)
        self.instances.clear()
