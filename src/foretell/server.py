"""`foretell serve`: the API, the runner and the dispatcher in one process (embedded shape)."""

from __future__ import annotations

import asyncio
import logging
import os
import pathlib
import secrets
from dataclasses import dataclass, field

import orjson
import uvicorn

from foretell.api import render
from foretell.api.app import create_app
from foretell.api.state import ApiState, Settings
from foretell.core.accounts import hash_token
from foretell.core.ids import api_token
from foretell.core.prediction import finish, utcnow
from foretell.core.status import Status
from foretell.files.local import LocalFiles
from foretell.files.urls import UrlSigner
from foretell.hosting import ModelHost
from foretell.outbound import GuardedClient, OutboundPolicy
from foretell.queue import MemoryQueue
from foretell.runner import Runner
from foretell.runner.dispatch import Dispatcher
from foretell.store.sqlite import SQLiteStore
from foretell.streaming.hub import StreamHub
from foretell.webhooks import Deliverer, Outbox, RetryPolicy

log = logging.getLogger("foretell")

DEFAULT_ACCOUNT = "local"
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


def _signing_key(data_dir: pathlib.Path) -> bytes:
    """A per-data-dir secret for signed file URLs, created on first start."""
    path = data_dir / "url-signing.key"
    if not path.exists():
        path.write_bytes(secrets.token_bytes(32))
        path.chmod(0o600)
    return path.read_bytes()


async def create_token(store: SQLiteStore, account: str) -> str:
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


async def _recover(state: ApiState, host: ModelHost, base: str) -> None:
    """Requeue what never started; fail what was running when the server died."""
    for prediction in await state.store.unfinished_predictions():
        model = state.model(prediction.model)
        if prediction.status is Status.STARTING and model is not None:
            await host.defer(prediction, base)  # queued again once its model is described
            continue
        reason = (
            RESTARTED if model is not None else f"The model {prediction.model} is no longer served."
        )
        await state.store.save_prediction(finish(prediction, Status.FAILED, utcnow(), error=reason))


async def serve(config: ServeConfig) -> None:
    """Run until interrupted."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    store = SQLiteStore(config.data_dir / "foretell.db")
    await store.open()
    if not config.settings.no_auth and await store.count_tokens() == 0:
        token = await create_token(store, DEFAULT_ACCOUNT)
        print(f"Created the first API token (shown once): {token}", flush=True)
    files = LocalFiles(config.data_dir / "files")
    outbound = GuardedClient(OutboundPolicy(allow_private=config.allow_private_urls))
    async with Runner(scratch_dir=None) as runner:
        dispatcher = Dispatcher(runner, store, files, outbound)
        queue = MemoryQueue()
        hub = StreamHub()
        dispatcher.event_listeners.append(hub.publish)
        state = ApiState(
            store,
            queue,
            dispatcher,
            files,
            UrlSigner(_signing_key(config.data_dir), config.output_url_ttl_s),
            config.settings,
            hub,
            outbound,
        )
        host = ModelHost(state, _progress, thread_limits(config.model_threads))
        state.host = host
        host.start(config.models)
        public = config.public_url or f"http://{config.host}:{config.port}"
        deliverer = Deliverer(store, outbound, config.webhook_retry)
        outbox = Outbox(
            store, lambda p: orjson.dumps(render.prediction(public, state, p)), deliverer.wake
        )
        dispatcher.change_listeners.append(outbox.on_change)
        outbox.start()
        deliverer.start()
        dispatcher.start(queue)
        await _recover(state, host, public)
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(state),
                host=config.host,
                port=config.port,
                log_level="warning",
                lifespan="off",
            )
        )
        print(
            f"foretell is serving {len(state.models)} model(s) at http://{config.host}:{config.port}"
            " (each loads in the background; predictions wait for it)",
            flush=True,
        )
        try:
            await server.serve()
        finally:
            await host.close()
            await dispatcher.close()
            await outbox.close()
            await deliverer.close()
    await outbound.close()
    await store.close()


def run(config: ServeConfig) -> None:
    """Blocking entry point for the CLI."""
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(serve(config))
