"""Both sides of the seam in one process, with a fake runner: the API's PredictionService
queues, the runner's Consumer claims when a slot is free and ends every prediction,
whichever step fails or is canceled (real SQLite, in-process queue and bus; no sleeps)."""

from __future__ import annotations

import asyncio
import datetime
import pathlib
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from typing import Any

import pytest

from foretell.api.service import PredictionService
from foretell.core.events import Done, Output, Started
from foretell.core.prediction import Prediction, finish
from foretell.core.status import OPEN, Status
from foretell.core.times import utcnow
from foretell.files.local import LocalFiles
from foretell.queue.memory import MemoryQueue
from foretell.queue.protocol import Lease, WorkItem
from foretell.runner.consumer import Consumer
from foretell.runner.errors import UnknownModel
from foretell.runner.execution import ExecutionContext
from foretell.runner.handle import PredictionHandle
from foretell.runner.live import LiveCopies
from foretell.runner.spec import PredictionRequest
from foretell.store.sqlite import SQLiteStore
from foretell.streaming.memory import MemoryBus

MODEL = "acme/echo"


class FakeRunner:
    """Hands out handles the test drives; `slots` free slots; can fail at submit."""

    def __init__(self) -> None:
        self.model_names: Collection[str] = [MODEL]
        self.slots = 1
        self.handles: dict[str, PredictionHandle] = {}
        self.requests: dict[str, PredictionRequest] = {}
        self.submitted = asyncio.Event()
        self.canceled: list[str] = []
        self.fail_submit: Exception | None = None
        #: an instance is up: a claim for a free slot starts it at once
        self.up = False

    def cold_boot(self, name: str) -> None:
        return None

    def starts_now(self, name: str) -> bool:
        return self.up

    def capacity(self, name: str) -> int:
        return self.slots

    async def submit(self, name: str, request: PredictionRequest) -> PredictionHandle:
        if self.fail_submit is not None:
            raise self.fail_submit
        handle = PredictionHandle(request.id)
        self.handles[request.id] = handle
        self.requests[request.id] = request
        self.submitted.set()
        return handle

    async def running(self, prediction_id: str) -> PredictionHandle:
        """The handle once the consumer submitted it."""
        while prediction_id not in self.handles:
            self.submitted.clear()
            await self.submitted.wait()
        return self.handles[prediction_id]

    async def cancel(self, prediction_id: str) -> bool:
        handle = self.handles.get(prediction_id)
        if handle is None or handle.finished:
            return False
        self.canceled.append(prediction_id)
        handle.deliver(Done(prediction_id, "canceled"))
        return True


class FakeOutbound:
    """A download that fails, or waits until released."""

    def __init__(self) -> None:
        self.fail: Exception | None = None
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def download(self, url: str, target: pathlib.Path) -> pathlib.Path:
        self.started.set()
        if self.fail is not None:
            raise self.fail
        await self.release.wait()
        target.write_bytes(b"data")
        return target


@dataclass
class Seam:
    store: SQLiteStore
    queue: MemoryQueue
    service: PredictionService
    consumer: Consumer
    runner: FakeRunner
    outbound: FakeOutbound
    clock: list[float]

    async def create(self, n: int = 1, remote: tuple[str, ...] = ()) -> Prediction:
        prediction = Prediction(
            id=f"p{n}", account="ann", model=MODEL, version="v" * 64, input={},
            created_at=utcnow(),
        )  # fmt: skip
        await self.service.create(WorkItem(prediction, MODEL, remote_files=remote))
        return prediction

    async def ended(self, prediction_id: str) -> Prediction:
        await self.service.wait("ann", prediction_id, 10)
        stored = await self.store.get_prediction("ann", prediction_id)
        assert stored is not None and stored.status.is_terminal, stored
        return stored


