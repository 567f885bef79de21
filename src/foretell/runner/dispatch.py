"""Dispatch: run stored predictions on the runner, apply their events, persist, notify."""

from __future__ import annotations

import asyncio
import logging
import pathlib
import shutil
import urllib.parse
from collections.abc import Callable
from typing import Any

import httpx

from foretell.core.events import Done, Log, Output, Started
from foretell.core.outputs import replace_at
from foretell.core.prediction import Prediction, append_logs, append_output, finish, start, utcnow
from foretell.core.status import Status, done_event
from foretell.files.local import LocalFiles
from foretell.outbound import BlockedURL, GuardedClient
from foretell.predictor.files import safe_name
from foretell.queue.protocol import WorkQueue
from foretell.runner.errors import UnknownModel
from foretell.runner.runner import Runner
from foretell.runner.spec import PredictionRequest
from foretell.store.protocol import Store

log = logging.getLogger("foretell.dispatch")

#: While a prediction runs, its stored copy lags the live one by at most this long.
PERSIST_INTERVAL_S = 0.25

#: (prediction id, SSE event name, data, file locations in data)
EventListener = Callable[[str, str, Any, tuple[tuple[str | int, ...], ...]], None]


class Dispatcher:
    """Owns the live copy of every running prediction; the store gets it throttled."""

    def __init__(
        self, runner: Runner, store: Store, files: LocalFiles, outbound: GuardedClient
    ) -> None:
        self.runner = runner
        self.store = store
        self.files = files
        self.outbound = outbound
        self.live: dict[str, Prediction] = {}
        self._finished: dict[str, asyncio.Event] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._dirty: set[str] = set()
        self._reasons: dict[str, str] = {}
        self._deadlines: dict[str, asyncio.TimerHandle] = {}
        self._background: list[asyncio.Task[None]] = []
        self.event_listeners: list[EventListener] = []
        #: called with (prediction, "start" | "output" | "logs" | "completed")
        self.change_listeners: list[Callable[[Prediction, str], None]] = []

    def start(self, queue: WorkQueue) -> None:
        """Take work from `queue` and persist running predictions periodically."""
        self._background = [
            asyncio.create_task(self._flush_forever()),
            asyncio.create_task(self._consume(queue)),
        ]

    async def close(self) -> None:
        """Persist what is pending and stop."""
        for task in self._background:
            task.cancel()
        await self._flush()

    async def _consume(self, queue: WorkQueue) -> None:
        while True:
            item = await queue.get()
            self.submit(item.prediction, item.runner_model, item.local_files, item.remote_files)

    def submit(
        self,
        prediction: Prediction,
        runner_model: str,
        local_files: dict[str, str],
        remote_files: tuple[str, ...] = (),
    ) -> None:
        """Run a stored prediction; returns at once."""
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
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

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

    async def cancel(self, prediction_id: str, reason: str | None = None) -> None:
        """Ask the runner to cancel; the prediction ends `canceled` with `reason` as its error."""
        if prediction_id in self.live:
            if reason:
                self._reasons[prediction_id] = reason
            await self.runner.cancel(prediction_id)

    async def end_unrun(
        self, prediction: Prediction, status: Status, error: str | None = None
    ) -> None:
        """End a stored prediction that never reached the runner (its model could not
        start, or it was canceled while waiting): saved, streamed and webhooked as usual."""
        self._finished.setdefault(prediction.id, asyncio.Event())
        if error is not None and status is Status.CANCELED:
            self._reasons[prediction.id] = error
        await self._done(prediction, Done(prediction.id, status.value, error=error))

    def _deadline_passed(self, prediction_id: str) -> None:
        if prediction_id in self.live:
            reason = "Prediction canceled: it ran past its Cancel-After deadline."
            asyncio.ensure_future(self.cancel(prediction_id, reason))

    async def _run(
        self,
        prediction: Prediction,
        runner_model: str,
        local_files: dict[str, str],
        remote_files: tuple[str, ...],
    ) -> None:
        output_dir = self.files.output_dir(prediction.id)
        inputs_dir = self.files.root / "inputs" / prediction.id
        try:
            for index, url in enumerate(remote_files):
                try:
                    local_files[url] = str(await self._download(url, inputs_dir / str(index)))
                except (BlockedURL, httpx.HTTPError) as exc:
                    error = f"Could not download the input file {url}: {exc}"
                    await self._done(prediction, Done(prediction.id, "failed", error=error))
                    return
            request = PredictionRequest(
                prediction.id, prediction.input, output_dir, local_files=local_files
            )
            try:
                handle = await self.runner.submit(runner_model, request)
            except UnknownModel:
                error = f"The model {prediction.model} is not running on this server."
                await self._done(prediction, Done(prediction.id, "failed", error=error))
                return
            async for batch in handle.batches():
                for event in batch:
                    if isinstance(event, Output | Log):
                        self._apply_stream(prediction.id, event)
                    else:
                        await self._apply(prediction.id, event)
        finally:
            shutil.rmtree(output_dir, ignore_errors=True)
            shutil.rmtree(inputs_dir, ignore_errors=True)

    async def _download(self, url: str, directory: pathlib.Path) -> pathlib.Path:
        """A remote file input, fetched through the guard (never by the model's process)."""
        directory.mkdir(parents=True, exist_ok=True)
        name = pathlib.PurePosixPath(urllib.parse.urlsplit(url).path).name or "input"
        return await self.outbound.download(url, directory / safe_name(name))

    def _apply_stream(self, prediction_id: str, event: Output | Log) -> None:
        """Output and logs: in memory only (persisted by the flusher), so no await per token."""
        current = self.live[prediction_id]
        if isinstance(event, Log):
            self._update(append_logs(current, event.text))
            self._emit(prediction_id, "logs", event.text)
            self._changed(prediction_id, "logs")
        else:
            value = self._keep_files(prediction_id, event.value, event.files)
            self._update(append_output(current, value, event.files))
            self._emit(prediction_id, "output", value, event.files)
            self._changed(prediction_id, "output")

    async def _apply(self, prediction_id: str, event: Any) -> None:
        current = self.live[prediction_id]
        if isinstance(event, Started):
            await self._save(start(current, utcnow()), now=True)
            self._changed(prediction_id, "start")
        elif isinstance(event, Done):
            await self._done(current, event)

    async def _done(self, current: Prediction, done: Done) -> None:
        output = self._keep_files(current.id, done.output, done.files)
        error = done.error
        if done.status == "canceled":
            error = self._reasons.pop(current.id, None)
        final = finish(
            current,
            Status(done.status),
            utcnow(),
            output=output,
            files=done.files,
            error=error,
            metrics=done.metrics,
        )
        await self._save(final, now=True)
        for listener in self.change_listeners:
            listener(final, "completed")
        if final.status is Status.SUCCEEDED and not final.iterator and final.output is not None:
            self._emit(final.id, "output", final.output, done.files)
        if final.status is Status.FAILED:
            self._emit(final.id, "error", {"detail": final.error})
        self._emit(final.id, "done", done_event(final.status))
        timer = self._deadlines.pop(current.id, None)
        if timer is not None:
            timer.cancel()
        self.live.pop(current.id, None)
        finished = self._finished.pop(current.id, None)
        if finished is not None:
            finished.set()

    def _keep_files(self, prediction_id: str, value: Any, files: list[list[str | int]]) -> Any:
        """Move each output file into storage, replacing its path with the storage key."""
        for location in files:
            value = replace_at(
                value,
                location,
                lambda path: self.files.keep_output(prediction_id, pathlib.Path(path)),
            )
        return value

    def _emit(
        self, prediction_id: str, name: str, data: Any, files: list[list[str | int]] | None = None
    ) -> None:
        located = tuple(tuple(loc) for loc in files or [])
        for listener in self.event_listeners:
            listener(prediction_id, name, data, located)

    def _changed(self, prediction_id: str, event: str) -> None:
        prediction = self.live[prediction_id]
        for listener in self.change_listeners:
            listener(prediction, event)

    def _update(self, prediction: Prediction) -> None:
        self.live[prediction.id] = prediction
        self._dirty.add(prediction.id)

    async def _save(self, prediction: Prediction, *, now: bool) -> None:
        self._update(prediction)
        if now:
            self._dirty.discard(prediction.id)
            await self.store.save_prediction(prediction)

    async def _flush(self) -> None:
        dirty, self._dirty = self._dirty, set()
        for prediction_id in dirty:
            prediction = self.live.get(prediction_id)
            if prediction is not None:
                await self.store.save_prediction(prediction)

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(PERSIST_INTERVAL_S)
            try:
                await self._flush()
            except Exception:  # the live copies stay authoritative; try again next tick
                log.exception("persisting running predictions failed")
