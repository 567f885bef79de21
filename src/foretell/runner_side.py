"""The runner side of a process: model workers, the consumer that claims their work, and
the copies of what runs. `foretell serve MODELS…` runs it beside the API; `foretell worker`
runs nothing else."""

from __future__ import annotations

import asyncio
import logging
import os
import pathlib
import secrets
import socket
from collections.abc import Callable

from foretell.core.prediction import Prediction
from foretell.core.versions import TRAINER_SUFFIX
from foretell.hosting import ModelHost
from foretell.metrics.instances import InstanceProbe
from foretell.node import Node
from foretell.predictor.config import InstanceBounds, load_config
from foretell.predictor.errors import PredictorLoadError
from foretell.pushed_versions import PushedVersions
from foretell.runner import Runner
from foretell.runner.autoscale import Autoscaler, ScalePolicy, ScalingOptions
from foretell.runner.consumer import LEASE_S, Consumer, owner_id
from foretell.runner.environments import default_cache_dir
from foretell.runner.execution import ExecutionContext
from foretell.runner.live import LiveCopies
from foretell.runner.places import PLACE_LEASE_S, DeploymentPolicies, InstancePlaces

log = logging.getLogger("foretell.runner")

SHUT_DOWN = (
    "The server shut down before this prediction finished (it ran past the shutdown grace "
    "period). Run it again."
)


def thread_limits(threads: int | None) -> dict[str, str]:
    """The variables that cap the usual native thread pools (OpenMP, BLAS, torch, llama.cpp
    models that read OMP_NUM_THREADS) of each model's worker."""
    if threads is None:
        return {}
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
    return dict.fromkeys(names, str(threads))


def scale_policies(
    models: dict[str, pathlib.Path], options: ScalingOptions
) -> dict[str, ScalePolicy]:
    """Each hosted model's policy: its cog.yaml's `foretell:` bounds, else the command
    line's; built-in models scale to zero when idle by default."""
    from foretell.models import builtin_models

    builtins = {path.resolve() for path in builtin_models().values()}
    return {
        name: options.policy(name, path.resolve() in builtins, _own_bounds(path))
        for name, path in models.items()
    }


def _own_bounds(model_dir: pathlib.Path) -> InstanceBounds:
    try:
        return load_config(model_dir).instances
    except PredictorLoadError:  # hosting it fails with this error, told where it belongs
        return InstanceBounds()


def with_default(
    policies: dict[str, ScalePolicy],
    options: ScalingOptions,
    pushed_dir: pathlib.Path | None = None,
) -> Callable[[str], ScalePolicy]:
    """Each model's policy; for what is hosted later (pushed versions, trainers) the
    built-ins' one, each bound its cog.yaml's `foretell:` sets aside: they scale to zero
    when idle, so many versions cost no memory."""
    home = pushed_dir or pushed_cache_dir()
    later: dict[str, ScalePolicy] = {}

    def policy(name: str) -> ScalePolicy:
        found = policies.get(name) or later.get(name)
        if found is not None:
            return found
        code = home / name.partition(":")[2].removesuffix(TRAINER_SUFFIX) / "model"
        if ":" not in name or not (code / "cog.yaml").is_file():  # not unpacked (yet)
            return options.policy(name, True)
        later[name] = options.policy(name, True, _own_bounds(code))
        return later[name]

    return policy


def pushed_cache_dir() -> pathlib.Path:
    """Where pushed versions are unpacked (one folder per version id)."""
    return default_cache_dir() / "versions"


def lease_seconds() -> float:
    """How long a runner's claim lasts without a heartbeat: how soon the work of a runner
    that died is taken over (or failed). FORETELL_LEASE_S, for tests and tuning."""
    return float(os.environ.get("FORETELL_LEASE_S", LEASE_S))