@pytest.fixture
async def seam(tmp_path: pathlib.Path) -> AsyncIterator[Seam]:
    store = SQLiteStore(tmp_path / "foretell.db")
    await store.open()
    clock = [0.0]
    queue = MemoryQueue(clock=lambda: clock[0])
    bus = MemoryBus()
    runner, outbound = FakeRunner(), FakeOutbound()
    context = ExecutionContext(
        bus, LiveCopies(store, lambda: None), LocalFiles(tmp_path / "files"), outbound,
        tmp_path / "scratch",
    )  # fmt: skip
    consumer = Consumer(
        runner,  # type: ignore[arg-type]
        queue, store, bus, context, "runner-a", lambda _: None,
    )  # fmt: skip
    consumer.start()
    yield Seam(
        store, queue, PredictionService(store, queue, bus), consumer, runner, outbound, clock
    )
    await consumer.close()
    await store.close()


async def test_a_prediction_runs_and_its_end_is_stored_before_done(seam: Seam) -> None:
    """The happy path: claimed, started, succeeded; `wait` returns once it is stored."""
    p = await seam.create()
    handle = await seam.runner.running(p.id)
    handle.deliver(Started(p.id))
    handle.deliver(Done(p.id, "succeeded", output="hi"))
    ended = await seam.ended(p.id)
    assert ended.status is Status.SUCCEEDED and ended.output == "hi"


async def test_with_an_instance_up_the_claim_writes_the_start(seam: Seam) -> None:
    """Claimed for a free slot of a running instance: it is `processing` in the store
    before the worker's Started (one write for the claim and the start), and ends as usual."""
    seam.runner.up = True
    p = await seam.create()
    handle = await seam.runner.running(p.id)
    stored = await seam.store.get_prediction("ann", p.id)
    assert stored is not None and stored.status is Status.PROCESSING
    assert stored.started_at is not None
    handle.deliver(Started(p.id))
    handle.deliver(Done(p.id, "succeeded", output="hi"))
    ended = await seam.ended(p.id)
    assert ended.status is Status.SUCCEEDED and ended.started_at == stored.started_at


async def test_a_heartbeat_between_taking_work_and_claiming_it_does_not_stop_it(
    seam: Seam,
) -> None:
    """A heartbeat that comes after the runner took an item from the queue but before its
    claim is in the store finds no lease of this runner there: that is not a lost lease
    (it once was, and the prediction stayed `starting` for good)."""
    other = "acme/other"  # no claimer of the consumer's takes it: this test does
    p = Prediction(
        id="p1", account="ann", model=other, version="v" * 64, input={}, created_at=utcnow()
    )
    await seam.service.create(WorkItem(p, other))
    lease = await seam.queue.claim([other], 30)
    assert lease is not None
    seam.consumer._take(lease)
    await seam.consumer.leases.heartbeat()  # before the claim's write
    handle = await seam.runner.running(p.id)
    handle.deliver(Started(p.id))
    handle.deliver(Done(p.id, "succeeded", output="hi"))
    ended = await seam.ended(p.id)
    assert ended.status is Status.SUCCEEDED


async def test_a_download_that_raises_anything_fails_the_prediction(seam: Seam) -> None:
    """Any exception while downloading an input (here a bad port) ends it failed, with why."""
    seam.outbound.fail = ValueError("Port out of range 0-65535")
    p = await seam.create(remote=("http://127.0.0.1:99999/x",))
    ended = await seam.ended(p.id)
    assert ended.status is Status.FAILED and ended.error is not None
    assert "Could not download the input file http://127.0.0.1:99999/x" in ended.error
    assert "Port out of range" in ended.error


async def test_a_runner_that_raises_fails_the_prediction(seam: Seam) -> None:
    """An unknown model or an unexpected error at submit ends the prediction failed."""
    for n, error in enumerate([UnknownModel(MODEL), RuntimeError("boom")]):
        seam.runner.fail_submit = error
        p = await seam.create(n)
        ended = await seam.ended(p.id)
        assert ended.status is Status.FAILED
        assert ended.error and ("not running" in ended.error or "RuntimeError: boom" in ended.error)


async def test_an_output_that_cannot_be_kept_fails_the_prediction_and_stops_it(
    seam: Seam,
) -> None:
    """A streamed output file that is missing fails the prediction; the runner is told to stop."""
    p = await seam.create()
    handle = await seam.runner.running(p.id)
    handle.deliver(Started(p.id))
    handle.deliver(Output(p.id, "/nonexistent/out.png", files=[[]]))
    ended = await seam.ended(p.id)
    assert ended.status is Status.FAILED
    assert ended.error and "could not keep" in ended.error
    assert seam.runner.canceled == [p.id]


