"""One claimed prediction on this runner: its input checked (if the API couldn't yet), its
files fetched, run on the worker, its events published, its end written exactly once."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
import pathlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from foretell.admission import Admission
from foretell.core.events import Done, Log, Output, Started
from foretell.core.models import Model
from foretell.core.prediction import (
    TRAINING,
    Prediction,
    append_logs,
    append_output,
    finish,
    start,
)
from foretell.core.status import Status
from foretell.core.times import utcnow
from foretell.core.trainings import as_predictor
from foretell.core.versions import TRAINER_SUFFIX
from foretell.errors import InvalidRequest
from foretell.files.protocol import FileStore
from foretell.metrics import NO_METRICS, Recorder
from foretell.queue.protocol import WorkItem
from foretell.runner.errors import StepFailed, UnknownModel, say
from foretell.runner.handle import PredictionHandle
from foretell.runner.inputs import Downloader, keep_outputs, materialize
from foretell.runner.live import LiveCopies
from foretell.runner.runner import Runner
from foretell.runner.spec import PredictionRequest
from foretell.runner.trainings import complete_training
from foretell.store.protocol import WebhookDelivery
from foretell.streaming.bus import EventBus, located, publish_end
from foretell.webhooks.protocol import Webhooks

log = logging.getLogger("foretell.consumer")


@dataclass
class ExecutionContext:
    """What every execution on this runner shares."""

    bus: EventBus
    copies: LiveCopies
    files: FileStore
    outbound: Downloader
    #: this runner's own folder: each prediction's fetched inputs and raw outputs go under it
    scratch: pathlib.Path
    #: checks the input of work queued before its model's schema was known
    admission: Admission | None = None
    webhooks: Webhooks | None = None
    #: told of each prediction this runner ended (a worker prints a line for it)
    on_end: Callable[[Prediction], None] | None = None
    #: counts each prediction this runner ended
    metrics: Recorder = NO_METRICS

    def rows(self, prediction: Prediction, event: str) -> list[WebhookDelivery]:
        return self.webhooks.rows_for(prediction, event) if self.webhooks else []

    def changed(self, prediction: Prediction, event: str) -> None:
        if self.webhooks is not None:
            self.webhooks.on_change(prediction, event)


class Execution:
    """The handling of one claimed work item; `end` is the one way it finishes."""

    def __init__(self, context: ExecutionContext, item: WorkItem, runner: Runner) -> None:
        self.context = context
        self.item = item
        self.runner = runner
        self.prediction_id = item.prediction.id
        self.handle: PredictionHandle | None = None
        self.task: asyncio.Task[None] | None = None
        #: its end was written (or it was not ours to write)
        self.ended = False
        self.finished = asyncio.Event()
        self.reason: str | None = None
        #: its lease went to another runner: nothing more is written from here
        self.abandoned = False
        #: the model returned files (so its scratch folder exists)
        self._files_seen = False
        #: seconds it waited for its model to boot from zero instances
        self._cold_boot_s: float | None = None
        context.copies.by_id[self.prediction_id] = item.prediction

    @property
    def current(self) -> Prediction:
        return self.context.copies.by_id.get(self.prediction_id, self.item.prediction)

    def started_with_claim(self, started: Prediction, has_rows: bool) -> None:
        """Its claim wrote its start (and webhook rows, if any): the worker's Started then
        needs no write of its own."""
        self.context.copies.by_id[self.prediction_id] = started
        if has_rows:
            self.context.copies.committed()

    def adopt(self, stored: Prediction) -> None:
        """The store's copy is the one to carry on from (its logs, say)."""
        self.context.copies.by_id[self.prediction_id] = stored

    # ---- running -----------------------------------------------------------------------

    async def run(self, model: Model | None) -> None:
        """Prepare, run on the worker, apply its events; ends the prediction however it goes."""
        pid = self.prediction_id
        folder = self.context.scratch / "predictions" / pid
        try:
            item = self.item
            if not item.admitted:
                item = await self._admit(model)
            self._files_seen = bool(item.file_keys or item.remote_files)
            local_files = await materialize(
                item, self.context.files, self.context.outbound, folder / "inputs"
            )
            await self._run_on_runner(local_files, folder / "outputs")
        except asyncio.CancelledError:
            if self.abandoned and self.handle is not None:
                await self.runner.cancel(pid)
            if self.ended or self.abandoned:
                raise
            await self.end(Done(pid, "canceled"))  # cancel() while preparing
        except Exception as exc:
            if not isinstance(exc, StepFailed):
                log.exception("handling prediction %s failed", pid)
                exc = StepFailed(f"foretell failed while running this prediction: {say(exc)}")
            if self.handle is not None:
                await self.runner.cancel(pid)  # don't leave it running unseen
            await self.end(Done(pid, "failed", error=str(exc)))
        finally:
            # only made when inputs were fetched or the model returned files (most don't)
            if self._files_seen:
                shutil.rmtree(folder, ignore_errors=True)

    async def _admit(self, model: Model | None) -> WorkItem:
        """Check an input that was queued before the model's schema was known; the item
        with its files resolved."""
        prediction = self.current
        admission = self.context.admission
        if model is None or not model.is_described or admission is None:
            raise StepFailed(f"The model {prediction.model} is not running on this server.")
        if prediction.kind == TRAINING:
            model = as_predictor(model)  # checked against its TrainingInput
        try:
            plan = await admission.plan_files(
                prediction.account, model, prediction.input, self.item.base_url
            )
        except InvalidRequest as exc:
            problems = "; ".join(f"{f.field}: {f.description}" for f in exc.fields)
            raise StepFailed(
                f"Invalid input (checked once the model had started): {problems}"
            ) from None
        waited = (utcnow() - prediction.created_at).total_seconds()
        ready = dataclasses.replace(
            prediction,
            iterator=model.is_iterator,
            logs=prediction.logs + f"The model was ready after {waited:.1f} s.\n",
        )
        self.context.copies.update(ready)
        return dataclasses.replace(
            self.item, prediction=ready, file_keys=plan.keys, remote_files=tuple(plan.remote)
        )

    async def _note_cold_boot(self) -> None:
        """If it waited for its model to boot from zero instances: say so in its logs, and
        put the boot time in its metrics (`cold_boot_time`). Called as it starts, once the
        instance that runs it is up."""
        boot = self.runner.cold_boot(self.item.runner_model)
        prediction = self.current
        if boot is None or prediction.created_at > boot.started_at + _seconds(boot.seconds):
            return
        self._cold_boot_s = round(boot.seconds, 3)
        line = f"Cold boot: the model had scaled to zero; it started in {boot.seconds:.1f} s.\n"
        self.context.copies.update(append_logs(prediction, line))
        await self.context.bus.publish(self.prediction_id, "logs", line)

    async def _run_on_runner(self, local_files: dict[str, str], output_dir: pathlib.Path) -> None:
        prediction = self.current
        request = PredictionRequest(
            prediction.id, prediction.input, output_dir, local_files=local_files
        )
        try:
            self.handle = await self.runner.submit(self.item.runner_model, request)
        except UnknownModel:
            raise StepFailed(
                f"The model {prediction.model} is not running on this server."
            ) from None
        async for batch in self.handle.batches():
            for event in batch:
                if self.ended or self.abandoned:
                    return  # ended meanwhile (shutdown, lost lease)
                if isinstance(event, Output | Log):
                    await self._apply_stream(event)
                elif isinstance(event, Started):
                    await self._note_cold_boot()
                    if self.current.status is Status.STARTING:  # else its claim started it
                        started = start(self.current, utcnow())
                        rows = self.context.rows(started, "start")
                        await self.context.copies.save(started, rows)
                elif isinstance(event, Done):
                    await self.end(event)

    async def _apply_stream(self, event: Output | Log) -> None:
        """Output and logs: the live copy now (the store gets it throttled), the bus now."""
        copies, bus, pid = self.context.copies, self.context.bus, self.prediction_id
        if isinstance(event, Log):
            changed = append_logs(self.current, event.text)
            copies.update(changed)
            await bus.publish(pid, "logs", event.text)
            self.context.changed(changed, "logs")
        else:
            value = await self._keep_files(event.value, event.files)
            changed = append_output(self.current, value, event.files)
            copies.update(changed)
            await bus.publish(pid, "output", value, located(event.files))
            self.context.changed(changed, "output")

    # ---- ending ------------------------------------------------------------------------

    async def cancel(self, reason: str | None) -> None:
        """End it `canceled` whichever step it is in."""
        if self.ended:
            return
        if reason:
            self.reason = self.reason or reason
        if self.handle is not None and await self.runner.cancel(self.prediction_id):
            return  # the worker stops it and reports Done(canceled)
        if self.task is not None and not self.task.done():
            self.task.cancel()  # still preparing: run() ends it
        else:
            await self.end(Done(self.prediction_id, "canceled"))

    def abandon(self) -> None:
        """Stop here without writing anything (another runner holds it now)."""
        self.abandoned = True
        self.context.copies.forget(self.prediction_id)
        self.finished.set()
        self.stop()  # run() stops it on the worker on its way out

    def stop(self) -> None:
        """Stop the task handling it (after its end was written)."""
        if self.task is not None and not self.task.done():
            self.task.cancel()

    async def end(self, done: Done, reason: str | None = None) -> None:
        """The one way it ends: the final state written by compare-and-set with its webhook
        rows, then `done` published; a no-op once it has ended."""
        if self.ended or self.abandoned:
            return
        current = self.current
        if current.status.is_terminal:
            self.ended = True
            self.finished.set()
            return
        self.ended = True
        error = done.error
        if done.status == "canceled":
            error = reason or self.reason
        try:
            output = await self._keep_files(done.output, done.files)
            final = finish(
                current, Status(done.status), utcnow(), output=output, files=done.files,
                error=error, metrics=self._metrics(done),
            )  # fmt: skip
            if final.kind == TRAINING and final.status is Status.SUCCEEDED:
                final = await self._trained(final)
        except StepFailed as exc:
            final = finish(
                current, Status.FAILED, utcnow(), error=str(exc), metrics=self._metrics(done)
            )
        copies = self.context.copies
        await copies.save(final, self.context.rows(final, "completed"))
        self.context.metrics.ended(final)
        if copies.saved(self.prediction_id):  # else the flusher retries, then drops it
            copies.by_id.pop(self.prediction_id, None)
        await publish_end(self.context.bus, final)
        self.finished.set()
        if self.context.on_end is not None:
            self.context.on_end(final)

    async def _trained(self, training: Prediction) -> Prediction:
        """A succeeded training with its weights kept as a new version (foretell.runner.
        trainings); StepFailed, whatever went wrong, fails it instead."""
        try:
            root = self.runner.instances(self.item.runner_model).spec.root
        except UnknownModel:
            root = None
        try:  # the trained version's own schema, if this runner hosts it too
            schema = self.runner.schema(self.item.runner_model.removesuffix(TRAINER_SUFFIX))
        except UnknownModel:
            schema = None
        try:
            return await complete_training(
                training, self.context.copies.store, self.context.files, root, schema
            )
        except StepFailed:
            raise
        except Exception as exc:
            log.exception("keeping the weights of training %s failed", training.id)
            raise StepFailed(f"The training's weights could not be kept: {say(exc)}") from exc

    def _metrics(self, done: Done) -> dict[str, Any] | None:
        if self._cold_boot_s is None:
            return done.metrics
        return {**(done.metrics or {}), "cold_boot_time": self._cold_boot_s}

    async def _keep_files(self, value: Any, files: list[list[str | int]]) -> Any:
        """Each output file moved into the FileStore, its path replaced by its key."""
        if not files:
            return value
        self._files_seen = True
        return await keep_outputs(self.prediction_id, value, files, self.context.files)


def _seconds(value: float) -> datetime.timedelta:
    return datetime.timedelta(seconds=value)
