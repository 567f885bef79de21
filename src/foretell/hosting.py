"""Bringing models up in the background on this runner, publishing how far each has come.

`foretell serve` listens at once. Each model is prepared on its own (environment built,
code imported, setup() run) while the others already serve. A prediction for a model that is
not described yet waits in the queue, like a cold boot on Replicate: the runner claims it
once the model has a free slot, checks its input then, and runs it; if the model can't
start, what waits for it fails with the reason.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import hashlib
import logging
import pathlib
import socket
from collections.abc import Callable
from typing import Any

import orjson

from foretell.core.ids import version_id
from foretell.core.models import Model, SetupStatus
from foretell.core.times import utcnow
from foretell.core.versions import TRAINER_SUFFIX
from foretell.predictor.config import load_config
from foretell.predictor.errors import PredictorLoadError
from foretell.registry import RegistryPublisher
from foretell.runner import ModelLoadError, Runner
from foretell.runner.environments import abort_builds, spec_for_directory
from foretell.runner.spec import WorkerState
from foretell.store.protocol import Store

log = logging.getLogger("foretell.hosting")

Progress = Callable[[str], None]
#: told of a model that can't start, with the reason (the consumer fails its work)
ModelFailed = Callable[[str, str], None]


def _ignore(_: Any) -> None:
    return None


@dataclasses.dataclass(frozen=True)
class BringupHooks:
    """What a caller of ModelHost.add hears of its model's bring-up (a pushed version's
    build is reported back to its pusher through these)."""

    #: each line of the environment build's progress
    progress: Callable[[str], None] = _ignore
    #: the model imported: its schema
    described: Callable[[dict[str, Any]], None] = _ignore
    #: it can't be served: why
    failed: Callable[[str], None] = _ignore


@dataclasses.dataclass
class _Bringup:
    """How far one model has come."""

    path: pathlib.Path
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    hooks: BringupHooks = dataclasses.field(default_factory=BringupHooks)
    #: a trainer's `train:` ref (None: the model's predictor)
    train_ref: str | None = None
    phase: str = "preparing"
    error: str | None = None
    since: datetime.datetime = dataclasses.field(default_factory=utcnow)
    ready_at: datetime.datetime | None = None
    #: the last line of the environment build's progress
    progress: str | None = None


class ModelHost:
    """Owns the hosted models' lifecycle, and publishes each one's record (its version,
    schema and setup state) into the store's model registry, where the API reads it."""

    def __init__(
        self,
        runner: Runner,
        store: Store,
        model_failed: ModelFailed,
        progress: Progress = print,
        env: dict[str, str] | None = None,
        *,
        node: str | None = None,
        on_publish: Callable[[], None] | None = None,
    ) -> None:
        #: the hosted models (this runner's own copy; the API reads the registry)
        self.models: dict[str, Model] = {}
        self.runner = runner
        self.store = store
        self.model_failed = model_failed
        self.progress = progress
        #: extra environment for every worker (a model's own cog.yaml settings win)
        self.env = env or {}
        self._bringups: dict[str, _Bringup] = {}
        #: bring-ups and the registry's publisher (each removes itself when done)
        self._tasks: set[asyncio.Task[Any]] = set()
        #: writes the records; the node is the host name unless given (the same across
        #: restarts, so a restart removes the records of models it no longer hosts)
        self.publisher = RegistryPublisher(
            store, node or socket.gethostname(), self._current, on_publish=on_publish,
            accelerators=tuple(a.name for a in runner.accelerators.accelerators),
        )  # fmt: skip

    async def start(self, models: dict[str, pathlib.Path]) -> None:
        """Publish every model now (as preparing) and bring each up in the background."""
        for name, path in models.items():
            owner, short = name.split("/", 1)
            self._bringups[name] = _Bringup(path=path)
            self.models[name] = Model(
                owner, short, source_version(path, name), {}, utcnow(),
                description=description(path), readme=readme(path), runner_name=name,
            )  # fmt: skip
            self._add_trainer(self.models[name], path)
        await self.publisher.forget_others(list(self._bringups))
        for name in self._bringups:
            await self.publisher.publish(name)
        for name in list(self._bringups):
            self._track(asyncio.create_task(self._bring_up(name)))
        # the worker's ready/busy/defunct changes, and build progress, are polled
        self._track(asyncio.create_task(self.publisher.run(lambda: list(self._bringups))))

    async def add(
        self,
        model: Model,
        path: pathlib.Path,
        *,
        env: dict[str, str] | None = None,
        hooks: BringupHooks | None = None,
    ) -> asyncio.Task[None]:
        """Host one more model (a pushed version) under `model.runner_name`, brought up in the
        background like the others; the task ends once it is described (or failed)."""
        name = model.runner_name
        self._bringups[name] = _Bringup(path=path, env=env or {}, hooks=hooks or BringupHooks())
        self.models[name] = model
        trainer = self._add_trainer(model, path, env)
        for unit in (name, trainer):
            if unit is not None:
                await self.publisher.publish(unit)
        if trainer is not None:
            self._track(asyncio.create_task(self._bring_up(trainer)))
        task = asyncio.create_task(self._bring_up(name))
        self._track(task)
        return task

    def _add_trainer(
        self, model: Model, path: pathlib.Path, env: dict[str, str] | None = None
    ) -> str | None:
        """Host the model's trainer too (cog.yaml's `train:`), as `<name>#train`: trainings
        run there like predictions on a model of their own."""
        ref = trainer_ref(path)
        if ref is None:
            return None
        name = model.runner_name + TRAINER_SUFFIX
        self._bringups[name] = _Bringup(path=path, env=dict(env or {}), train_ref=ref)
        self.models[name] = dataclasses.replace(model, runner_name=name, openapi_schema={})
        return name

    async def remove(self, name: str) -> None:
        """Stop hosting `name` (a deleted version) and its trainer: their instances stop,
        their records go."""
        for unit in (name, name + TRAINER_SUFFIX):
            if self._bringups.pop(unit, None) is not None:
                self.models.pop(unit, None)
                await self.runner.remove_model(unit)
                await self.store.remove_model(unit)

    async def close(self) -> None:
        """Stop bringing models up (a half-built environment is rebuilt next time)."""
        abort_builds()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def setup(self, name: str) -> SetupStatus:
        """How far the model has come, as this runner publishes it."""
        bringup = self._bringups[name]
        phase, error = bringup.phase, bringup.error
        if phase == "described":
            info = self.runner.state_info(name)
            phase, error = info.state.value, info.error
        progress = bringup.progress if phase == "preparing" else None
        return SetupStatus(phase, error, bringup.since, bringup.ready_at, progress)

    def _current(self, name: str) -> tuple[Model, SetupStatus]:
        return self.models[name], self.setup(name)

    def _track(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _bring_up(self, name: str) -> None:
        bringup = self._bringups[name]
        path = bringup.path
        started = asyncio.get_running_loop().time()

        def progress(line: str) -> None:
            bringup.progress = line.strip()
            self.progress(f"[{name}] {line.strip()}")
            bringup.hooks.progress(line.strip())

        try:
            spec = await asyncio.to_thread(spec_for_directory, path, name, progress)
            spec = dataclasses.replace(spec, env={**self.env, **spec.env, **bringup.env})
            if bringup.train_ref is not None:
                spec = dataclasses.replace(spec, ref=bringup.train_ref, mode="train")
            bringup.phase = "starting"
            await self.publisher.publish(name)
            await self.runner.add_model(spec)
            schema = await self.runner.wait_described(name)
        except (PredictorLoadError, ModelLoadError) as exc:
            await self._failed(name, str(exc))
            return
        except Exception as exc:  # a bug must not leave predictions waiting forever
            log.exception("bringing up %s failed", name)
            await self._failed(name, f"{type(exc).__name__}: {exc}")
            return
        model = self.models[name]
        self.models[name] = dataclasses.replace(
            model,
            openapi_schema=schema,
            default_example=default_example(path, model.full_name, model.version),
        )
        bringup.phase = "described"
        await self.publisher.publish(name)
        elapsed = asyncio.get_running_loop().time() - started
        self.progress(f"  {name}:{model.version} imported in {elapsed:.1f} s; running setup()")
        bringup.hooks.described(schema)
        settled = await self.runner.wait_ready(name)
        if settled in (WorkerState.READY, WorkerState.BUSY):
            bringup.ready_at = utcnow()
        await self.publisher.publish(name)
        elapsed = asyncio.get_running_loop().time() - started
        self.progress(f"  {name} is {settled.value} ({elapsed:.1f} s after the server started)")

    async def _failed(self, name: str, error: str) -> None:
        bringup = self._bringups[name]
        bringup.phase, bringup.error = "setup_failed", error
        await self.publisher.publish(name)
        log.error("model %s can't be served: %s", name, error)
        self.progress(f"ERROR: model {name} can't be served: {error}")
        self.model_failed(name, error)
        bringup.hooks.failed(error)


def source_version(path: pathlib.Path, name: str) -> str:
    """A version id from the model's code and build config: known before anything runs,
    the same across restarts, new when the code changes (Cog's is the image digest)."""
    digest = hashlib.sha256()
    files = [path / "cog.yaml", *sorted(path.rglob("*.py"))]
    for file in files:
        relative = file.relative_to(path)
        if any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
            continue
        if file.is_file():
            digest.update(str(relative).encode() + b"\0" + file.read_bytes() + b"\0")
    return version_id(digest.digest(), name)


def trainer_ref(path: pathlib.Path) -> str | None:
    """cog.yaml's `train:` (None without one, or when the config can't be read: bringing up
    the predictor then says why)."""
    try:
        return load_config(path).train
    except PredictorLoadError:
        return None


def readme(path: pathlib.Path) -> str | None:
    """The model's README.md, if it has one."""
    file = path / "README.md"
    return file.read_text(errors="replace") if file.is_file() else None


def description(path: pathlib.Path) -> str | None:
    """The first paragraph of the model's README.md, as Replicate shows a description."""
    for paragraph in (readme(path) or "").split("\n\n"):
        text = " ".join(paragraph.split())
        if text and not text.startswith(("#", "```", "|", "<")):
            return text
    return None


def default_example(path: pathlib.Path, name: str, version: str) -> dict[str, Any] | None:
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
