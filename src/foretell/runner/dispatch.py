"""Dispatch: run stored predictions on the runner, apply their events, persist, notify.

Whatever goes wrong while a prediction is handled (downloading inputs, reaching the
runner, keeping outputs, a bug here), it ends: `failed` with the reason, never left
`starting` or `processing`. A cancel always ends a prediction that is not finished,
whichever step it is in.
"""

from __future__ import annotations

import asyncio
import logging
import pathlib
import shutil
import urllib.parse
from collections.abc import Callable
from typing import Any, Protocol

from foretell.core.events import Done, Log, Output, Started
from foretell.core.outputs import replace_at
from foretell.core.prediction import Prediction, append_logs, append_output, finish, start, utcnow
from foretell.core.status import Status, done_event
from foretell.files.local import LocalFiles
from foretell.outbound import GuardedClient
from foretell.predictor.files import safe_name
from foretell.queue.protocol import WorkQueue
from foretell.runner.errors import StepFailed, UnknownModel, say
from foretell.runner.handle import PredictionHandle
from foretell.runner.live import LiveCopies
from foretell.runner.runner import Runner
from foretell.runner.spec import PredictionRequest
from foretell.store.protocol import Store, WebhookDelivery

log = logging.getLogger("foretell.dispatch")

#: (prediction id, SSE event name, data, file locations in data)
EventListener = Callable[[str, str, Any, tuple[tuple[str | int, ...], ...]], None]

#: how long a claim is held before it is acked (at once, today)
CLAIM_LEASE_S = 30.0

EXPIRED = "Prediction canceled: it ran past its Cancel-After deadline."


class Webhooks(Protocol):
    """The outbox as the dispatcher sees it."""

    def rows_for(self, prediction: Prediction, event: str) -> list[WebhookDelivery]:
        """Rows for a `start` or `completed` change, committed with that state."""

    def on_change(self, prediction: Prediction, event: str) -> None:
        """An `output` or `logs` change (throttled, written by the outbox itself)."""

    def wake(self) -> None:
        """Rows were committed: deliver them."""


