"""The Consumer and cancels, leases and drains: a canceled prediction never runs or stops
where it is; a lease lost or held elsewhere stops it here without a write."""

from __future__ import annotations

import asyncio
import datetime
import pathlib
from collections.abc import AsyncIterator

import pytest

from foretell.core.events import Done, Started
from foretell.core.prediction import Prediction, finish
from foretell.core.status import OPEN, Status
from foretell.core.times import utcnow
from foretell.queue.protocol import Lease, WorkItem
from tests.runner.seam import MODEL, Seam, open_seam


@pytest.fixture
async def seam(tmp_path: pathlib.Path) -> AsyncIterator[Seam]:
    async with open_seam(tmp_path) as opened:
        yield opened


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
