"""`foretell serve`: the API node and a runner in one process, meeting only through the
seam's engines (store, queue, bus, files), chosen from URLs (foretell.engines)."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import pathlib
import secrets
import socket
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace

import orjson
import uvicorn

from foretell.api import render
from foretell.api.app import create_app
from foretell.api.catalog import ModelCatalog
from foretell.api.service import PredictionService
from foretell.api.state import ApiState, Settings
from foretell.api.sweeper import Sweeper
from foretell.core.accounts import hash_token
from foretell.core.ids import api_token
from foretell.core.status import Status
from foretell.engines import MEMORY, EngineURLs, make_bus, make_files, make_queue, open_store
from foretell.files.urls import UrlSigner
from foretell.hosting import ModelHost
from foretell.outbound import GuardedClient, OutboundPolicy
from foretell.queue.protocol import WorkItem, WorkQueue
from foretell.retention import Retention
from foretell.runner import Runner
from foretell.runner.consumer import Consumer, owner_id
from foretell.runner.execution import ExecutionContext
from foretell.runner.live import LiveCopies
from foretell.shutdown import Server, Shutdown
from foretell.store.protocol import Store
from foretell.webhooks import Deliverer, Outbox, RetryPolicy

log = logging.getLogger("foretell")

DEFAULT_ACCOUNT = "local"
RESTARTED = (
    "The server restarted while this prediction was running, so its result was lost. Run it again."
)
SHUT_DOWN = (
    "The server shut down before this prediction finished (it ran past the shutdown grace "
    "period). Run it again."
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


def _signing_key(data_dir: pathlib.Path) -> bytes:
    """A per-data-dir secret for signed file URLs, created on first start."""
    path = data_dir / "url-signing.key"
    if not path.exists():
        path.write_bytes(secrets.token_bytes(32))
        path.chmod(0o600)
    return path.read_bytes()


async def create_token(store: Store, account: str) -> str:
    """A new API token for `account` (created if needed); only its hash is stored."""
    await store.ensure_account(account, account)
    token = api_token()
    await store.add_token(account, hash_token(token))
    return token


def thread_limits(threads: int | None) -> dict[str, str]:
    """The variables that cap the usual native thread pools (OpenMP, BLAS, torch, llama.cpp
    models that read OMP_NUM_THREADS) of each model's worker."""
    if threads is None:
        return {}
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
    return dict.fromkeys(names, str(threads))


def _progress(line: str) -> None:
    print(line, flush=True)


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


def _running(consumer: Consumer, grace_s: float) -> Callable[[], str]:
    def describe() -> str:
        count = consumer.running()
        if not count:
            return "no prediction is running"
        return f"waiting up to {grace_s:g} s for {count} running prediction(s) to finish"

    return describe


async def serve(config: ServeConfig) -> None:
    """Run until SIGINT or SIGTERM; then stop cleanly (see `foretell.shutdown`)."""
    # Resolved once: workers run with their model's directory as cwd.
    config = replace(config, data_dir=config.data_dir.resolve())
    config.data_dir.mkdir(parents=True, exist_ok=True)
    urls = EngineURLs.parse(config.data_dir, config.database, config.queue, config.files)
    store = open_store(urls.database)
    await store.open()
    if not config.settings.no_auth and await store.count_tokens() == 0:
        token = await create_token(store, DEFAULT_ACCOUNT)
        print(f"Created the first API token (shown once): {token}", flush=True)
    outbound = GuardedClient(OutboundPolicy(allow_private=config.allow_private_urls))
    try:
        async with Runner(scratch_dir=None) as runner:
            await _serve_with(config, urls, store, outbound, runner)
    finally:
        await outbound.close()
        await store.close()


async def _serve_with(
    config: ServeConfig, urls: EngineURLs, store: Store, outbound: GuardedClient, runner: Runner
) -> None:
    files = make_files(urls.files)
    queue = make_queue(urls.queue)
    bus = make_bus(urls.bus)
    signer = UrlSigner(_signing_key(config.data_dir), config.output_url_ttl_s)
    service = PredictionService(store, queue, bus)
    catalog = ModelCatalog(store)
    state = ApiState(
        store, queue, service, files, signer, config.settings, outbound, catalog
    )  # fmt: skip
    public = config.public_url or f"http://{config.host}:{config.port}"
    deliverer = Deliverer(store, outbound, config.webhook_retry)
    outbox = Outbox(
        store, lambda p: orjson.dumps(render.prediction(public, state, p)), deliverer.wake
    )
    service.webhooks = outbox
    copies = LiveCopies(store, outbox.wake)
    context = ExecutionContext(
        bus, copies, files, outbound, runner.scratch, state.admission, outbox
    )  # fmt: skip
    owner = owner_id(socket.gethostname(), os.getpid(), secrets.token_hex(4))
    host = ModelHost(
        runner, store, lambda name, error: consumer.model_failed(name, error), _progress,
        thread_limits(config.model_threads), on_publish=catalog.nudge,
    )  # fmt: skip
    consumer = Consumer(runner, queue, store, bus, context, owner, host.models.get)
    sweeper = Sweeper(service)
    service.on_deadline = sweeper.schedule
    retention = Retention(store, files, config.data_retention_s)
    await host.start(config.models)
    await catalog.refresh()
    catalog.start()
    outbox.start()
    deliverer.start()
    retention.start()
    shutdown = Shutdown(_progress, _running(consumer, config.shutdown_grace_s))
    shutdown.install()
    try:
        if urls.queue == MEMORY:  # this process is the data dir's only runner
            await _recover(store, service, queue, config.models, public)
        consumer.start()
        sweeper.start()
        await _serve_http(config, state, shutdown)
    finally:
        grace = shutdown.grace_left(config.shutdown_grace_s)
        await host.close()  # stops environment builds; what waits for them stays queued
        await sweeper.close()
        await consumer.drain(grace, SHUT_DOWN, shutdown.force)
        await consumer.close()
        await catalog.close()
        await outbox.close()
        await deliverer.close()
        await retention.close()
        shutdown.remove()


async def _serve_http(config: ServeConfig, state: ApiState, shutdown: Shutdown) -> None:
    app = create_app(state)
    server = Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            log_level="warning",
            lifespan="off",
            # requests still open (Prefer: wait) get the grace period too
            timeout_graceful_shutdown=int(config.shutdown_grace_s),
        )
    )
    shutdown.server = server
    url = f"http://{config.host}:{config.port}"

    def started() -> None:
        # what start-up made lives as long as the server: no collection need scan it again
        gc.freeze()
        print(
            f"foretell is serving {len(config.models)} model(s) at {url}"
            " (each loads in the background; predictions wait for it)\n"
            f"  playground {url}/ · API docs {url}/openapi.json · for agents {url}/llms.txt,"
            f" {url}/mcp",
            flush=True,
        )

    server.on_started = started
    async with app.state.mcp.running():  # /mcp's session manager (uvicorn's lifespan is off)
        await server.serve()


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
