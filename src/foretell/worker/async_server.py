"""Serving an async predictor: each prediction a task on one event loop; cancel = task.cancel()."""

from __future__ import annotations

import asyncio
import pathlib
import sys
import threading
from collections.abc import AsyncIterator, Iterable
from typing import Any

from foretell.core.events import Cancel, Done, Message, Predict, Shutdown, Started
from foretell.predictor.load import LoadedPredictor
from foretell.predictor.scope import use_scope
from foretell.worker.capture import LogCapture, current_prediction
from foretell.worker.channel import Channel, runner_gone
from foretell.worker.run import PredictionRun


class AsyncServer:
    """Runs up to as many predictions at once as the runner sends (it enforces the limit)."""

    def __init__(
        self,
        predictor: LoadedPredictor,
        channel: Channel,
        capture: LogCapture,
        scratch: pathlib.Path,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.predictor = predictor
        self.send = channel.send
        self.send_now = channel.send_now
        self.capture = capture
        self.scratch = scratch
        self.loop = loop
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.canceled: set[str] = set()
        self._stopped = asyncio.Event()

    def running(self) -> list[str]:
        """Ids of the predictions running now."""
        return list(self.tasks)

    def serve(self, commands: Iterable[Message]) -> None:
        """Run predictions until Shutdown (then let running ones finish) or the runner leaves."""
        threading.Thread(target=self._read, args=(commands,), daemon=True).start()
        self.loop.run_until_complete(self._until_stopped())

    async def _until_stopped(self) -> None:
        await self._stopped.wait()
        if self.tasks:
            await asyncio.gather(*self.tasks.values(), return_exceptions=True)

    def _read(self, commands: Iterable[Message]) -> None:
        for message in commands:
            if isinstance(message, Shutdown):
                break
            self.loop.call_soon_threadsafe(self._handle, message)
        else:
            runner_gone()
        self.loop.call_soon_threadsafe(self._stopped.set)

    def _handle(self, message: Message) -> None:
        if isinstance(message, Predict):
            run = PredictionRun(message, self.predictor, self.scratch)
            self.tasks[message.id] = self.loop.create_task(self._run(run))
        elif isinstance(message, Cancel) and message.id in self.tasks:
            self.canceled.add(message.id)
            self.tasks[message.id].cancel()

    async def _run(self, run: PredictionRun) -> None:
        prediction_id = run.request.id
        self.send(Started(prediction_id))
        current_prediction.set(prediction_id)  # this task's own context
        try:
            with use_scope(run.make_scope(self.send)):
                final = await self._call(run)
        except asyncio.CancelledError:
            final = run.done("canceled")
        except Exception as exc:
            final, trace = run.failure(exc)
            sys.stderr.write(trace)
        finally:
            self.capture.finish_prediction(prediction_id)
            run.cleanup()
            self.tasks.pop(prediction_id, None)
        if prediction_id in self.canceled:
            self.canceled.discard(prediction_id)
            final = run.done("canceled")
        self.send_now(final)

    async def _call(self, run: PredictionRun) -> Done:
        inputs = await asyncio.to_thread(run.inputs)  # downloads must not block the loop
        result: Any = self.predictor.call(inputs)
        if asyncio.iscoroutine(result):
            result = await result
        if hasattr(result, "__anext__"):
            await self._stream(run, result)
            return run.done("succeeded")
        if run.iterates and hasattr(result, "__next__"):
            for item in result:
                self.send(run.output(item))
            return run.done("succeeded")
        return run.done("succeeded", output=result)

    async def _stream(self, run: PredictionRun, items: AsyncIterator[Any]) -> None:
        try:
            async for item in items:
                self.send(run.output(item))
        finally:
            aclose = getattr(items, "aclose", None)
            if aclose is not None:
                await aclose()
