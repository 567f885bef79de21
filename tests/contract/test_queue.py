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


def _item(n: int, model: str = "acme/a", *, account: str = "ann", priority: int = 0) -> WorkItem:
    prediction = Prediction(
        id=f"p{n}", account=account, model=model, version="v", input={},
        created_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC), priority=priority,
    )  # fmt: skip
    return WorkItem(prediction, model)


async def _ids(queue: WorkQueue, count: int, *models: str) -> list[str]:
    """The ids of the next `count` claims (acked at once)."""
    ids = []
    for _ in range(count):
        lease = await _claim(queue, *models)
        ids.append(lease.item.prediction.id)
        await queue.ack(lease)
    return ids


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


async def test_higher_priority_levels_go_first_fifo_within_a_level(queue: WorkQueue) -> None:
    """Level 0 before 1 before 2 whatever the arrival; oldest first within a level."""
    await queue.put(_item(1, priority=2))
    await queue.put(_item(2, priority=1))
    await queue.put(_item(3, priority=0))
    await queue.put(_item(4, priority=2))
    await queue.put(_item(5, priority=0))
    await queue.put(_item(6, priority=7))  # not a level: the default one
    assert await _ids(queue, 6) == ["p3", "p5", "p6", "p2", "p1", "p4"]


async def test_a_higher_level_of_any_model_goes_before_model_order(queue: WorkQueue) -> None:
    """Across the models of one claim, the level decides first, then the models' order."""
    await queue.put(_item(1, "acme/a", priority=1))
    await queue.put(_item(2, "acme/b", priority=0))
    await queue.put(_item(3, "acme/a", priority=0))
    assert await _ids(queue, 3, "acme/a", "acme/b") == ["p3", "p2", "p1"]


async def test_a_given_back_item_goes_before_higher_levels(queue: WorkQueue) -> None:
    """A released item was already due: it is claimed before anything new."""
    await queue.put(_item(1, priority=2))
    lease = await _claim(queue)
    await queue.put(_item(2, priority=0))
    await queue.release(lease)
    assert await _ids(queue, 2) == ["p1", "p2"]


async def test_fair_share_one_accounts_burst_does_not_starve_another(queue: WorkQueue) -> None:
    """Account A queues 100, then B one: B's is claimed within the first 2."""
    for n in range(100):
        await queue.put(_item(n, account="a"))
    await queue.put(_item(100, account="b"))
    first = await _ids(queue, 2)
    assert "p100" in first


async def test_fair_share_rotates_between_accounts_in_arrival_order(queue: WorkQueue) -> None:
    """With several accounts waiting, claims take one of each in turn, each oldest first."""
    for n in range(3):
        await queue.put(_item(n, account="a"))
    for n in range(3, 5):
        await queue.put(_item(n, account="b"))
    await queue.put(_item(5, account="c"))
    assert await _ids(queue, 6) == ["p0", "p3", "p5", "p1", "p4", "p2"]


async def test_an_account_back_from_idle_gets_no_credit(queue: WorkQueue) -> None:
    """An account that waited nothing for a while joins the current round, not round 0:
    it can't claim a run of items ahead of the others for having been quiet."""
    for n in range(4):
        await queue.put(_item(n, account="a"))
    assert await _ids(queue, 2) == ["p0", "p1"]
    for n in range(10, 13):
        await queue.put(_item(n, account="b"))
    assert await _ids(queue, 4) == ["p10", "p2", "p11", "p3"]


async def test_fair_share_is_per_level(queue: WorkQueue) -> None:
    """An account's items at one level don't cost it its turn at another."""
    for n in range(3):
        await queue.put(_item(n, account="a", priority=1))
    await queue.put(_item(3, account="a", priority=0))
    await queue.put(_item(4, account="b", priority=0))
    assert await _ids(queue, 3) == ["p3", "p4", "p0"]


async def test_position_counts_the_items_claimed_before_it(queue: WorkQueue) -> None:
    """0 for the next one; levels and fair share count; None once claimed or unknown."""
    await queue.put(_item(1, priority=1))
    await queue.put(_item(2, priority=1))
    await queue.put(_item(3, priority=0))
    await queue.put(_item(4, "acme/b"))
    assert [await queue.position(f"p{n}") for n in (3, 1, 2, 4)] == [0, 1, 2, 0]
    assert await queue.position("nope") is None
    lease = await _claim(queue)
    assert lease.item.prediction.id == "p3"
    assert await queue.position("p3") is None
    assert await queue.position("p2") == 1
    await queue.release(lease)
    assert await queue.position("p3") == 0 and await queue.position("p2") == 2
    assert await queue.remove("p1")
    assert await queue.position("p2") == 1