async def test_a_final_output_that_cannot_be_kept_fails_the_prediction(seam: Seam) -> None:
    """Done with a missing output file ends failed, not processing."""
    p = await seam.create()
    handle = await seam.runner.running(p.id)
    handle.deliver(Started(p.id))
    handle.deliver(Done(p.id, "succeeded", output="/nonexistent/out.png", files=[[]]))
    ended = await seam.ended(p.id)
    assert ended.error and "could not keep this prediction's output" in ended.error


async def test_a_failed_save_is_retried_by_the_flusher(
    seam: Seam, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the store refuses the final state once, it is written on the next flush."""
    p = await seam.create()
    handle = await seam.runner.running(p.id)
    real = seam.store.transition
    calls = 0

    async def flaky(prediction: Prediction, states: Any, deliveries: Any = ()) -> bool:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("disk full")
        return await real(prediction, states, deliveries)

    monkeypatch.setattr(seam.store, "transition", flaky)
    handle.deliver(Done(p.id, "succeeded", output="ok"))
    await seam.service.wait("ann", p.id, 10)
    copies = seam.consumer.context.copies
    assert p.id in copies.by_id  # kept until it is saved
    await copies.flush()
    stored = await seam.store.get_prediction("ann", p.id)
    assert stored is not None and stored.status is Status.SUCCEEDED
    assert p.id not in copies.by_id


async def test_cancel_while_downloading_ends_it(seam: Seam) -> None:
    """A prediction canceled while its inputs download ends canceled and never runs."""
    p = await seam.create(remote=("https://example.com/in.png",))
    await seam.outbound.started.wait()
    await seam.service.cancel(p)
    ended = await seam.ended(p.id)
    assert ended.status is Status.CANCELED
    assert seam.runner.handles == {}


async def test_a_queued_prediction_waits_for_a_free_slot_and_a_cancel_keeps_it_from_running(
    seam: Seam,
) -> None:
    """The queue, not the runner, holds what waits; a cancel takes it out for good."""
    first = await seam.create(1)
    await seam.runner.running(first.id)
    second = await seam.create(2)
    assert await seam.queue.depth(MODEL) == 1  # not claimed: no free slot
    await seam.service.cancel(second, "changed my mind")
    ended = await seam.ended(second.id)
    assert ended.status is Status.CANCELED and ended.error == "changed my mind"
    assert await seam.queue.depth(MODEL) == 0
    seam.runner.handles[first.id].deliver(Done(first.id, "succeeded"))
    await seam.ended(first.id)
    assert list(seam.runner.handles) == [first.id]


async def test_the_next_one_is_claimed_when_a_slot_frees(seam: Seam) -> None:
    """One slot: the second prediction starts once the first has ended."""
    first, second = await seam.create(1), await seam.create(2)
    (await seam.runner.running(first.id)).deliver(Done(first.id, "succeeded"))
    (await seam.runner.running(second.id)).deliver(Done(second.id, "succeeded"))
    assert (await seam.ended(second.id)).status is Status.SUCCEEDED


async def test_a_durable_cancel_request_is_honoured_by_a_later_claim(seam: Seam) -> None:
    """Asked for while no runner held it (and it was not in this queue): never runs."""
    p = Prediction(
        id="p1", account="ann", model=MODEL, version="v" * 64, input={}, created_at=utcnow()
    )
    await seam.store.create_prediction(p)  # stored, not queued yet: as if between the two
    state = await seam.store.request_cancel(p.id, "too late")
    assert state is not None and not state.held
    await seam.queue.put(WorkItem(p, MODEL))
    ended = await seam.ended(p.id)
    assert ended.status is Status.CANCELED and ended.error == "too late"
    assert seam.runner.handles == {}


async def test_cancel_while_running_goes_through_the_runner(seam: Seam) -> None:
    """A running prediction is canceled by the runner that holds it (over the bus)."""
    p = await seam.create()
    (await seam.runner.running(p.id)).deliver(Started(p.id))
    await seam.service.cancel(p)
    ended = await seam.ended(p.id)
    assert ended.status is Status.CANCELED and seam.runner.canceled == [p.id]


async def test_a_queue_that_lost_the_lease_does_not_stop_it(seam: Seam) -> None:
    """The queue let the lease go (a Redis that restarted, a copy delivered again), but the
    store still says this runner has it: it runs on and its end is written."""
    p = await seam.create()
    handle = await seam.runner.running(p.id)
    handle.deliver(Started(p.id))
    await seam.consumer.context.copies.flush()
    seam.clock[0] += 3600  # the queue lease expires…
    reclaimed = await seam.queue.claim([MODEL], 30)  # …and the queue hands the item out again
    assert reclaimed is not None
    await seam.consumer.leases.heartbeat()
    assert seam.runner.canceled == []
    handle.deliver(Done(p.id, "succeeded", output="hi"))
    ended = await seam.ended(p.id)
    assert ended.status is Status.SUCCEEDED and ended.output == "hi"


async def test_a_lease_the_store_gave_away_stops_it_here_without_writing(seam: Seam) -> None:
    """The store ended it elsewhere (its lease was thought dead and it was failed): this
    runner stops it at the next heartbeat and writes nothing more."""
    p = await seam.create()
    handle = await seam.runner.running(p.id)
    handle.deliver(Started(p.id))
    await seam.consumer.context.copies.flush()
    stored = await seam.store.get_prediction("ann", p.id)
    assert stored is not None
    orphaned = finish(stored, Status.FAILED, utcnow(), error="its runner stopped")
    assert await seam.store.transition(orphaned, OPEN)
    task = seam.consumer.executions[p.id].task
    assert task is not None
    await seam.consumer.leases.heartbeat()
    await asyncio.gather(task, return_exceptions=True)
    assert seam.runner.canceled == [p.id]
    assert p.id not in seam.consumer.executions
    assert p.id not in seam.consumer.context.copies.by_id  # no stale progress written later
    final = await seam.store.get_prediction("ann", p.id)
    assert final is not None and final.error == "its runner stopped"


async def test_drain_fails_what_is_still_running_after_the_grace_period(seam: Seam) -> None:
    """On shutdown, a prediction that doesn't finish in time ends failed with the reason."""
    p = await seam.create()
    (await seam.runner.running(p.id)).deliver(Started(p.id))
    force = asyncio.Event()
    force.set()
    await seam.consumer.drain(30, "The server shut down.", force)
    stored = await seam.store.get_prediction("ann", p.id)
    assert stored is not None and stored.status is Status.FAILED
    assert stored.error == "The server shut down."


async def test_wait_returns_for_a_finished_prediction_the_bus_let_go_of(
    seam: Seam, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A waiter that comes after the bus dropped a finished prediction's events learns from
    the store that it ended, instead of waiting out its timeout."""
    monkeypatch.setattr("foretell.api.service.RECHECK_S", 0.01)
    seam.runner.slots = 0
    p = await seam.create()
    final = await seam.store.request_cancel(p.id, None)
    assert final is not None
    await seam.store.transition(finish(final.prediction, Status.CANCELED, utcnow()), OPEN)
    quiet = PredictionService(seam.store, seam.queue, MemoryBus())  # a bus that kept nothing
    async with asyncio.timeout(5):
        await quiet.wait("ann", p.id, 60)


async def test_a_prediction_another_runner_holds_is_left_to_it(
    seam: Seam, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second delivery of an item another live runner holds is dropped, never run here."""
    acked = asyncio.Event()
    real_ack = seam.queue.ack

    async def ack(lease: Lease) -> None:
        await real_ack(lease)
        acked.set()

    monkeypatch.setattr(seam.queue, "ack", ack)
    p = Prediction(
        id="p1", account="ann", model=MODEL, version="v" * 64, input={}, created_at=utcnow()
    )
    await seam.store.create_prediction(p)
    await seam.store.claim_prediction(p.id, "runner-b", utcnow() + datetime.timedelta(60))
    await seam.queue.put(WorkItem(p, MODEL))  # delivered again: this consumer claims it…
    async with asyncio.timeout(10):
        await acked.wait()  # …and drops it
    assert seam.runner.handles == {}
    assert p.id not in seam.consumer.context.copies.by_id
