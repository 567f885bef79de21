"""WorkQueue.reserve on every engine: the places a create holds before its prediction is
stored, so that concurrent creates never queue more than --max-queue."""

from __future__ import annotations

import asyncio

from foretell.queue import WorkQueue
from foretell.queue.protocol import RESERVE_S
from tests.contract.test_queue import Clock, _claim, _item, clock, queue

__all__ = ["clock", "queue"]  # the fixtures


async def test_places_held_and_items_waiting_count_against_the_cap(queue: WorkQueue) -> None:
    """With one waiting and two held, a cap of 3 is reached; put takes a place over, and a
    claim makes room."""
    await queue.put(_item(1))
    assert await queue.reserve("p2", "acme/a", 3)
    assert await queue.reserve("p3", "acme/a", 3)
    assert not await queue.reserve("p4", "acme/a", 3)
    assert await queue.reserve("p4", "acme/b", 3)  # another model's queue is its own
    await queue.put(_item(2))  # takes p2's place over: still 3 in all
    assert not await queue.reserve("p4", "acme/a", 3)
    await queue.ack(await _claim(queue))
    assert await queue.reserve("p4", "acme/a", 3)
    assert await queue.depth("acme/a") == 1  # depth counts what waits, not places held


async def test_a_place_never_taken_lapses(queue: WorkQueue, clock: Clock) -> None:
    assert await queue.reserve("p1", "acme/a", 1)
    assert not await queue.reserve("p2", "acme/a", 1)
    clock.now += RESERVE_S
    assert await queue.reserve("p2", "acme/a", 1)


async def test_concurrent_reserves_never_pass_the_cap(queue: WorkQueue) -> None:
    await queue.put(_item(0))
    held = await asyncio.gather(*(queue.reserve(f"r{n}", "acme/a", 5) for n in range(40)))
    assert held.count(True) == 4
