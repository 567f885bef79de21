"""What only the Redis queue has to show: several runners (separate connections, as separate
processes have) on one Redis, a runner that vanishes, a Redis that loses its data."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator

import pytest

from foretell.core.prediction import Prediction
from foretell.core.status import Status
from foretell.queue.codec import dump_item, load_item
from foretell.queue.protocol import Lease, LeaseLost, WorkItem
from foretell.queue.redis import RedisQueue
from tests.queue.redisdb import URL, delete_prefix, scratch_prefix


class Clock:
    """A clock the test moves by hand, shared by every runner of a test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    async with scratch_prefix() as prefix:
        yield prefix


@pytest.fixture
async def runners(prefix: str, clock: Clock) -> AsyncIterator[list[RedisQueue]]:
    """Two queues on the same keys, each with its own connections and consumer name."""
    queues = [RedisQueue(URL, prefix=prefix, clock=clock) for _ in range(2)]
    yield queues
    for queue in queues:
        await queue.close()


def _item(n: int, model: str = "acme/a") -> WorkItem:
    prediction = Prediction(
        id=f"p{n}", account="ann", model=model, version="v", input={"n": n},
        created_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
    )  # fmt: skip
    return WorkItem(prediction, model)


async def _drain(queue: RedisQueue, taken: list[Lease]) -> None:
    while (lease := await queue.claim(["acme/a"], 10)) is not None:
        taken.append(lease)
        await asyncio.sleep(0)  # let the other runner's claim interleave


async def test_two_runners_never_get_the_same_live_item(runners: list[RedisQueue]) -> None:
    """Runners claiming one stream at once split its items: each goes to exactly one."""
    first, second = runners
    for n in range(60):
        await first.put(_item(n))
    taken: tuple[list[Lease], list[Lease]] = ([], [])
    await asyncio.gather(_drain(first, taken[0]), _drain(second, taken[1]))
    ids = [lease.item.prediction.id for leases in taken for lease in leases]
    assert sorted(ids) == sorted(f"p{n}" for n in range(60))
    assert taken[0] and taken[1]  # both took some: they really competed


async def test_a_put_wakes_one_waiting_runner_and_only_one_gets_it(
    runners: list[RedisQueue],
) -> None:
    """Two runners wait on the same model; a single put goes to one of them."""
    waiting = [asyncio.create_task(q.claim(["acme/a"], 10, wait_s=1.5)) for q in runners]
    await asyncio.sleep(0.05)  # both are blocked (if not, one claims at once: same outcome)
    await runners[0].put(_item(1))
    leases = await asyncio.gather(*waiting)
    assert sorted(lease is None for lease in leases) == [False, True]


async def test_a_vanished_runners_item_is_reclaimed_only_once_its_lease_ran_out(
    runners: list[RedisQueue], clock: Clock
) -> None:
    """While its holder heartbeats, nobody else gets the item, however long it runs; once
    the holder is gone and its lease ran out, another runner gets it, as attempt 2."""
    holder, other = runners
    await holder.put(_item(1))
    lease = await holder.claim(["acme/a"], 10)
    assert lease is not None
    for _ in range(20):  # 180 s of heartbeats, each before the lease ran out
        clock.now += 9
        lease = await holder.extend(lease, 10)
        assert await other.claim(["acme/a"], 10) is None
    await holder.close()  # the runner vanishes: no ack, no release
    clock.now += 9.9
    assert await other.claim(["acme/a"], 10) is None
    clock.now += 0.2
    again = await other.claim(["acme/a"], 10)
    assert again is not None and again.item.prediction.id == "p1" and again.attempt == 2
    await other.ack(again)
    assert await other.depth("acme/a") == 0


