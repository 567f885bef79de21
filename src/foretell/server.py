"""`foretell serve`: the API, the runner and the dispatcher in one process (embedded shape)."""

from __future__ import annotations

import asyncio
import logging
import os
import pathlib
import secrets
import urllib.parse
from dataclasses import dataclass, field

import orjson
import uvicorn

from foretell.api import render
from foretell.api.app import create_app
from foretell.api.state import ApiState, Settings
from foretell.core.accounts import hash_token
from foretell.core.ids import api_token, version_id
from foretell.core.models import Model
from foretell.core.prediction import Prediction, finish, utcnow
from foretell.core.status import Status
from foretell.files.local import LocalFiles
from foretell.files.urls import UrlSigner
from foretell.outbound import GuardedClient, OutboundPolicy
from foretell.predictor.errors import PredictorLoadError
from foretell.queue import MemoryQueue, WorkItem
from foretell.runner import ModelLoadError, Runner
from foretell.runner.dispatch import Dispatcher
from foretell.runner.environments import spec_for_directory
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


async def _host_models(runner: Runner, models: dict[str, pathlib.Path]) -> dict[str, Model]:
    """Start a worker per model and read each schema; a model that can't load is skipped."""
    hosted: dict[str, Model] = {}
    started = []
    for name, path in models.items():
        try:
            spec = await asyncio.to_thread(spec_for_directory, path, name, _progress)
        except PredictorLoadError as exc:
            log.error("model %s can't be served: %s", name, exc)
            print(f"ERROR: model {name} can't be served: {exc}", flush=True)
            continue
        await runner.add_model(spec)
        started.append(name)
    for name in started:
        try:
            schema = await runner.wait_described(name)
        except ModelLoadError as exc:
            log.error("model %s can't be served: %s", name, exc)
            continue
        owner, short = name.split("/", 1)
        digest = version_id(orjson.dumps(schema, option=orjson.OPT_SORT_KEYS), name)
        example = _default_example(models[name], name, digest)
        hosted[name] = Model(
            owner, short, digest, schema, utcnow(), runner_name=name, default_example=example
        )
    return hosted


def _default_example(path: pathlib.Path, name: str, version: str) -> dict[str, object] | None:
    """The model's `example.json` ({"input": {...}}) as a Replicate default_example."""
    file = path / "example.json"
    if not file.is_file():
        return None
    try:
        example = orjson.loads(file.read_bytes())
    except orjson.JSONDecodeError as exc:
        log.error("%s: invalid JSON (%s); no default example", file, exc)
        return None
    return {
        "id": f"example-{name.replace('/', '-')}",
        "model": name,
        "version": version,
        "input": example.get("input", {}),
        "output": example.get("output"),
        "status": "succeeded",
        "logs": "",
        "error": None,
        "urls": {},
    }


def _progress(line: str) -> None:
    print(line, flush=True)


async def _recover(state: ApiState) -> None:
    """Requeue what never started; fail what was running when the server died."""
    for prediction in await state.store.unfinished_predictions():
        model = state.model(prediction.model)
        if prediction.status is Status.STARTING and model is not None:
            await state.queue.put(await _work_item(state, prediction, model))
            continue
        reason = (
            RESTARTED if model is not None else f"The model {prediction.model} is no longer served."
        )
        await state.store.save_prediction(finish(prediction, Status.FAILED, utcnow(), error=reason))


async def _work_item(state: ApiState, prediction: Prediction, model: Model) -> WorkItem:
    """Rebuild the file-input plan of a queued prediction after a restart."""
    local, remote = {}, []
    for _, url in model.file_urls(prediction.input):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme == "data":
            continue
        if parts.path.startswith("/v1/files/"):
            record = await state.store.get_file(prediction.account, parts.path.split("/")[3])
            if record is not None:
                local[url] = record.path
                continue
        remote.append(url)
    return WorkItem(prediction, model.runner_name, local, tuple(remote))


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
            await _host_models(runner, config.models),
        )
        public = config.public_url or f"http://{config.host}:{config.port}"
        deliverer = Deliverer(store, outbound, config.webhook_retry)
        outbox = Outbox(
            store, lambda p: orjson.dumps(render.prediction(public, state, p)), deliverer.wake
        )
        dispatcher.change_listeners.append(outbox.on_change)
        outbox.start()
        deliverer.start()
        dispatcher.start(queue)
        await _recover(state)
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
            f"foretell is serving {len(state.models)} model(s) at http://{config.host}:{config.port}",
            flush=True,
        )
        for model in state.models.values():
            print(f"  {model.full_name}:{model.version}", flush=True)
        try:
            await server.serve()
        finally:
            await dispatcher.close()
            await outbox.close()
            await deliverer.close()
    await outbound.close()
    await store.close()


def run(config: ServeConfig) -> None:
    """Blocking entry point for the CLI."""
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(serve(config))
