"""One hosted model: its worker process, slots, FIFO queue, cancellation and restarts."""

from __future__ import annotations

import asyncio
import collections
import pathlib
import shutil
import time

from foretell.core.events import (
    Cancel,
    Described,
    Done,
    LoadFailed,
    Log,
    Message,
    Predict,
    Setup,
    SetupDone,
    Started,
)
from foretell.runner.errors import ModelLoadError
from foretell.runner.handle import PredictionHandle
from foretell.runner.process import WorkerProcess, describe_exit
from foretell.runner.restarts import RestartPolicy
from foretell.runner.spec import ModelSpec, PredictionRequest, StateInfo, WorkerState

_SETTLED = (WorkerState.READY, WorkerState.BUSY, WorkerState.SETUP_FAILED, WorkerState.DEFUNCT)
_LOG_LIMIT = 64_000


#: the capacity of a model that can't run: whatever waits for it is failed at once
UNBOUNDED = 1 << 30


class HostedModel:
    """Owns one worker process for a model and feeds it predictions in order."""

    def __init__(self, spec: ModelSpec, runner_scratch: pathlib.Path) -> None:
        self.spec = spec
        self.scratch = runner_scratch / spec.name.replace("/", "--")
        self.scratch.mkdir(parents=True, exist_ok=True)
        self.state = WorkerState.STARTING
        self.error: str | None = None
        self.setup_logs = ""
        #: output of the worker outside any prediction after setup (and fd-level output of
        #: concurrent predictions, which can't be attributed)
        self.worker_logs = ""
        self.schema: dict[str, object] | None = None
        self.slots = 1
        self.queue: collections.deque[tuple[PredictionRequest, PredictionHandle]] = (
            collections.deque()
        )
        self.running: dict[str, PredictionHandle] = {}
        self.cancel_requested: set[str] = set()
        self._cancel_timers: dict[str, asyncio.TimerHandle] = {}
        self._dispatched_at: dict[str, float] = {}
        self._restarts = RestartPolicy(spec.max_restarts, spec.restart_window_s)
        #: why the runner killed the worker itself (then its exit is no crash)
        self._kill_reason: str | None = None
        self._setting_up = True
        self._process: WorkerProcess | None = None
        self._described: asyncio.Future[dict[str, object]] = (
            asyncio.get_running_loop().create_future()
        )
        self._settled = asyncio.Event()
        self._defer_setup = False
        self._closing = False

    # ---- lifecycle ---------------------------------------------------------------------

    async def start(self, *, defer_setup: bool = False) -> None:
        """Spawn the worker; setup() starts once it has described the model (unless deferred)."""
        self._defer_setup = defer_setup
        await self._spawn()

    async def _spawn(self) -> None:
        self._set_state(WorkerState.STARTING)
        self.setup_logs = ""
        self._setting_up = True
        self._kill_reason = None
        self._process = WorkerProcess(self.spec, self.scratch, self._on_message, self._on_exit)
        await self._process.start()

    def start_setup(self) -> None:
        """Let a deferred setup() begin."""
        self._defer_setup = False
        if (
            self.schema is not None
            and self._process is not None
            and self.state is WorkerState.STARTING
        ):
            self._process.send(Setup(self.spec.weights))

    async def described(self) -> dict[str, object]:
        """The model's schema, once the worker has imported it; raises ModelLoadError."""
        return await asyncio.shield(self._described)

    async def settled(self) -> WorkerState:
        """Wait until the model is ready (or has failed for good)."""
        while self.state not in _SETTLED:
            self._settled.clear()
            await self._settled.wait()
        return self.state

    async def close(self) -> None:
        """Stop the worker; whatever is queued or running fails with a clear reason."""
        self._closing = True
        reason = "The server shut down before this prediction finished."
        self._kill_reason = reason  # if the worker must be killed, that's why
        self._fail_queued(reason)
        if self._process is not None:
            # what still runs now fails whatever the worker does (the grace period, if any,
            # is over): no point waiting for a busy worker to read its Shutdown
            await self._process.stop(timeout=0.0 if self.running else 5.0)
        self._fail_running(reason)
        shutil.rmtree(self.scratch, ignore_errors=True)

    def info(self) -> StateInfo:
        """The state with its details."""
        return StateInfo(
            state=self.state,
            error=self.error,
            setup_logs=self.setup_logs,
            restarts=self._restarts.count,
            queued=len(self.queue),
            running=len(self.running),
            pid=self._process.pid if self._process else None,
            worker_logs=self.worker_logs,
        )

    # ---- predictions -------------------------------------------------------------------

    def capacity(self) -> int:
        """How many predictions it can take now (queued here or running): its slots once
        it runs, none while it starts; unbounded when it can't run (they fail at once)."""
        if self.state in (WorkerState.SETUP_FAILED, WorkerState.DEFUNCT):
            return UNBOUNDED
        if self.state in (WorkerState.READY, WorkerState.BUSY):
            return self.slots
        return 0

    def submit(self, request: PredictionRequest) -> PredictionHandle:
        """Queue a prediction (FIFO); it fails at once if the model can't run."""
        handle = PredictionHandle(request.id)
        if self.state in (WorkerState.SETUP_FAILED, WorkerState.DEFUNCT):
            handle.deliver(Done(request.id, "failed", error=self._unavailable()))
            return handle
        self.queue.append((request, handle))
        self._dispatch()
        return handle

    def cancel(self, prediction_id: str) -> bool:
        """Cancel a queued or running prediction; False if this model doesn't have it."""
        for index, (request, handle) in enumerate(self.queue):
            if request.id == prediction_id:
                del self.queue[index]
                handle.deliver(Done(prediction_id, "canceled", metrics={"predict_time": 0.0}))
                return True
        if prediction_id not in self.running or self._process is None:
            return False
        if prediction_id not in self.cancel_requested:
            self.cancel_requested.add(prediction_id)
            self._process.send(Cancel(prediction_id))
            loop = asyncio.get_running_loop()
            self._cancel_timers[prediction_id] = loop.call_later(
                self.spec.cancel_grace_s, self._force_cancel, prediction_id
            )
        return True

    def _force_cancel(self, prediction_id: str) -> None:
        """The model ignored the cancel: kill the worker; the prediction ends canceled."""
        if prediction_id in self.running and self._process is not None:
            self._kill_reason = (
                f"The model's process was restarted: prediction {prediction_id} ignored its "
                f"cancel for {self.spec.cancel_grace_s:g} s, and this one ran in the same process."
            )
            self._process.kill()

    def _dispatch(self) -> None:
        process = self._process
        while (
            process is not None
            and self.state is WorkerState.READY
            and self.queue
            and len(self.running) < self.slots
        ):
            request, handle = self.queue.popleft()
            self.running[request.id] = handle
            self._dispatched_at[request.id] = time.monotonic()
            process.send(
                Predict(
                    request.id,
                    request.input,
                    str(request.output_dir),
                    request.allow_local_files,
                    request.context,
                    request.local_files,
                )
            )
            # The slot is free, so the worker starts it now: Started is the runner's to say
            # (the worker doesn't send it, which saves a wake-up per prediction).
            handle.deliver(Started(request.id))
            if len(self.running) >= self.slots:
                self._set_state(WorkerState.BUSY)

    # ---- worker messages ---------------------------------------------------------------

    def _on_message(self, message: Message) -> None:
        prediction_id = getattr(message, "id", None)
        if isinstance(message, Log) and prediction_id is None:
            if self._setting_up:
                self.setup_logs = (self.setup_logs + message.text)[-_LOG_LIMIT:]
            else:
                self.worker_logs = (self.worker_logs + message.text)[-_LOG_LIMIT:]
        elif prediction_id is not None and prediction_id in self.running:
            self.running[prediction_id].deliver(message)
            if isinstance(message, Done):
                self._finished(prediction_id)
        elif isinstance(message, Described):
            self._on_described(message)
        elif isinstance(message, SetupDone):
            self._on_setup_done(message)
        elif isinstance(message, LoadFailed):
            self._give_up(WorkerState.SETUP_FAILED, message.error)

    def _on_described(self, message: Described) -> None:
        self.schema = message.schema
        if not self._described.done():
            self._described.set_result(message.schema)
        if message.is_async:
            self.slots = max(self.spec.max_concurrency, message.max_concurrency_hint or 1)
        elif self.spec.max_concurrency > 1:
            self._give_up(
                WorkerState.SETUP_FAILED,
                f"concurrency.max is {self.spec.max_concurrency}, but a concurrency above 1 "
                "needs an async predict()/run(); make it `async def` or set concurrency.max: 1",
            )
            return
        if not self._defer_setup and self._process is not None:
            self._process.send(Setup(self.spec.weights))

    def _on_setup_done(self, message: SetupDone) -> None:
        self._setting_up = False
        if message.ok:
            self.error = None
            self._set_state(WorkerState.READY)
            self._dispatch()
        else:
            self._give_up(WorkerState.SETUP_FAILED, message.error or "setup() failed")

    def _finished(self, prediction_id: str) -> None:
        self.running.pop(prediction_id, None)
        self._dispatched_at.pop(prediction_id, None)
        self.cancel_requested.discard(prediction_id)
        timer = self._cancel_timers.pop(prediction_id, None)
        if timer is not None:
            timer.cancel()
        if self.state is WorkerState.BUSY:
            self._set_state(WorkerState.READY)
        self._dispatch()

    def _on_exit(self, process: WorkerProcess, code: int) -> None:
        if process is not self._process:
            return
        self._process = None
        if not self._described.done():
            tail = process.stderr_tail.decode(errors="replace").strip()
            detail = f": {tail.splitlines()[-1]}" if tail else ""
            self._give_up(
                WorkerState.SETUP_FAILED,
                f"The model's process exited ({describe_exit(code)}) before loading{detail}",
            )
            return
        if self._setting_up and not self._closing:  # no restart loop for a broken setup()
            self._give_up(
                WorkerState.SETUP_FAILED,
                f"The model's process exited ({describe_exit(code)}) during setup().",
            )
            return
        crash = self._kill_reason or (
            f"The model's process exited unexpectedly ({describe_exit(code)}) "
            "while running this prediction."
        )
        gave_up = self.state in (WorkerState.SETUP_FAILED, WorkerState.DEFUNCT)
        if not gave_up:
            self._set_state(WorkerState.STARTING)
        report = process.stderr_tail.decode(errors="replace")
        self._fail_running(crash, report if "Fatal Python error" in report else "")
        if not self._closing and not gave_up:
            self._restart_later(counts=self._kill_reason is None)

    def _restart_later(self, *, counts: bool) -> None:
        """Respawn after a backoff; a crash (not a kill of ours) counts toward defunct."""
        delay = self._restarts.crashed() if counts else 0.0
        if delay is None:
            self._give_up(WorkerState.DEFUNCT, self._restarts.gave_up_message())
            return
        self._set_state(WorkerState.STARTING)
        asyncio.get_running_loop().call_later(delay, lambda: asyncio.ensure_future(self._respawn()))

    async def _respawn(self) -> None:
        if not self._closing and self._process is None:
            await self._spawn()

    # ---- failures ----------------------------------------------------------------------

    def _give_up(self, state: WorkerState, error: str) -> None:
        self.error = error
        self._set_state(state)
        if not self._described.done():
            self._described.set_exception(ModelLoadError(error))
            self._described.exception()  # mark retrieved: nobody may be waiting on it
        self._fail_queued(self._unavailable())
        if self._process is not None and state is WorkerState.SETUP_FAILED and self.schema is None:
            self._process.kill()

    def _unavailable(self) -> str:
        if self.state is WorkerState.DEFUNCT:
            return self.error or "The model's process keeps crashing."
        last = (self.error or "").strip().splitlines()[-1:] or ["setup() failed"]
        return f"The model failed to set up, so it can't run predictions: {last[0]}"

    def _fail_queued(self, reason: str) -> None:
        while self.queue:
            request, handle = self.queue.popleft()
            handle.deliver(Done(request.id, "failed", error=reason))

    def _fail_running(self, reason: str, crash_report: str = "") -> None:
        """End every running prediction; a crash report goes into each one's logs."""
        for prediction_id, handle in list(self.running.items()):
            if crash_report:
                handle.deliver(Log(prediction_id, "stderr", crash_report))
            status = "canceled" if prediction_id in self.cancel_requested else "failed"
            elapsed = time.monotonic() - self._dispatched_at.get(prediction_id, time.monotonic())
            handle.deliver(
                Done(
                    prediction_id,
                    status,
                    error=None if status == "canceled" else reason,
                    metrics={"predict_time": round(elapsed, 6)},
                )
            )
            shutil.rmtree(self.scratch / prediction_id, ignore_errors=True)
            self._finished(prediction_id)

    def _set_state(self, state: WorkerState) -> None:
        self.state = state
        self._settled.set()
