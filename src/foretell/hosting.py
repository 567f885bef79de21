"""Bringing models up in the background, and admitting predictions made while they come up.

`foretell serve` listens at once. Each model is prepared on its own (environment built,
code imported, setup() run) while the others already serve. A prediction for a model that is
not described yet is stored as `starting` and waits here, like a cold boot on Replicate; once
the schema is known its input is checked and it is queued, or it fails with the reason.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import hashlib
import logging
import pathlib
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from foretell.admission import Admission
from foretell.core.ids import version_id
from foretell.core.models import Model
from foretell.core.prediction import Prediction
from foretell.core.status import Status
from foretell.core.times import timestamp, utcnow
from foretell.errors import InvalidRequest
from foretell.predictor.errors import PredictorLoadError
from foretell.queue import WorkItem, WorkQueue
from foretell.runner import ModelLoadError, Runner
from foretell.runner.environments import abort_builds, spec_for_directory
from foretell.runner.spec import WorkerState
from foretell.store.protocol import Store

log = logging.getLogger("foretell.hosting")

Progress = Callable[[str], None]
#: ends a stored prediction that never reached the runner (the dispatcher's end_unrun)
EndUnrun = Callable[[Prediction, Status, str | None], Awaitable[None]]
EXPIRED = "Prediction canceled: its Cancel-After deadline passed while the model was starting."


@dataclasses.dataclass
class _Bringup:
    """How far one model has come."""

    phase: str = "preparing"
    error: str | None = None
    since: datetime.datetime = dataclasses.field(default_factory=utcnow)
    ready_at: datetime.datetime | None = None
    #: the last line of the environment build's progress
    progress: str | None = None
    #: predictions (and the base URL they were made at) waiting for the schema
    waiting: dict[str, tuple[Prediction, str]] = dataclasses.field(default_factory=dict)


class ModelHost:
    """Owns the hosted models' lifecycle; `models` (the API's registry) lists every model."""

    def __init__(
        self,
        models: dict[str, Model],
        runner: Runner,
        store: Store,
        queue: WorkQueue,
        end_unrun: EndUnrun,
        admission: Admission,
        progress: Progress = print,
        env: dict[str, str] | None = None,
    ) -> None:
        self.models = models
        self.runner = runner
        self.store = store
        self.queue = queue
        self.end_unrun = end_unrun
        self.admission = admission
        self.progress = progress
        #: extra environment for every worker (a model's own cog.yaml settings win)
        self.env = env or {}
        self._bringups: dict[str, _Bringup] = {}
        #: bring-ups and deadline cancels in flight (each removes itself when done)
        self._tasks: set[asyncio.Task[Any]] = set()

    def start(self, models: dict[str, pathlib.Path]) -> None:
        """List every model now and bring each up in the background."""
        for name, path in models.items():
            owner, short = name.split("/", 1)
            self.models[name] = Model(
                owner,
                short,
                source_version(path, name),
                {},
                utcnow(),
                description=description(path),
                readme=readme(path),
                runner_name=name,
                default_example=None,
            )
            self._bringups[name] = _Bringup()
            self._track(asyncio.create_task(self._bring_up(name, path)))

    async def close(self) -> None:
        """Stop bringing models up (a half-built environment is rebuilt next time)."""
        abort_builds()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def status(self, name: str) -> dict[str, Any]:
        """The model's setup state as the models API shows it."""
        bringup = self._bringups.get(name)
        if bringup is None:
            return {"status": "unknown"}
        phase, error = bringup.phase, bringup.error
        if phase == "described":
            info = self.runner.state_info(name)
            phase, error = info.state.value, info.error
        return {
            "status": phase,
            "error": error,
            "started_at": timestamp(bringup.since),
            "ready_at": timestamp(bringup.ready_at),
            "waiting_predictions": len(bringup.waiting),
            "progress": bringup.progress if phase == "preparing" else None,
        }

    async def defer(self, prediction: Prediction, base: str) -> None:
        """Queue a stored prediction once its model is described (now, if it already is);
        fail it if the model could not start."""
        bringup = self._bringups[prediction.model]
        if bringup.phase == "setup_failed":
            await self._fail(prediction, bringup.error or "")
            return
        bringup.waiting[prediction.id] = (prediction, base)
        if bringup.phase == "described":
            await self._admit(bringup, prediction, base)
        elif prediction.deadline is not None:
            delay = max(0.0, (prediction.deadline - utcnow()).total_seconds())
            asyncio.get_running_loop().call_later(delay, self._expire, prediction.id)

    async def cancel_waiting(self, prediction_id: str, reason: str | None = None) -> bool:
        """Cancel a prediction still waiting for its model; False if none is waiting."""
        for bringup in self._bringups.values():
            found = bringup.waiting.pop(prediction_id, None)
            if found is not None:
                await self.end_unrun(found[0], Status.CANCELED, reason)
                return True
        return False

    def _expire(self, prediction_id: str) -> None:
        """Cancel-After passed while the prediction waited (a no-op once it was queued:
        the dispatcher keeps the deadline from then on)."""
        task = asyncio.create_task(self.cancel_waiting(prediction_id, EXPIRED))
        self._track(task)

    def _track(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def waiting_note(self, name: str) -> str:
        """The log line a waiting prediction shows ("" if the model is not starting)."""
        bringup = self._bringups[name]
        if bringup.phase not in ("preparing", "starting"):
            return ""
        doing = "building its environment" if bringup.phase == "preparing" else "loading"
        return (
            f"Waiting for {name} to start ({doing} since {timestamp(bringup.since)}); "
            "this prediction runs as soon as it is ready.\n"
        )

    async def _bring_up(self, name: str, path: pathlib.Path) -> None:
        bringup = self._bringups[name]
        started = asyncio.get_running_loop().time()

        def progress(line: str) -> None:
            bringup.progress = line.strip()
            self.progress(f"[{name}] {line.strip()}")

        try:
            spec = await asyncio.to_thread(spec_for_directory, path, name, progress)
            spec = dataclasses.replace(spec, env={**self.env, **spec.env})
            bringup.phase = "starting"
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
            default_example=default_example(path, name, model.version),
        )
        bringup.phase = "described"
        elapsed = asyncio.get_running_loop().time() - started
        self.progress(f"  {name}:{model.version} imported in {elapsed:.1f} s; running setup()")
        for prediction, base in list(bringup.waiting.values()):
            await self._admit(bringup, prediction, base)
        settled = await self.runner.wait_ready(name)
        if settled in (WorkerState.READY, WorkerState.BUSY):
            bringup.ready_at = utcnow()
        elapsed = asyncio.get_running_loop().time() - started
        self.progress(f"  {name} is {settled.value} ({elapsed:.1f} s after the server started)")

    async def _failed(self, name: str, error: str) -> None:
        bringup = self._bringups[name]
        bringup.phase, bringup.error = "setup_failed", error
        log.error("model %s can't be served: %s", name, error)
        self.progress(f"ERROR: model {name} can't be served: {error}")
        waiting, bringup.waiting = bringup.waiting, {}
        for prediction, _ in waiting.values():
            await self._fail(prediction, error)

    async def _fail(self, prediction: Prediction, error: str) -> None:
        message = f"The model {prediction.model} could not start: {error}"
        await self.end_unrun(prediction, Status.FAILED, message)

    async def _admit(self, bringup: _Bringup, prediction: Prediction, base: str) -> None:
        """Check a waiting prediction's input now that the schema is known, then queue it."""
        if bringup.waiting.pop(prediction.id, None) is None:
            return  # canceled meanwhile
        model = self.models[prediction.model]
        try:
            plan = await self.admission.plan_files(
                prediction.account, model, prediction.input, base
            )
        except InvalidRequest as exc:
            problems = "; ".join(f"{f.field}: {f.description}" for f in exc.fields)
            error = f"Invalid input (checked once the model had started): {problems}"
            await self.end_unrun(prediction, Status.FAILED, error)
            return
        waited = (utcnow() - prediction.created_at).total_seconds()
        ready = dataclasses.replace(
            prediction,
            iterator=model.is_iterator,
            logs=prediction.logs + f"The model was ready after {waited:.1f} s.\n",
        )
        await self.store.save_prediction(ready)
        await self.queue.put(WorkItem(ready, model.runner_name, plan.local, tuple(plan.remote)))


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