async def test_the_old_holder_cannot_give_back_or_ack_what_another_holds(
    runners: list[RedisQueue], clock: Clock
) -> None:
    """A holder whose lease ran out and was reclaimed: release is a no-op, ack raises."""
    first, second = runners
    await first.put(_item(1))
    stale = await first.claim(["acme/a"], 10)
    assert stale is not None
    clock.now += 11
    live = await second.claim(["acme/a"], 10)
    assert live is not None
    await first.release(stale)
    assert await first.claim(["acme/a"], 10) is None  # still the second runner's
    with pytest.raises(LeaseLost):
        await first.ack(stale)
    await second.ack(live)


async def test_a_given_back_item_can_be_removed_and_counts_as_waiting(
    runners: list[RedisQueue],
) -> None:
    """An item given back waits again: depth counts it and a cancel can take it out."""
    queue = runners[0]
    await queue.put(_item(1))
    lease = await queue.claim(["acme/a"], 10)
    assert lease is not None and await queue.depth("acme/a") == 0
    await queue.release(lease)
    assert await queue.depth("acme/a") == 1
    assert await queue.remove("p1") is True
    assert await queue.depth("acme/a") == 0
    assert await queue.claim(["acme/a"], 10) is None


async def test_the_epoch_changes_when_redis_loses_its_data(
    runners: list[RedisQueue], prefix: str
) -> None:
    """Every queue on one Redis reads one epoch until the data is gone, then a new one."""
    first, second = runners
    epoch = await first.epoch()
    assert await second.epoch() == epoch == await first.epoch()
    await delete_prefix(prefix)  # what a restart without persistence does to our keys
    renewed = await second.epoch()
    assert renewed != epoch and await first.epoch() == renewed


async def test_a_wiped_redis_takes_new_work_at_once(runners: list[RedisQueue], prefix: str) -> None:
    """After Redis lost everything (its consumer group too), puts and claims just work."""
    queue = runners[0]
    await queue.put(_item(1))
    assert await queue.claim(["acme/a"], 10) is not None
    await delete_prefix(prefix)
    await queue.put(_item(2))
    lease = await queue.claim(["acme/a"], 10)
    assert lease is not None and lease.item.prediction.id == "p2" and lease.attempt == 1


async def test_a_wipe_does_not_take_running_work_from_its_runner(
    runners: list[RedisQueue], prefix: str, clock: Clock
) -> None:
    """A lease claimed before Redis lost its data is taken up again by its heartbeat (the
    runner goes on) and then guarded as before: another runner can't take it, it can be
    acked. A lease lost in the same Redis stays lost."""
    holder, other = runners
    await holder.put(_item(1))
    lease = await holder.claim(["acme/a"], 10)
    assert lease is not None
    await delete_prefix(prefix)
    await other.put(_item(2))
    assert (fresh := await other.claim(["acme/a"], 10)) is not None  # a new epoch begins
    lease = await holder.extend(lease, 10)
    clock.now += 9
    lease = await holder.extend(lease, 10)
    assert await other.claim(["acme/a"], 10) is None
    await holder.ack(lease)
    clock.now += 11  # fresh's lease ran out: it is lost, in the epoch it was claimed in
    with pytest.raises(LeaseLost):
        await other.extend(fresh, 10)


def test_items_survive_the_codec_whole() -> None:
    """Every field of a WorkItem, its prediction's times and status included, round-trips."""
    created = datetime.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=datetime.UTC)
    prediction = Prediction(
        id="p9", account="ann", model="acme/a", version="v1", input={"image": "x", "n": 2.5},
        created_at=created, status=Status.PROCESSING, started_at=created, deadline=created,
        output_files=((0, "image"),), webhook="https://example.test/hook",
        webhook_events_filter=("completed",), iterator=True,
    )  # fmt: skip
    item = WorkItem(
        prediction, "acme-a", file_keys={"https://api/v1/files/f1": "uploads/f1"},
        remote_files=("https://elsewhere/x.png",), admitted=False, base_url="https://api",
    )  # fmt: skip
    assert load_item(dump_item(item)) == item
