"""Serving an async predictor: each prediction a task on one event loop; cancel = task.cancel()."""

from __future__ import annotations

import asyncio
import pathlib
import sys
from collections.abc import AsyncIterator
from typing import Any

from foretell.core.events import Cancel, Done, Message, Predict, Shutdown, Started
from foretell.predictor.load import LoadedPredictor
from foretell.predictor.scope import use_scope
from foretell.worker.capture import LogCapture, current_prediction
from foretell.worker.channel import LINGER_S, Channel, runner_gone
from foretell.worker.run import PredictionRun, iterates


class AsyncServer:
    """Runs up to as many predictions at once as the runner sends (it enforces the limit).

    The event loop reads the runner's socket itself, so a command reaches its task with no
    thread hop; a Cancel is handled as soon as the loop is free (a model that blocks the
    loop delays it, and the runner's grace period then ends the process).
    """

    def __init__(
        self,
        predictor: LoadedPredictor,
        channel: Channel,
        capture: LogCapture,
        scratch: pathlib.Path,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.predictor = predictor
        self.channel = channel
        self.send = channel.send
        self.capture = capture
        self.scratch = scratch
        self.iterates = iterates(predictor)
        self.loop = loop
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.canceled: set[str] = set()
        self._stopped = asyncio.Event()

    def running(self) -> list[str]:
        """Ids of the predictions running now."""
        return list(self.tasks)

    def serve(self) -> None:
        """Run predictions until Shutdown (then let running ones finish) or the runner leaves."""
        self.loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self.loop.add_reader(self.channel.fileno(), self._on_readable)
        self._on_readable()  # commands that arrived together with Setup
        await self._stopped.wait()
        self.loop.remove_reader(self.channel.fileno())
        if self.tasks:
            await asyncio.gather(*self.tasks.values(), return_exceptions=True)

    def _on_readable(self) -> None:
        messages = self.channel.take_commands()
        if messages is None:
            runner_gone()
            return
        for message in messages:
            if isinstance(message, Shutdown):
                self._stopped.set()
                return
            self._handle(message)

    def _handle(self, message: Message) -> None:
        if isinstance(message, Predict):
            run = PredictionRun(message, self.predictor, self.scratch, self.iterates)
            self.tasks[message.id] = self.loop.create_task(self._run(run))
        elif isinstance(message, Cancel) and message.id in self.tasks:
            self.canceled.add(message.id)
            self.tasks[message.id].cancel()

    async def _run(self, run: PredictionRun) -> None:
        prediction_id = run.request.id
        # Queued, not sent: a quick prediction's Done takes it along (see LINGER_S).
        self.channel.queue(Started(prediction_id))
        self.loop.call_later(LINGER_S, self.channel.flush)
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
        self.channel.send_now(final)

    async def _call(self, run: PredictionRun) -> Done:
        if self.predictor.has_file_inputs:
            inputs = await asyncio.to_thread(run.inputs)  # downloads must not block the loop
        else:
            inputs = run.inputs()
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
