"""Serving an async predictor: each prediction a task on one event loop; cancel = task.cancel()."""

from __future__ import annotations

import asyncio
import pathlib
import sys
from collections.abc import AsyncIterator
from typing import Any

from foretell.core.events import Done, Message, Predict, Shutdown
from foretell.predictor.load import LoadedPredictor
from foretell.predictor.scope import use_scope
from foretell.worker.cancel import CancelLedger
from foretell.worker.capture import LogCapture, current_prediction
from foretell.worker.channel import Channel, Inbox, runner_gone
from foretell.worker.run import PredictionRun, iterates
from foretell.worker.tempfiles import TempSweeper


class AsyncServer:
    """Runs up to as many predictions at once as the runner sends (it enforces the limit).

    The event loop reads the data socket itself, so a Predict reaches its task with no
    thread hop. A Cancel is handled as soon as the loop is free (a model that blocks the
    loop delays it, and the runner's grace period then ends the process).
    """

    def __init__(
        self,
        predictor: LoadedPredictor,
        channel: Channel,
        inbox: Inbox,
        capture: LogCapture,
        scratch: pathlib.Path,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.predictor = predictor
        self.channel = channel
        self.inbox = inbox
        self.send = channel.send
        self.capture = capture
        self.scratch = scratch
        self.iterates = iterates(predictor)
        self.loop = loop
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.ledger = CancelLedger()
        self.sweeper = TempSweeper()
        #: predictions inside model code, where a cancel is thrown into their task
        self._in_model: set[str] = set()
        self._stopped = asyncio.Event()
        #: a flush of the Done frames queued during this loop turn is scheduled
        self._flushing = False

    def running(self) -> list[str]:
        """Ids of the predictions running now."""
        return list(self.tasks)

    def cancel(self, prediction_id: str) -> None:
        """Called by the control thread for each Cancel."""
        self.loop.call_soon_threadsafe(self._cancel, prediction_id)

    def _cancel(self, prediction_id: str) -> None:
        # A task is only cancelled inside _guarded: one that hasn't reached it yet (or has
        # left it) checks the ledger itself, so its Done is always sent.
        if self.ledger.request(prediction_id) and prediction_id in self._in_model:
            self.tasks[prediction_id].cancel()

    def serve(self) -> None:
        """Run predictions until Shutdown (then let running ones finish) or the runner leaves."""
        self.loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        fd = self.inbox.sock.fileno()
        self.loop.add_reader(fd, self._on_readable)
        self._on_readable()  # commands that arrived together with Setup
        await self._stopped.wait()
        self.loop.remove_reader(fd)
        if self.tasks:
            await asyncio.gather(*self.tasks.values(), return_exceptions=True)

    def _on_readable(self) -> None:
        messages = self.inbox.available()
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

    async def _run(self, run: PredictionRun) -> None:
        prediction_id = run.request.id
        self.sweeper.begin()
        if self.ledger.is_requested(prediction_id):  # canceled before it started
            final = run.done("canceled")
        else:
            current_prediction.set(prediction_id)  # this task's own context
            self._in_model.add(prediction_id)
            final = await self._guarded(run)
            self._in_model.discard(prediction_id)
            self.capture.finish_prediction(prediction_id)
            run.cleanup()
            if self.ledger.is_requested(prediction_id):
                final = run.done("canceled")
        self.tasks.pop(prediction_id, None)
        self.ledger.ended(prediction_id)
        self.sweeper.end()  # its output files are copied out by now
        # the predictions that end in one loop turn leave in one write (one wake-up of the
        # runner, not one each)
        self.channel.queue(final)
        if not self._flushing:
            self._flushing = True
            self.loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flushing = False
        self.channel.flush()

    async def _guarded(self, run: PredictionRun) -> Done:
        """Run the prediction; its failure or cancellation becomes its Done."""
        try:
            with use_scope(run.make_scope(self.send)):
                return await self._call(run)
        except asyncio.CancelledError:
            return run.done("canceled")
        except Exception as exc:
            final, trace = run.failure(exc)
            sys.stderr.write(trace)
            return final

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