class RunnerSide:
    """Hosts `models` and runs the work the queue holds for them."""

    def __init__(
        self,
        node: Node,
        runner: Runner,
        models: dict[str, pathlib.Path],
        progress: Callable[[str], None],
        model_threads: int | None = None,
        on_end: Callable[[Prediction], None] | None = None,
        scaling: Callable[[str], ScalePolicy | None] | None = None,
        *,
        pushed: bool = False,
    ) -> None:
        engines = node.engines
        self.models = models
        copies = LiveCopies(engines.store, node.outbox.wake)
        context = ExecutionContext(
            engines.bus, copies, engines.files, node.state.outbound, runner.scratch,
            node.state.admission, node.outbox, on_end, node.metrics,
        )  # fmt: skip
        #: names this process in leases and logs: host, pid and a random part (pids repeat)
        self.owner = owner_id(socket.gethostname(), os.getpid(), secrets.token_hex(4))
        self.host = ModelHost(
            runner, engines.store, lambda name, error: self.consumer.model_failed(name, error),
            progress, thread_limits(model_threads), on_publish=node.state.catalog.nudge,
        )  # fmt: skip
        #: the versions pushed to the cluster (and trained), hosted here too when asked
        self.pushed = (
            PushedVersions(self.host, engines.store, engines.files, pushed_cache_dir())
            if pushed
            else None
        )
        self.consumer = Consumer(
            runner, engines.queue, engines.store, engines.bus, context, self.owner,
            self.host.models.get, lease_s=lease_seconds(),
        )  # fmt: skip
        #: instances per model from demand: each model's policy, from its deployments if
        #: any names it (their bounds hold across the cluster), else from the command line
        self.policies = DeploymentPolicies(engines.store, scaling or (lambda _: None))
        self.places = InstancePlaces(
            engines.store, self.policies.current_limit, hardware=self.policies.hardware
        )
        runner.places = self.places

        def cold_boot(name: str, seconds: float) -> None:  # each one, however it started
            progress(f"[{name}] cold boot: an instance started in {seconds:.1f} s")
            node.metrics.cold_boot(name, seconds)

        runner.on_cold_boot = cold_boot
        self.autoscaler = Autoscaler(runner, engines.queue, self.policies, progress)
        node.metrics.add_probe(InstanceProbe(runner, models, node.metrics))  # at each scrape
        self._renewing: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Publish the models (each comes up in the background); claim nothing yet."""
        try:
            await self.policies.refresh()  # before any instance takes a place
        except Exception as exc:  # the store will answer later: read again then
            log.warning("reading deployments failed: %s", exc)
        await self.host.start(self.models)
        if self.pushed is not None:
            self.pushed.start()

    def claim(self) -> None:
        """Begin claiming work for the hosted models (and scaling their instances)."""
        self.consumer.start()
        self.autoscaler.start()
        self.policies.start()
        self._renewing = asyncio.create_task(self._renew_places())

    async def _renew_places(self) -> None:
        while True:
            await asyncio.sleep(PLACE_LEASE_S / 3)
            try:
                await self.places.renew()
            except Exception as exc:  # the store is down: the next beat tries again
                log.warning("renewing instance places failed: %s", exc)

    def describe_running(self, grace_s: float) -> Callable[[], str]:
        def describe() -> str:
            count = self.consumer.running()
            if not count:
                return "no prediction is running"
            return f"waiting up to {grace_s:g} s for {count} running prediction(s) to finish"

        return describe

    async def stop(self, grace_s: float, force: asyncio.Event) -> None:
        """Stop building, let what runs finish for `grace_s` (failing the rest), stop."""
        await self.autoscaler.close()
        await self.policies.close()
        if self._renewing is not None:
            self._renewing.cancel()
            await asyncio.gather(self._renewing, return_exceptions=True)
        if self.pushed is not None:
            await self.pushed.close()
        await self.host.close()  # stops environment builds; what waits for them stays queued
        await self.consumer.drain(grace_s, SHUT_DOWN, force)
        await self.consumer.close()
