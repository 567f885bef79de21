"""Scaling each hosted model's instances on this runner from its queue, like Ray Serve's
queue-depth autoscaling: up while work waits and every slot is busy, down after an idle
period, to zero when the policy allows (the next prediction then cold-boots an instance).

One task for all models (a look every `interval_s`); one scaling step at a time per model,
so a burst adds instances one by one as each comes up, never past `max_instances`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from foretell.predictor.config import InstanceBounds
from foretell.queue.protocol import WorkQueue
from foretell.runner.instances import CannotStartHere
from foretell.runner.model import HostedModel
from foretell.runner.runner import Runner
from foretell.runner.spec import WorkerState

log = logging.getLogger("foretell.autoscale")

#: seconds between looks at the queue
INTERVAL_S = 0.25

Step = Coroutine[Any, Any, None]
_T = TypeVar("_T")


@dataclass(frozen=True)
class ScalePolicy:
    """How many instances of a model may run here, and when an idle one stops."""

    min_instances: int = 1
    max_instances: int = 1
    #: seconds an instance may sit idle before it stops (while above min_instances);
    #: None: never
    idle_timeout_s: float | None = None

    def __post_init__(self) -> None:
        if self.min_instances < 0 or self.max_instances < max(1, self.min_instances):
            raise ValueError(
                f"instances must satisfy 0 <= min ({self.min_instances}) <= max "
                f"({self.max_instances}) and max >= 1"
            )


#: a model whose cog.yaml sets none of its own
_NO_BOUNDS = InstanceBounds()

#: how long a built-in model's instance may sit idle before it stops, by default
BUILTIN_IDLE_S = 300.0


@dataclass(frozen=True)
class ScalingOptions:
    """What `--min-instances`, `--max-instances` and `--idle-timeout` ask for."""

    #: None: 1 for your models, 0 for built-in ones (they scale to zero when idle)
    min_instances: int | None = None
    max_instances: int = 1
    #: None: built-in models stop after BUILTIN_IDLE_S idle, yours never
    idle_timeout_s: float | None = None

    def policy(self, name: str, builtin: bool, own: InstanceBounds = _NO_BOUNDS) -> ScalePolicy:
        """The model's policy: what its cog.yaml's `foretell:` mapping sets (`own`) wins
        over these server-wide options, each bound on its own."""
        idle = _first(own.idle_timeout_s, self.idle_timeout_s)
        if idle is None and builtin:
            idle = BUILTIN_IDLE_S
        least = _first(own.min_instances, self.min_instances)
        if least is None:
            least = 0 if idle is not None else 1
        most = _first(own.max_instances, self.max_instances)
        return ScalePolicy(least, max(most or 1, least, 1), idle)


def _first(*values: _T | None) -> _T | None:
    return next((value for value in values if value is not None), None)


class Autoscaler:
    """Keeps each model's instance count between its policy's bounds, following demand."""

    def __init__(
        self,
        runner: Runner,
        queue: WorkQueue,
        policies: Callable[[str], ScalePolicy | None],
        progress: Callable[[str], None] = print,
        interval_s: float = INTERVAL_S,
    ) -> None:
        self.runner = runner
        self.queue = queue
        self.policies = policies
        self.progress = progress
        self.interval_s = interval_s
        self._steps: dict[str, asyncio.Task[None]] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        tasks = [t for t in (self._task, *self._steps.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def look(self) -> None:
        """One look at every model; starts (in the background) what needs doing."""
        for name in list(self.runner.model_names):
            policy = self.policies(name)
            step = self._steps.get(name)
            if policy is None or (step is not None and not step.done()):
                continue
            action = await self._decide(name, policy)
            if action is not None:
                task = asyncio.create_task(action)
                self._steps[name] = task

    async def _decide(self, name: str, policy: ScalePolicy) -> Step | None:
        group = self.runner.instances(name)
        if group.primary is not None and group.primary.state in (
            WorkerState.SETUP_FAILED,
            WorkerState.DEFUNCT,
        ):
            return None  # it can't run: scaling won't help
        misplaced = group.misplaced_instance()
        if misplaced is not None:  # its deployment's hardware changed: one goes, one comes
            return self._move(name, misplaced)
        count = group.count
        if not group.can_add():  # a GPU model with every GPU here taken
            waiting = 0
        elif count < policy.min_instances:
            return self._up(name, cold=count == 0)
        else:
            waiting = await self.queue.depth(name)
        if waiting and count == 0:
            return self._up(name, cold=True)
        full = group.busy() >= count * group.slots()
        if waiting and full and count < policy.max_instances and not group.starting():
            return self._up(name, cold=False)
        if count > policy.min_instances and policy.idle_timeout_s is not None and not waiting:
            idle = group.idle_instance(policy.idle_timeout_s)
            if idle is not None:
                return self._down(name, idle, to_zero=count == 1)
        return None

    def _up(self, name: str, *, cold: bool) -> Step:
        async def scale_up() -> None:
            group = self.runner.instances(name)
            try:
                if cold:  # the runner says when it is up (however a cold boot started)
                    await group.cold_start()
                else:
                    await group.add()
                    self.progress(f"[{name}] scaled up to {group.count} instance(s)")
            except CannotStartHere as exc:  # every GPU or cluster place is taken: later
                log.debug("%s: no instance can start here now (%s)", name, type(exc).__name__)

        return scale_up()

    def _down(self, name: str, instance: HostedModel, *, to_zero: bool) -> Step:
        async def scale_down() -> None:
            group = self.runner.instances(name)
            await group.remove(instance)
            if to_zero:
                self.progress(f"[{name}] idle: scaled to zero (the next prediction starts it)")
            else:
                self.progress(f"[{name}] idle: scaled down to {group.count} instance(s)")

        return scale_down()

    def _move(self, name: str, instance: HostedModel) -> Step:
        async def stop_misplaced() -> None:
            group = self.runner.instances(name)
            held = group.accelerator_of(instance)
            await group.remove(instance)
            wanted = ", ".join(sorted(group.gpu_skus() or ())) or "cpu"
            self.progress(
                f"[{name}] stopped an instance on {held.sku if held else 'cpu'}: "
                f"its deployment asks for {wanted}"
            )

        return stop_misplaced()

    async def _run(self) -> None:
        while True:
            try:
                await self.look()
            except Exception:  # a queue hiccup must not stop scaling for good
                log.exception("autoscaling failed; retrying")
            await asyncio.sleep(self.interval_s)
