"""The EventBus contract: one suite, run against every engine (memory, Redis).

The Redis engine runs on a key prefix of its own, deleted afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack

import pytest

from foretell.streaming.bus import CancelRequest, EventBus, EventsDropped
from foretell.streaming.hub import StreamHub
from foretell.streaming.memory import MemoryBus
from foretell.streaming.redis import RedisBus
from tests.queue.redisdb import URL, scratch_prefix

#: engine name -> a bus keeping `max_events` per prediction, under a key prefix (for engines
#: that share a server)
ENGINES: dict[str, Callable[[int, str], EventBus]] = {
    "memory": lambda max_events, _: MemoryBus(StreamHub(max_events=max_events)),
    "redis": lambda max_events, prefix: RedisBus(URL, prefix=prefix, max_events=max_events),
}


async def _opened(stack: AsyncExitStack, engine: str, max_events: int) -> EventBus:
    """A bus of `engine`, closed (and its keys deleted) when `stack` closes."""
    prefix = await stack.enter_async_context(scratch_prefix())
    bus = ENGINES[engine](max_events, prefix)
    if isinstance(bus, RedisBus):
        stack.push_async_callback(bus.close)
    return bus


@pytest.fixture(params=sorted(ENGINES))
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[EventBus]:
    async with AsyncExitStack() as stack:
        yield await _opened(stack, request.param, 100_000)


async def test_events_replay_from_any_position(bus: EventBus) -> None:
    """Readers get every event from their position on; seqs count from 0 per prediction."""
    assert [await bus.publish("p", "output", t) for t in "abc"] == [0, 1, 2]
    assert await bus.publish("q", "logs", "other") == 0
    assert [e.data for e in await bus.read("p", 0, 0)] == ["a", "b", "c"]
    assert [e.seq for e in await bus.read("p", 2, 0)] == [2]


async def test_a_reader_waits_for_the_next_event(bus: EventBus) -> None:
    """A read past the end waits for the next publish, or returns [] when its wait is over."""
    await bus.publish("p", "output", "a")
    assert await bus.read("p", 1, 0) == []
    reader = asyncio.create_task(bus.read("p", 1, 30))
    await asyncio.sleep(0)  # the reader is waiting now (if not, it reads the event at once)
    await bus.publish("p", "done", {})
    assert [e.name for e in await asyncio.wait_for(reader, 10)] == ["done"]


async def test_a_reader_too_far_behind_learns_where_to_resume() -> None:
    """Events dropped from a bounded log are reported with the first one still kept."""
    for name in ENGINES:
        async with AsyncExitStack() as stack:
            small = await _opened(stack, name, 10)
            for n in range(30):
                await small.publish("p", "logs", str(n))
            with pytest.raises(EventsDropped) as dropped:
                await small.read("p", 0, 0)
            kept = await small.read("p", dropped.value.first, 0)
            assert kept and kept[-1].data == "29", name


async def test_cancel_requests_reach_every_subscriber(bus: EventBus) -> None:
    """A cancel request goes to each subscription made before it, in order."""
    first, second = bus.cancels(), bus.cancels()
    await bus.request_cancel(CancelRequest("p1", "changed my mind"))
    await bus.request_cancel(CancelRequest("p2"))
    for subscription in (first, second):
        seen = []
        async for request in subscription:
            seen.append(request)
            if len(seen) == 2:
                break
        assert seen == [CancelRequest("p1", "changed my mind"), CancelRequest("p2")]
        subscription.close()
    late = bus.cancels()
    await bus.request_cancel(CancelRequest("p3"))
    async for request in late:
        assert request.prediction_id == "p3"
        break
    late.close()
