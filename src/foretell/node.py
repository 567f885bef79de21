"""What every foretell process shares, whether it serves the API, runs models or both: the
engines it opened from URLs, and the parts that render and deliver webhooks.

`foretell serve` (foretell.server) and `foretell worker` (foretell.worker_node) are each a
composition of these with their own side (HTTP, or a runner).
"""

from __future__ import annotations

import pathlib
import secrets
from dataclasses import dataclass

import orjson

from foretell.api import render
from foretell.api.catalog import ModelCatalog
from foretell.api.service import PredictionService
from foretell.api.state import ApiState, Settings
from foretell.engines import EngineURLs, make_bus, make_files, make_queue, open_store
from foretell.files.protocol import FileStore
from foretell.files.urls import UrlSigner
from foretell.metrics import Metrics
from foretell.outbound import GuardedClient
from foretell.queue.protocol import WorkQueue
from foretell.store.protocol import Store
from foretell.streaming.bus import EventBus
from foretell.webhooks import Deliverer, Outbox, RetryPolicy

#: the name of the shared secret that signs file URLs, in a cluster's database
URL_SIGNING_SECRET = "url-signing"  # noqa: S105 (its name, not the secret)


@dataclass
class Engines:
    """The four engines of one process, opened."""

    urls: EngineURLs
    store: Store
    queue: WorkQueue
    bus: EventBus
    files: FileStore

    @classmethod
    async def open(cls, urls: EngineURLs) -> Engines:
        store = open_store(urls.database)
        await store.open()
        bus = make_bus(urls.bus)
        open_bus = getattr(bus, "open", None)  # a shared bus follows cancel requests from now
        if open_bus is not None:
            await open_bus()
        return cls(urls, store, make_queue(urls.queue), bus, make_files(urls.files))

    async def close(self) -> None:
        for engine in (self.bus, self.queue, self.files):
            close = getattr(engine, "close", None)  # the in-process ones hold nothing
            if close is not None:
                await close()
        await self.store.close()

    @property
    def embedded(self) -> bool:
        """Whether the database is the embedded one (one machine: its data dir holds keys)."""
        return self.urls.database.startswith("sqlite:")


async def signing_key(engines: Engines, data_dir: pathlib.Path) -> bytes:
    """The secret that signs file URLs: every node of a cluster must sign alike, so it lives
    in the shared database; the embedded shape keeps it in its data dir, as it always has."""
    if not engines.embedded:
        return await engines.store.shared_secret(URL_SIGNING_SECRET)
    path = data_dir / "url-signing.key"
    if not path.exists():
        path.write_bytes(secrets.token_bytes(32))
        path.chmod(0o600)
    return path.read_bytes()


@dataclass
class Node:
    """The parts both kinds of process run: the API's view (for rendering webhook bodies and
    checking inputs), the outbox and the webhook deliverer."""

    engines: Engines
    state: ApiState
    outbox: Outbox
    deliverer: Deliverer
    #: this process's metrics (GET /metrics), counted by the service, runner and deliverer
    metrics: Metrics

    @classmethod
    async def build(
        cls,
        engines: Engines,
        data_dir: pathlib.Path,
        outbound: GuardedClient,
        public_url: str,
        settings: Settings,
        output_url_ttl_s: float,
        retry: RetryPolicy,
    ) -> Node:
        signer = UrlSigner(await signing_key(engines, data_dir), output_url_ttl_s)
        store = engines.store
        service = PredictionService(store, engines.queue, engines.bus)
        catalog = ModelCatalog(store)
        state = ApiState(
            store, engines.queue, service, engines.files, signer, settings, outbound, catalog
        )
        deliverer = Deliverer(store, outbound, retry)
        outbox = Outbox(
            store,
            lambda p: orjson.dumps(render.prediction(public_url, state, p)),
            deliverer.wake,
        )
        service.webhooks = outbox
        metrics = Metrics()
        service.metrics = deliverer.metrics = metrics
        return cls(engines, state, outbox, deliverer, metrics)

    async def start(self) -> None:
        await self.state.catalog.refresh()
        self.state.catalog.start()
        self.outbox.start()
        self.deliverer.start()

    async def close(self) -> None:
        await self.state.catalog.close()
        await self.outbox.close()
        await self.deliverer.close()
