"""The runner's side of the seam: claim queued work for the models hosted here, only while a
slot is free, run it, publish its events, write its state by compare-and-set.

Whatever goes wrong while a prediction is handled (its input, its files, reaching the
worker, keeping outputs, a bug here), it ends: `failed` with the reason, never left
`starting` or `processing`. A cancel request (from any API node, over the EventBus, or
durably in the store) ends it whichever step it is in.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from foretell.core.events import Done
from foretell.core.models import Model
from foretell.core.prediction import Prediction, start
from foretell.core.status import ORPHANED_ERROR
from foretell.core.times import utcnow
from foretell.queue.protocol import Lease, LeaseLost, WorkItem, WorkQueue
from foretell.runner.errors import say
from foretell.runner.execution import Execution, ExecutionContext
from foretell.runner.leases import Leases
from foretell.runner.runner import Runner
from foretell.store.protocol import ClaimVerdict, Store
from foretell.streaming.bus import CancelRequest, CancelSubscription, EventBus

log = logging.getLogger("foretell.consumer")

#: how long a claim holds without a heartbeat (the heartbeat renews it every third of it)
LEASE_S = 30.0
#: while a model has no free slot, look again this often (it may have come up meanwhile)
IDLE_POLL_S = 0.25
#: how long one claim waits for work (a put wakes it at once)
CLAIM_WAIT_S = 5.0


class Consumer:
    """Claims work for this runner's models, one claim per free slot, and runs it."""

    def __init__(
        self,
        runner: Runner,
        queue: WorkQueue,
        store: Store,
        bus: EventBus,
        context: ExecutionContext,
        owner: str,
        describe: Callable[[str], Model | None],
        *,
        lease_s: float = LEASE_S,
    ) -> None:
        self.runner = runner
        self.queue = queue
        self.store = store
        self.bus = bus
        self.context = context
        #: this runner's id in the store's owner column (unique per process)
        self.owner = owner
        #: the hosted model by runner name (with its schema once described), for admission
        self.describe = describe
        self.lease_s = lease_s
        self.leases = Leases(queue, store, owner, lease_s, self.lost)
        context.copies.lost = self.lost  # a write that lost its compare-and-set
        #: models that could not start (no worker to fail their work): name -> error
        self.failed_models: dict[str, str] = {}
        self.executions: dict[str, Execution] = {}
        self._in_flight: collections.Counter[str] = collections.Counter()
        #: one claimer per model (so a slot freed for one is claimed at once), and the event
        #: that wakes it
        self._claimers: dict[str, asyncio.Task[None]] = {}
        self._slot_freed: dict[str, asyncio.Event] = collections.defaultdict(asyncio.Event)
        self._cancels: CancelSubscription | None = None
        self._background: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Claim and run work until `close`."""
        self._cancels = self.bus.cancels()  # subscribed now: no request from here on is missed
        self._background = [
            asyncio.create_task(self._start_claimers()),
            asyncio.create_task(self._listen_for_cancels(self._cancels)),
            asyncio.create_task(self.leases.heartbeat_forever()),
            asyncio.create_task(self.context.copies.flush_forever()),
        ]

    def running(self) -> int:
        """How many predictions this runner holds now."""
        return len(self.executions)

    def model_failed(self, model: str, error: str) -> None:
        """`model` can't start: whatever is queued for it (or comes) fails with `error`."""
        self.failed_models[model] = error
        self._slot_freed[model].set()

    async def drain(self, grace_s: float, error: str, force: asyncio.Event | None = None) -> None:
        """Stop claiming; let running predictions finish for up to `grace_s` (or until
        `force` is set), then fail the rest with `error`."""
        self._stop_claiming()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace_s
        force_wait = asyncio.ensure_future(force.wait()) if force is not None else None
        try:
            while self.executions and loop.time() < deadline:
                if force is not None and force.is_set():
                    break
                waits: list[asyncio.Future[Any]] = [
                    asyncio.ensure_future(e.finished.wait()) for e in self.executions.values()
                ]
                if force_wait is not None:
                    waits.append(force_wait)
                _, pending = await asyncio.wait(
                    waits, timeout=deadline - loop.time(), return_when=asyncio.FIRST_COMPLETED
                )
                for waiter in pending:
                    if waiter is not force_wait:
                        waiter.cancel()
        finally:
            if force_wait is not None:
                force_wait.cancel()
        for execution in list(self.executions.values()):
            await execution.end(Done(execution.prediction_id, "failed", error=error))
            execution.stop()

    async def close(self) -> None:
        """Stop every background task and persist what is pending."""
        tasks = [*self._background, *self._claimers.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._cancels is not None:
            self._cancels.close()
        await self.context.copies.flush()

    # ---- claiming ----------------------------------------------------------------------

    def _stop_claiming(self) -> None:
        if self._background:
            self._background[0].cancel()
        for task in self._claimers.values():
            task.cancel()

    async def _start_claimers(self) -> None:
        """A claimer for each model hosted here (models are added while others run)."""
        while True:
            for name in [*self.runner.model_names, *self.failed_models]:
                if name not in self._claimers:
                    self._claimers[name] = asyncio.create_task(self._claim_for(name))
            await asyncio.sleep(IDLE_POLL_S)

    def _free(self, model: str) -> int:
        """Slots free for `model` now; unbounded for one that can't start (its work fails)."""
        if model in self.failed_models:
            return 1
        return self.runner.capacity(model) - self._in_flight[model]

    async def _claim_for(self, model: str) -> None:
        freed = self._slot_freed[model]
        while True:
            if model not in self.runner.model_names and model not in self.failed_models:
                del self._claimers[model]  # no longer hosted (a deleted version)
                return
            if self._free(model) <= 0:
                # until a slot frees, or a little while (the model may have come up)
                freed.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(IDLE_POLL_S):
                        await freed.wait()
                continue
            try:
                lease = await self.queue.claim([model], self.lease_s, wait_s=CLAIM_WAIT_S)
            except Exception:  # the queue's engine is down: keep trying
                log.exception("claiming work for %s failed; retrying", model)
                await asyncio.sleep(1.0)
                continue
            if lease is not None:
                self._take(lease)

    def _take(self, lease: Lease) -> None:
        item = lease.item
        pid = item.prediction.id
        if pid in self.executions:  # delivered again while we still run it
            return
        self._in_flight[item.runner_model] += 1
        execution = Execution(self.context, item, self.runner)
        self.executions[pid] = execution
        task = asyncio.create_task(self._handle(execution, lease))
        execution.task = task

    async def _handle(self, execution: Execution, lease: Lease) -> None:
        item = execution.item
        pid = item.prediction.id
        try:
            await self._decide_and_run(execution, item, lease)
        except asyncio.CancelledError:
            if not (execution.ended or execution.abandoned):  # canceled while deciding
                await execution.end(Done(pid, "canceled"))
        except Exception as exc:  # a store that fails: the prediction must still end
            log.exception("handling prediction %s failed", pid)
            error = f"foretell failed while running this prediction: {say(exc)}"
            await execution.end(Done(pid, "failed", error=error))
        finally:
            self.executions.pop(pid, None)
            self._in_flight[item.runner_model] -= 1
            if self._in_flight[item.runner_model] <= 0:
                del self._in_flight[item.runner_model]
            current = self.leases.release(pid) or lease
            self._slot_freed[item.runner_model].set()
            try:
                await self.queue.ack(current)
            except LeaseLost:
                log.warning("%s: its lease was lost before it was acked", pid)
            except Exception:
                log.exception("acking %s failed; the queue will deliver it again", pid)

    async def _decide_and_run(self, execution: Execution, item: WorkItem, lease: Lease) -> None:
        pid = item.prediction.id
        started = self._starts_at_claim(item)
        rows = self.context.rows(started, "start") if started is not None else []
        claim = await self.store.claim_prediction(
            pid, self.owner, self.leases.until(), started, rows
        )
        if claim.verdict is ClaimVerdict.RUN:
            # renewed from now on: held before the claim, a heartbeat between the two
            # found no lease of ours in the store, and stopped it as lost
            self.leases.hold(lease)
        if claim.started and started is not None:
            execution.started_with_claim(started, bool(rows))
        if claim.prediction is not None:
            execution.adopt(claim.prediction)
        if claim.verdict is ClaimVerdict.FINISHED or claim.verdict is ClaimVerdict.HELD:
            execution.ended = True  # not ours to run or write
            self.context.copies.forget(pid)
            return
        if claim.verdict is ClaimVerdict.CANCELED:
            await execution.end(Done(pid, "canceled"), reason=claim.cancel_reason)
            return
        if claim.verdict is ClaimVerdict.ORPHANED:
            await execution.end(Done(pid, "failed", error=ORPHANED_ERROR))
            return
        failed = self.failed_models.get(item.runner_model)
        if failed is not None:
            error = f"The model {item.prediction.model} could not start: {failed}"
            await execution.end(Done(pid, "failed", error=error))
            return
        await execution.run(self.describe(item.runner_model))

    def _starts_at_claim(self, item: WorkItem) -> Prediction | None:
        """The prediction as it starts, if it goes to a worker the moment it is claimed
        (nothing to check or fetch first, an instance up with the slot it was claimed
        for): then the claim writes its start too, one store write instead of two."""
        if not item.admitted or item.file_keys or item.remote_files:
            return None
        model = item.runner_model
        if model in self.failed_models or not self.runner.starts_now(model):
            return None
        return start(item.prediction, utcnow())

    # ---- cancel requests and lost leases -----------------------------------------------

    async def _listen_for_cancels(self, cancels: CancelSubscription) -> None:
        async for request in cancels:
            try:
                await self.cancel(request)
            except Exception:
                log.exception("canceling %s failed", request.prediction_id)

    async def cancel(self, request: CancelRequest) -> None:
        """Stop a prediction held here (a no-op for one that isn't)."""
        execution = self.executions.get(request.prediction_id)
        if execution is not None:
            await execution.cancel(request.reason)

    def lost(self, prediction_id: str) -> None:
        """Its lease went to another runner: stop it here and write nothing more."""
        execution = self.executions.get(prediction_id)
        # one that ended here (a heartbeat raced its end) has nothing left to stop
        if execution is not None and not execution.ended:
            log.warning("%s: lease lost; stopping it here without writing its end", prediction_id)
            execution.abandon()


def owner_id(node: str, pid: int, nonce: str) -> str:
    """A runner's id in the store: its machine, process and a per-start nonce."""
    return f"{node}:{pid}:{nonce}"
