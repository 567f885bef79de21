"""`foretell worker`: a runner on its own, for a cluster. It hosts the models it was given,
claims their work from the shared queue, publishes their events on the shared bus and writes
their state to the shared store; API nodes (`foretell serve`) answer the clients."""

from __future__ import annotations

import asyncio
import os
import pathlib
from dataclasses import dataclass, field

from foretell.api.health import HealthServer
from foretell.api.state import Settings
from foretell.core.prediction import Prediction
from foretell.engines import MEMORY, EngineURLs
from foretell.logs import say
from foretell.node import Engines, Node
from foretell.outbound import GuardedClient, OutboundPolicy
from foretell.runner import Runner
from foretell.runner.autoscale import ScalingOptions
from foretell.runner_side import RunnerSide, scale_policies, with_default
from foretell.shutdown import Shutdown
from foretell.webhooks import RetryPolicy


class NotShared(ValueError):
    """A worker was pointed at engines only its own process could see."""


@dataclass
class WorkerConfig:
    """What `foretell worker` was asked to do."""

    models: dict[str, pathlib.Path]
    database: str
    queue: str
    files: str
    #: an API node's URL as clients see it: file URLs and webhook bodies name it
    public_url: str = "http://127.0.0.1:5000"
    allow_private_urls: bool = False
    output_url_ttl_s: float = 3600.0
    webhook_retry: RetryPolicy = field(default_factory=RetryPolicy)
    model_threads: int | None = None
    shutdown_grace_s: float = 30.0
    scaling: ScalingOptions = field(default_factory=ScalingOptions)
    #: where /metrics, /health and /ready are served (None: not at all)
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    #: host every pushed (and trained) version too
    pushed: bool = False


def check_shared(urls: EngineURLs) -> EngineURLs:
    """The worker's engines, if they are the cluster's (shared with the API nodes)."""
    if urls.queue == MEMORY:
        raise NotShared(
            "a worker needs the cluster's queue: --queue redis://HOST:6379/0 (or FORETELL_QUEUE)"
        )
    if urls.database.startswith("sqlite:"):
        raise NotShared(
            "a worker needs the cluster's database: --database postgresql://… "
            "(or FORETELL_DATABASE)"
        )
    return urls


def _progress(line: str) -> None:
    say(line)


def _ended(prediction: Prediction) -> None:
    """One line per prediction this worker ran, so an operator sees where work goes."""
    took = prediction.metrics.get("predict_time") if prediction.metrics else None
    timing = f" in {took:.3f} s" if isinstance(took, int | float) else ""
    say(
        f"{prediction.id} {prediction.model} {prediction.status.value}{timing}",
        prediction_id=prediction.id, model=prediction.model, status=prediction.status.value,
        predict_time=took,
    )  # fmt: skip


async def work(config: WorkerConfig) -> None:
    """Run until SIGINT or SIGTERM; then let running predictions finish (the grace period)."""
    # every engine is given (the cluster's): nothing falls back to a data dir
    urls = EngineURLs.parse(pathlib.Path("."), config.database, config.queue, config.files)
    engines = await Engines.open(check_shared(urls))
    outbound = GuardedClient(OutboundPolicy(allow_private=config.allow_private_urls))
    try:
        node = await Node.build(
            engines, pathlib.Path("."), outbound, config.public_url, Settings(),
            config.output_url_ttl_s, config.webhook_retry,
        )  # fmt: skip
        async with Runner(scratch_dir=None) as runner:
            side = RunnerSide(
                node, runner, config.models, _progress, config.model_threads, _ended,
                scaling=with_default(scale_policies(config.models, config.scaling), config.scaling),
                pushed=config.pushed,
            )  # fmt: skip
            shutdown = Shutdown(
                _progress, side.describe_running(config.shutdown_grace_s), "No new work"
            )
            await side.start()
            await node.start()
            health = HealthServer(node.state, config.metrics_host, config.metrics_port)
            await health.start()
            shutdown.install()
            try:
                side.claim()
                say(f"foretell worker {side.owner} hosts {_hosting(config)}")
                await shutdown.requested.wait()
            finally:
                await side.stop(shutdown.grace_left(config.shutdown_grace_s), shutdown.force)
                await health.close()
                await node.close()
                shutdown.remove()
    finally:
        await outbound.close()
        await engines.close()


def run(config: WorkerConfig) -> None:
    """Blocking entry point for the CLI."""
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    try:
        import uvloop
    except ImportError:
        asyncio.run(work(config))
    else:
        uvloop.run(work(config))


def _hosting(config: WorkerConfig) -> str:
    names = [*config.models, *(["every pushed version"] if config.pushed else [])]
    return ", ".join(names)
