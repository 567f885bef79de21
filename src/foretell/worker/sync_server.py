"""Serving a sync predictor: one prediction at a time in the main thread, cancellable."""

from __future__ import annotations

import pathlib
import sys
import traceback
from collections.abc import Iterable, Iterator
from typing import Any

from foretell.core.events import Done, Message, Predict, Shutdown
from foretell.predictor.errors import CancelationException
from foretell.predictor.load import LoadedPredictor
from foretell.predictor.scope import use_scope
from foretell.worker.cancel import SyncCanceller
from foretell.worker.capture import LogCapture, current_prediction
from foretell.worker.channel import Channel, runner_gone
from foretell.worker.run import PredictionRun, iterates
from foretell.worker.tempfiles import TempSweeper


class SyncServer:
    """Runs predictions one by one in the main thread, which reads them itself when idle."""

    def __init__(
        self,
        predictor: LoadedPredictor,
        channel: Channel,
        capture: LogCapture,
        scratch: pathlib.Path,
    ) -> None:
        self.predictor = predictor
        self.channel = channel
        self.capture = capture
        self.scratch = scratch
        self.iterates = iterates(predictor)
        self.canceller = SyncCanceller()
        self.sweeper = TempSweeper()

    def running(self) -> list[str]:
        """Ids of the predictions running now (zero or one)."""
        running = self.canceller.running
        return [running] if running else []

    def serve(self, commands: Iterable[Message]) -> None:
        """Run predictions until Shutdown, or end the process when the runner goes away."""
        for message in commands:
            if isinstance(message, Predict):
                run = PredictionRun(message, self.predictor, self.scratch, self.iterates)
                if self.canceller.begin(message.id):
                    self.sweeper.begin()
                    final = self._run(run)
                    self.sweeper.end()  # its output files are copied out by now
                    self.channel.send_now(final)
                else:  # canceled before it started
                    self.canceller.end(message.id)
                    self.channel.send_now(run.done("canceled"))
            elif isinstance(message, Shutdown):
                return
        runner_gone()

    def cancel(self, prediction_id: str) -> None:
        """Called by the control thread for each Cancel."""
        self.canceller.request(prediction_id)

    def _run(self, run: PredictionRun) -> Done:
        prediction_id = run.request.id
        token = current_prediction.set(prediction_id)
        try:
            with use_scope(run.make_scope(self.channel.send)):
                final = self._call(run)
            if self.canceller.is_requested(prediction_id):
                final = run.done("canceled")
        except CancelationException:
            final = run.done("canceled")
        except Exception as exc:
            final, trace = run.failure(exc)
            sys.stderr.write(trace)
        except BaseException:
            # SystemExit or KeyboardInterrupt from the model ends the process; say where in
            # this prediction's logs (the runner reports the exit as its failure)
            sys.stderr.write(traceback.format_exc())
            raise
        finally:
            self.canceller.in_model = False  # no cancel may raise inside this cleanup
            # fd output written until now still belongs to this prediction
            self.capture.finish_prediction(prediction_id)
            self.canceller.end(prediction_id)
            current_prediction.reset(token)
            run.cleanup()
        return final

    def _call(self, run: PredictionRun) -> Done:
        inputs = run.inputs()
        canceller = self.canceller
        if canceller.is_requested(run.request.id):  # canceled while its inputs were prepared
            raise CancelationException(f"prediction {run.request.id} was canceled")
        canceller.in_model = True
        result = self.predictor.call(inputs)
        canceller.in_model = False
        if self.iterates and isinstance(result, Iterator):
            self._stream(run, result)
            return run.done("succeeded")
        return run.done("succeeded", output=result)

    def _stream(self, run: PredictionRun, items: Iterator[Any]) -> None:
        """Send each yielded item as it comes; model code runs with cancellation armed."""
        canceller = self.canceller
        send = self.channel.send
        prediction_id = run.request.id
        try:
            while not canceller.is_requested(prediction_id):
                canceller.in_model = True
                try:
                    item = next(items)
                except StopIteration:
                    return
                finally:
                    canceller.in_model = False
                send(run.output(item))
            raise CancelationException(f"prediction {prediction_id} was canceled")
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()