class Dispatcher:
    """Owns the live copy of every running prediction; the store gets it throttled."""

    def __init__(
        self, runner: Runner, store: Store, files: LocalFiles, outbound: GuardedClient
    ) -> None:
        self.runner = runner
        self.store = store
        self.files = files
        self.outbound = outbound
        self.copies = LiveCopies(store, self._committed)
        #: the live copy of each prediction handled here (fresher than the store's)
        self.live = self.copies.by_id
        self.webhooks: Webhooks | None = None
        self.event_listeners: list[EventListener] = []
        self._finished: dict[str, asyncio.Event] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._handles: dict[str, PredictionHandle] = {}
        self._reasons: dict[str, str] = {}
        #: canceled before the dispatcher had them: they must never run
        self._canceled_early: set[str] = set()
        self._deadlines: dict[str, asyncio.TimerHandle] = {}
        self._background: list[asyncio.Task[None]] = []

    def start(self, queue: WorkQueue) -> None:
        """Take work from `queue` and persist running predictions periodically."""
        self._background = [
            asyncio.create_task(self.copies.flush_forever()),
            asyncio.create_task(self._consume(queue)),
        ]

    async def close(self) -> None:
        """Persist what is pending and stop (see `drain` for ending running predictions)."""
        for task in self._background:
            task.cancel()
        await self.copies.flush()

    async def drain(self, grace_s: float, error: str, force: asyncio.Event | None = None) -> None:
        """Let running predictions finish for up to `grace_s` (or until `force` is set),
        then fail the rest with `error`: saved, streamed and webhooked as usual."""
        waits = [asyncio.ensure_future(e.wait()) for e in self._finished.values()]
        if force is not None:
            waits.append(asyncio.ensure_future(force.wait()))
        deadline = asyncio.get_running_loop().time() + grace_s
        while self.live and waits:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0 or (force is not None and force.is_set()):
                break
            _, pending = await asyncio.wait(
                waits, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
            )
            waits = list(pending)
        for waiter in waits:
            waiter.cancel()
        for prediction in list(self.live.values()):
            await self._end(prediction.id, Done(prediction.id, "failed", error=error))
        for task in list(self._tasks.values()):
            task.cancel()

    async def _consume(self, queue: WorkQueue) -> None:
        # Claimed and acked at once: the runner queues per model itself and the live copy is
        # authoritative here. Claiming only when a slot is free comes with the seam.
        while True:
            lease = await queue.claim(self.runner.model_names, CLAIM_LEASE_S, wait_s=60.0)
            if lease is None:
                continue
            await queue.ack(lease)
            item = lease.item
            self.submit(item.prediction, item.runner_model, item.local_files, item.remote_files)

    def submit(
        self,
        prediction: Prediction,
        runner_model: str,
        local_files: dict[str, str],
        remote_files: tuple[str, ...] = (),
    ) -> None:
        """Run a stored prediction; returns at once."""
        if prediction.id in self._canceled_early:
            self._canceled_early.discard(prediction.id)
            return  # already ended by cancel()
        self.live[prediction.id] = prediction
        self._finished.setdefault(prediction.id, asyncio.Event())
        if prediction.deadline is not None:
            delay = (prediction.deadline - utcnow()).total_seconds()
            self._deadlines[prediction.id] = asyncio.get_running_loop().call_later(
                max(0.0, delay), self._deadline_passed, prediction.id
            )
        task = asyncio.create_task(
            self._run(prediction, runner_model, dict(local_files), remote_files)
        )
        self._tasks[prediction.id] = task
        task.add_done_callback(lambda _: self._tasks.pop(prediction.id, None))

    def get(self, prediction_id: str) -> Prediction | None:
        """The live copy of a running prediction (fresher than the store's)."""
        return self.live.get(prediction_id)

    def expect(self, prediction_id: str) -> None:
        """A prediction is about to be queued: from now on `wait` can wait for it."""
        self._finished.setdefault(prediction_id, asyncio.Event())

    async def wait(self, prediction_id: str, timeout: float) -> None:
        """Wait up to `timeout` seconds for an expected or running prediction to finish;
        returns at once for one this dispatcher doesn't have (already finished)."""
        event = self._finished.get(prediction_id)
        if event is None:
            return
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass

    async def cancel(self, prediction: Prediction, reason: str | None = None) -> None:
        """End `prediction` as `canceled` (with `reason` as its error), whichever step it
        is in: queued, downloading its inputs, waiting for a slot or running."""
        pid = prediction.id
        if reason:
            self._reasons.setdefault(pid, reason)
        if pid not in self.live:
            # Not here yet (or never will be): end it now; if it arrives later, skip it.
            self._canceled_early.add(pid)
            await self.end_unrun(prediction, Status.CANCELED, self._reasons.get(pid))
            return
        if pid in self._handles and await self.runner.cancel(pid):
            return  # the runner stops it and reports Done(canceled)
        task = self._tasks.get(pid)
        if task is not None:
            task.cancel()  # still preparing: _run ends it
        else:
            await self._end(pid, Done(pid, "canceled"))

    async def end_unrun(
        self, prediction: Prediction, status: Status, error: str | None = None
    ) -> None:
        """End a stored prediction that never reached the runner (its model could not
        start, or it was canceled while waiting): saved, streamed and webhooked as usual."""
        if prediction.status.is_terminal:
            return
        self._finished.setdefault(prediction.id, asyncio.Event())
        if error is not None and status is Status.CANCELED:
            self._reasons[prediction.id] = error
        self.live.setdefault(prediction.id, prediction)
        await self._end(prediction.id, Done(prediction.id, status.value, error=error))

    def _deadline_passed(self, prediction_id: str) -> None:
        prediction = self.live.get(prediction_id)
        if prediction is not None:
            asyncio.ensure_future(self.cancel(prediction, EXPIRED))

    async def _run(
        self,
        prediction: Prediction,
        runner_model: str,
        local_files: dict[str, str],
        remote_files: tuple[str, ...],
    ) -> None:
        pid = prediction.id
        output_dir = self.files.output_dir(pid)
        inputs_dir = self.files.root / "inputs" / pid
        try:
            for index, url in enumerate(remote_files):
                local_files[url] = str(await self._download(url, inputs_dir / str(index)))
            await self._run_on_runner(prediction, runner_model, local_files, output_dir)
        except asyncio.CancelledError:
            if pid not in self.live:
                raise
            await self._end(pid, Done(pid, "canceled"))  # cancel() while preparing
        except Exception as exc:
            if not isinstance(exc, StepFailed):
                log.exception("handling prediction %s failed", pid)
                exc = StepFailed(f"foretell failed while running this prediction: {say(exc)}")
            if pid in self._handles:
                await self.runner.cancel(pid)  # don't leave it running unseen
            await self._end(pid, Done(pid, "failed", error=str(exc)))
        finally:
            self._handles.pop(pid, None)
            if output_dir.exists():  # only when the model returned files
                shutil.rmtree(output_dir, ignore_errors=True)
            if remote_files:
                shutil.rmtree(inputs_dir, ignore_errors=True)

    async def _run_on_runner(
        self,
        prediction: Prediction,
        runner_model: str,
        local_files: dict[str, str],
        output_dir: pathlib.Path,
    ) -> None:
        request = PredictionRequest(
            prediction.id, prediction.input, output_dir, local_files=local_files
        )
        try:
            handle = await self.runner.submit(runner_model, request)
        except UnknownModel:
            raise StepFailed(
                f"The model {prediction.model} is not running on this server."
            ) from None
        self._handles[prediction.id] = handle
        async for batch in handle.batches():
            for event in batch:
                if prediction.id not in self.live:
                    return  # ended meanwhile (shutdown)
                if isinstance(event, Output | Log):
                    self._apply_stream(prediction.id, event)
                else:
                    await self._apply(prediction.id, event)

    async def _download(self, url: str, directory: pathlib.Path) -> pathlib.Path:
        """A remote file input, fetched through the guard (never by the model's process)."""
        try:
            directory.mkdir(parents=True, exist_ok=True)
            name = pathlib.PurePosixPath(urllib.parse.urlsplit(url).path).name or "input"
            return await self.outbound.download(url, directory / safe_name(name))
        except Exception as exc:
            raise StepFailed(f"Could not download the input file {url}: {say(exc)}") from exc

    def _apply_stream(self, prediction_id: str, event: Output | Log) -> None:
        """Output and logs: in memory only (persisted by the flusher), so no await per token."""
        current = self.live[prediction_id]
        if isinstance(event, Log):
            changed = append_logs(current, event.text)
            self.copies.update(changed)
            self._emit(prediction_id, "logs", event.text)
            self._changed(changed, "logs")
        else:
            value = self._keep_files(prediction_id, event.value, event.files)
            changed = append_output(current, value, event.files)
            self.copies.update(changed)
            self._emit(prediction_id, "output", value, event.files)
            self._changed(changed, "output")

    async def _apply(self, prediction_id: str, event: Any) -> None:
        current = self.live[prediction_id]
        if isinstance(event, Started):
            started = start(current, utcnow())
            await self.copies.save(started, self._rows(started, "start"))
        elif isinstance(event, Done):
            await self._end(prediction_id, event)

    async def _end(self, prediction_id: str, done: Done) -> None:
        """The one way a prediction ends; a no-op for one that already has."""
        current = self.live.get(prediction_id)
        if current is None or current.status.is_terminal:
            return
        error = done.error
        if done.status == "canceled":
            error = self._reasons.pop(prediction_id, None)
        try:
            output = self._keep_files(prediction_id, done.output, done.files)
            final = finish(
                current, Status(done.status), utcnow(), output=output, files=done.files,
                error=error, metrics=done.metrics,
            )  # fmt: skip
        except StepFailed as exc:
            final = finish(current, Status.FAILED, utcnow(), error=str(exc), metrics=done.metrics)
        await self.copies.save(final, self._rows(final, "completed"))
        if final.status is Status.SUCCEEDED and not final.iterator and final.output is not None:
            self._emit(final.id, "output", final.output, [list(loc) for loc in final.output_files])
        if final.status is Status.FAILED:
            self._emit(final.id, "error", {"detail": final.error})
        self._emit(final.id, "done", done_event(final.status))
        timer = self._deadlines.pop(prediction_id, None)
        if timer is not None:
            timer.cancel()
        self._reasons.pop(prediction_id, None)
        if self.copies.saved(prediction_id):  # else the flusher retries, then drops it
            self.live.pop(prediction_id, None)
        finished = self._finished.pop(prediction_id, None)
        if finished is not None:
            finished.set()

    def _keep_files(self, prediction_id: str, value: Any, files: list[list[str | int]]) -> Any:
        """Move each output file into storage, replacing its path with the storage key."""
        try:
            for location in files:
                value = replace_at(
                    value,
                    location,
                    lambda path: self.files.keep_output(prediction_id, pathlib.Path(path)),
                )
        except Exception as exc:
            log.exception("keeping the outputs of %s failed", prediction_id)
            raise StepFailed(
                f"foretell could not keep this prediction's output: {say(exc)}"
            ) from exc
        return value

    def _emit(
        self, prediction_id: str, name: str, data: Any, files: list[list[str | int]] | None = None
    ) -> None:
        located = tuple(tuple(loc) for loc in files or [])
        for listener in self.event_listeners:
            listener(prediction_id, name, data, located)

    def _rows(self, prediction: Prediction, event: str) -> list[WebhookDelivery]:
        return self.webhooks.rows_for(prediction, event) if self.webhooks else []

    def _changed(self, prediction: Prediction, event: str) -> None:
        if self.webhooks is not None:
            self.webhooks.on_change(prediction, event)

    def _committed(self) -> None:
        if self.webhooks is not None:
            self.webhooks.wake()
