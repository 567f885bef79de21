"""The WorkQueue contract: one suite, run against every engine (memory, Redis).

Time is a manual clock, so leases expire when the test says, not after a sleep. The Redis
engine runs on a key prefix of its own, deleted afterwards.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator, Callable

import pytest

from foretell.core.prediction import Prediction
from foretell.queue import Lease, LeaseLost, WorkItem, WorkQueue
from foretell.queue.memory import MemoryQueue
from foretell.queue.redis import RedisQueue
from tests.queue.redisdb import URL, scratch_prefix


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


#: engine name -> a queue on the clock, under a key prefix (for engines that share a server)
ENGINES: dict[str, Callable[[Clock, str], WorkQueue]] = {
    "memory": lambda clock, _: MemoryQueue(clock),
    "redis": lambda clock, prefix: RedisQueue(URL, prefix=prefix, clock=clock),
}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=sorted(ENGINES))
async def queue(request: pytest.FixtureRequest, clock: Clock) -> AsyncIterator[WorkQueue]:
    async with scratch_prefix() as prefix:
        engine = ENGINES[request.param](clock, prefix)
        yield engine
        if isinstance(engine, RedisQueue):
            await engine.close()


def _item(n: int, model: str = "acme/a") -> WorkItem:
    prediction = Prediction(
        id=f"p{n}", account="ann", model=model, version="v", input={},
        created_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
    )  # fmt: skip
    return WorkItem(prediction, model)


async def _claim(queue: WorkQueue, *models: str, lease_s: float = 10) -> Lease:
    lease = await queue.claim(models or ("acme/a",), lease_s)
    assert lease is not None
    return lease


async def test_items_are_claimed_in_order_per_model(queue: WorkQueue) -> None:
    """Each model's items come out oldest first, only to a claimer of that model."""
    await queue.put(_item(1, "acme/a"))
    await queue.put(_item(2, "acme/b"))
    await queue.put(_item(3, "acme/a"))
    assert await queue.claim(["acme/c"], 10) is None
    assert (await _claim(queue, "acme/a")).item.prediction.id == "p1"
    assert (await _claim(queue, "acme/a")).item.prediction.id == "p3"
    assert (await _claim(queue, "acme/b", "acme/a")).item.prediction.id == "p2"
    assert await queue.claim(["acme/a", "acme/b"], 10) is None


async def test_a_claimed_item_is_not_claimed_twice_while_its_lease_holds(
    queue: WorkQueue, clock: Clock
) -> None:
    """A live lease keeps the item from everyone else; heartbeats keep it alive."""
    await queue.put(_item(1))
    lease = await _claim(queue)
    clock.now += 9
    lease = await queue.extend(lease, 10)
    clock.now += 9
    assert await queue.claim(["acme/a"], 10) is None
    await queue.ack(lease)
    clock.now += 100
    assert await queue.claim(["acme/a"], 10) is None  # acked: gone for good


async def test_an_expired_lease_is_claimable_again_and_the_old_holder_loses(
    queue: WorkQueue, clock: Clock
) -> None:
    """Past its lease the item goes to the next claimer; the first one's ack/extend fail."""
    await queue.put(_item(1))
    first = await _claim(queue)
    clock.now += 11
    second = await _claim(queue)
    assert second.item.prediction.id == "p1" and second.attempt == 2
    assert second.token != first.token
    with pytest.raises(LeaseLost):
        await queue.extend(first, 10)
    with pytest.raises(LeaseLost):
        await queue.ack(first)
    await queue.ack(second)


async def test_expired_work_goes_before_newer_work(queue: WorkQueue, clock: Clock) -> None:
    """An item whose runner died is taken up before items queued after it."""
    await queue.put(_item(1))
    await _claim(queue)
    await queue.put(_item(2))
    clock.now += 11
    assert (await _claim(queue)).item.prediction.id == "p1"


async def test_release_gives_an_item_back_at_the_front(queue: WorkQueue) -> None:
    """A released item is claimable at once, ahead of newer ones; releasing twice is a no-op."""
    await queue.put(_item(1))
    await queue.put(_item(2))
    lease = await _claim(queue)
    await queue.release(lease)
    await queue.release(lease)
    assert await queue.depth("acme/a") == 2
    assert (await _claim(queue)).item.prediction.id == "p1"


async def test_remove_takes_out_a_waiting_item_only(queue: WorkQueue) -> None:
    """A queued item can be removed (it never runs); a claimed one can't."""
    await queue.put(_item(1))
    await queue.put(_item(2))
    assert await queue.remove("p2") is True
    assert await queue.remove("p2") is False
    await _claim(queue)
    assert await queue.remove("p1") is False
    assert await queue.depth("acme/a") == 0


async def test_a_waiting_claim_wakes_on_put(queue: WorkQueue) -> None:
    """claim(wait_s=…) returns as soon as an item of its model arrives."""
    waiter = asyncio.create_task(queue.claim(["acme/a"], 10, wait_s=30))
    await asyncio.sleep(0)  # let it start waiting
    await queue.put(_item(1, "acme/b"))
    await queue.put(_item(2, "acme/a"))
    lease = await asyncio.wait_for(waiter, 10)
    assert lease is not None and lease.item.prediction.id == "p2"


async def test_a_waiting_claim_gives_up_after_wait_s(queue: WorkQueue, clock: Clock) -> None:
    """With nothing to claim, claim returns None once its wait is over."""
    clock.now += 0
    assert await queue.claim(["acme/a"], 10, wait_s=0) is None
