"""`foretell serve`: an API node, and a runner for the models it was given, meeting only
through the seam's engines (store, queue, bus, files), chosen from URLs (foretell.engines).

With the embedded engines it is the whole of foretell on one machine; with the cluster ones
(PostgreSQL, Redis, S3) any number of API nodes and `foretell worker`s share the work."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import pathlib
from collections.abc import Collection
from dataclasses import dataclass, field, replace

import uvicorn

from foretell.api.app import create_app
from foretell.api.limits import Limits
from foretell.api.reconcile import Reconciler
from foretell.api.service import PredictionService
from foretell.api.state import ApiState, Settings
from foretell.api.sweeper import Sweeper
from foretell.core.accounts import hash_token
from foretell.core.ids import api_token
from foretell.core.status import Status
from foretell.engines import MEMORY, EngineURLs, shared_limits
from foretell.http_writes import TurnWritesProtocol
from foretell.logs import say, uvicorn_log_config
from foretell.node import Engines, Node
from foretell.outbound import GuardedClient, OutboundPolicy
from foretell.queue.protocol import WorkItem, WorkQueue
from foretell.retention import Retention
from foretell.runner import Runner
from foretell.runner.autoscale import ScalingOptions
from foretell.runner_side import RunnerSide, scale_policies, with_default
from foretell.shutdown import Server, Shutdown
from foretell.store.protocol import Store
from foretell.webhooks import RetryPolicy

log = logging.getLogger("foretell")

DEFAULT_ACCOUNT = "local"
#: the garbage collector's thresholds while serving (young, middle, old generations)
GC_THRESHOLDS = (20_000, 20, 20)
RESTARTED = (
    "The server restarted while this prediction was running, so its result was lost. Run it again."
)


@dataclass
class ServeConfig:
    """What `foretell serve` was asked to do."""

    models: dict[str, pathlib.Path]
    data_dir: pathlib.Path
    host: str = "127.0.0.1"
    port: int = 5000
    settings: Settings = field(default_factory=Settings)
    output_url_ttl_s: float = 3600.0
    allow_private_urls: bool = False
    #: the server's URL as webhook receivers should see it in payloads
    public_url: str | None = None
    webhook_retry: RetryPolicy = field(default_factory=RetryPolicy)
    #: CPU threads each model's worker may use (None: the libraries' default, every core)
    model_threads: int | None = None
    #: seconds running predictions may take to finish once SIGINT/SIGTERM arrived
    shutdown_grace_s: float = 30.0
    #: seconds a finished prediction keeps its input, output, logs and files (0: forever)
    data_retention_s: float = 3600.0
    #: engine URLs (foretell.engines); None: the embedded engine under data_dir
    database: str | None = None
    queue: str | None = None
    files: str | None = None
    #: instances per model: --min-instances, --max-instances, --idle-timeout
    scaling: ScalingOptions = field(default_factory=ScalingOptions)
    #: --max-queue, --rate-limit, --queue-ttl (foretell.api.limits)
    limits: Limits = field(default_factory=Limits)


async def create_token(store: Store, account: str) -> str:
    """A new API token for `account` (created if needed); only its hash is stored."""
    await store.ensure_account(account, account)
    token = api_token()
    await store.add_token(account, hash_token(token))
    return token


def _progress(line: str) -> None:
    say(line)


async def _recover(
    store: Store, service: PredictionService, queue: WorkQueue, hosted: Collection[str], base: str
) -> None:
    """With an in-process queue this process is the only runner, so whatever the store says
    is unfinished was this data dir's last server's: requeue what never started (its input is
    checked again once its model is up); fail what was running when it died (with its
    `completed` webhook, like any other end)."""
    for prediction in await store.unfinished_predictions():
        if prediction.model not in hosted:
            reason = f"The model {prediction.model} is no longer served."
            await service.end_unrun(prediction, Status.FAILED, reason)
        elif prediction.status is Status.STARTING:
            await queue.put(WorkItem(prediction, prediction.model, admitted=False, base_url=base))
            if prediction.deadline is not None:
                service.on_deadline(prediction)
        else:
            await service.end_unrun(prediction, Status.FAILED, RESTARTED)


async def serve(config: ServeConfig) -> None:
    """Run until SIGINT or SIGTERM; then stop cleanly (see `foretell.shutdown`)."""
    # Resolved once: workers run with their model's directory as cwd.
    config = replace(config, data_dir=config.data_dir.resolve())
    config.data_dir.mkdir(parents=True, exist_ok=True)
    urls = EngineURLs.parse(config.data_dir, config.database, config.queue, config.files)
    engines = await Engines.open(urls)
    outbound = GuardedClient(OutboundPolicy(allow_private=config.allow_private_urls))
    try:
        if not config.settings.no_auth and await engines.store.count_tokens() == 0:
            token = await create_token(engines.store, DEFAULT_ACCOUNT)
            print(f"Created the first API token (shown once): {token}", flush=True)
        public = config.public_url or f"http://{config.host}:{config.port}"
        node = await Node.build(
            engines, config.data_dir, outbound, public, config.settings,
            config.output_url_ttl_s, config.webhook_retry,
        )  # fmt: skip
        if config.models:
            async with Runner(scratch_dir=None) as runner:
                policies = scale_policies(config.models, config.scaling)
                side = RunnerSide(
                    node, runner, config.models, _progress, config.model_threads,
                    on_end=node.state.service.remember,  # its answer needs no read
                    scaling=with_default(policies, config.scaling), pushed=True,
                )  # fmt: skip
                await _serve_with(config, node, public, side)
        else:  # an API node of a cluster: the workers host the models
            await _serve_with(config, node, public, None)
    finally:
        await outbound.close()
        await engines.close()


async def _serve_with(
    config: ServeConfig, node: Node, public: str, side: RunnerSide | None
) -> None:
    engines, service = node.engines, node.state.service
    sweeper = Sweeper(service)
    service.on_deadline = sweeper.schedule
    retention = Retention(engines.store, engines.files, config.data_retention_s)
    if config.data_retention_s > 0:  # an answer from memory never outlives the data
        service.recent_s = min(service.recent_s, config.data_retention_s / 2)
    reconciler = None if engines.urls.queue == MEMORY else Reconciler(service, public)
    if side is not None:
        await side.start()
    await node.start()
    retention.start()
    running = side.describe_running(config.shutdown_grace_s) if side else _nothing_runs
    shutdown = Shutdown(_progress, running)
    shutdown.install()
    try:
        if reconciler is None:  # an in-process queue: this process is the only runner
            hosted = side.models if side is not None else {}
            await _recover(engines.store, service, engines.queue, hosted, public)
        else:
            reconciler.start()
        if side is not None:
            side.claim()
        sweeper.start()
        await _serve_http(config, node.state, shutdown)
    finally:
        grace = shutdown.grace_left(config.shutdown_grace_s)
        await sweeper.close()
        if reconciler is not None:
            await reconciler.close()
        if side is not None:
            await side.stop(grace, shutdown.force)
        await node.close()
        await retention.close()
        shutdown.remove()


def _nothing_runs() -> str:
    return "no model runs here"


async def _serve_http(config: ServeConfig, state: ApiState, shutdown: Shutdown) -> None:
    app = create_app(state)
    app.state.limits = shared_limits(config.limits, state.queue)
    server = Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            log_level="warning",
            log_config=uvicorn_log_config(),
            access_log=False,  # never shown at "warning": not even formatted, per request
            lifespan="off",
            http=TurnWritesProtocol,  # a response's headers and body in one send
            # requests still open (Prefer: wait) get the grace period too
            timeout_graceful_shutdown=int(config.shutdown_grace_s),
        )
    )
    shutdown.server = server
    url = f"http://{config.host}:{config.port}"

    def started() -> None:
        # what start-up made lives as long as the server: no collection need scan it again
        gc.freeze()
        # Each prediction allocates a few hundred tracked objects, nearly all freed by
        # reference counting: at the default 700 a young collection ran every few
        # predictions (5% of the main thread under load). Cycles wait a little longer.
        gc.set_threshold(*GC_THRESHOLDS)
        say(
            f"foretell is serving {_models_line(config.models)} at {url}\n"
            f"  playground {url}/ · API docs {url}/openapi.json · for agents {url}/llms.txt,"
            f" {url}/mcp · metrics {url}/metrics"
        )

    server.on_started = started
    async with app.state.mcp.running():  # /mcp's session manager (uvicorn's lifespan is off)
        await server.serve()


def _models_line(models: Collection[str]) -> str:
    if not models:
        return "the models its workers host (none here)"
    return f"{len(models)} model(s) (each loads in the background; predictions wait for it)"


def run(config: ServeConfig) -> None:
    """Blocking entry point for the CLI."""
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    # uvloop when it is installed (uvicorn[standard] brings it): a faster event loop
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(config))
    else:
        uvloop.run(serve(config))
