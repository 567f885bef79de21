"""What only the Redis bus has to show: API nodes and runners in separate processes (here,
bus instances with connections of their own) sharing one Redis, many waiting readers on few
connections, connections that drop, events let go of after `done`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from foretell.streaming.bus import CancelRequest, EventsDropped, StreamEvent
from foretell.streaming.redis import RedisBus
from tests.queue.redisdb import URL, scratch_prefix


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    async with scratch_prefix() as prefix:
        yield prefix


@pytest.fixture
async def nodes(prefix: str) -> AsyncIterator[list[RedisBus]]:
    """Two buses on the same keys, as two processes would have."""
    buses = [RedisBus(URL, prefix=prefix, keep_s=30) for _ in range(2)]
    yield buses
    for bus in buses:
        await bus.close()


async def _connections(prefix: str) -> list[dict[str, str]]:
    """The Redis connections the buses under `prefix` hold now."""
    admin = aioredis.Redis.from_url(URL, decode_responses=True)
    try:
        clients = await admin.client_list()
    finally:
        await admin.aclose()
    return [c for c in clients if c["name"] == f"foretell-bus:{prefix}"]


async def _waiting(
    bus: RedisBus, prediction_id: str, position: int
) -> asyncio.Task[list[StreamEvent]]:
    """A reader blocked on the bus (the test goes on once it is registered as waiting)."""
    task = asyncio.create_task(bus.read(prediction_id, position, 30))
    while not any(
        w.waiters for w in bus._reader._watches.values() if w.prediction_id == prediction_id
    ):
        await asyncio.sleep(0)
    return task


async def test_a_reader_sees_what_another_node_publishes(nodes: list[RedisBus]) -> None:
    """A reader waiting on one node gets the event published on the other at once."""
    api, runner = nodes
    reader = await _waiting(api, "p", 0)
    assert await runner.publish("p", "output", "a") == 0
    assert [e.data for e in await asyncio.wait_for(reader, 10)] == ["a"]
    reader = await _waiting(api, "p", 1)
    await runner.publish("p", "done", {"status": "succeeded"})
    assert [e.name for e in await asyncio.wait_for(reader, 10)] == ["done"]


async def test_seqs_count_up_across_publishers(nodes: list[RedisBus]) -> None:
    """Two nodes publishing to one prediction at once get 0, 1, 2… between them, no gaps."""
    first, second = nodes
    seqs = await asyncio.gather(
        *(bus.publish("p", "logs", str(n)) for n in range(50) for bus in (first, second))
    )
    assert sorted(seqs) == list(range(100))
    assert [e.seq for e in await first.read("p", 0, 0)] == list(range(100))


async def test_many_waiting_readers_share_one_connection(
    nodes: list[RedisBus], prefix: str
) -> None:
    """500 readers waiting on 500 predictions hold a few connections, not 500; each gets
    its prediction's event."""
    api, runner = nodes
    readers = [asyncio.create_task(api.read(f"p{n}", 0, 30)) for n in range(500)]
    while sum(len(w.waiters) for w in api._reader._watches.values()) < 500:
        await asyncio.sleep(0)
    connections = await _connections(prefix)
    assert len(connections) <= 2 * 32 + 1  # the pools' bound, and the XREAD's own
    assert [c["cmd"] for c in connections if "b" in c["flags"]] == ["xread"]
    await asyncio.gather(*(runner.publish(f"p{n}", "output", n) for n in range(500)))
    results = await asyncio.wait_for(asyncio.gather(*readers), 10)
    assert [events[0].data for events in results] == list(range(500))


async def test_cancel_requests_cross_nodes(nodes: list[RedisBus]) -> None:
    """A cancel request made on an API node reaches the runner's subscription."""
    api, runner = nodes
    subscription = runner.cancels()
    await runner.open()  # following from now on
    await api.request_cancel(CancelRequest("p1", "stop"))
    async for request in subscription:
        assert request == CancelRequest("p1", "stop")
        break
    subscription.close()


async def test_the_bus_reconnects_after_its_connections_are_killed(
    nodes: list[RedisBus], prefix: str
) -> None:
    """A waiting reader and a cancel subscription keep working after Redis drops every
    connection of the bus (CLIENT KILL): they reconnect and miss nothing."""
    api, runner = nodes
    subscription = runner.cancels()
    await runner.open()
    reader = await _waiting(runner, "p", 0)
    admin = aioredis.Redis.from_url(URL)
    try:
        for client in await _connections(prefix):
            await admin.client_kill_filter(_id=client["id"])
    finally:
        await admin.aclose()
    await api.publish("p", "output", "after the drop")
    await api.request_cancel(CancelRequest("p"))
    assert [e.data for e in await asyncio.wait_for(reader, 10)] == ["after the drop"]
    async for request in subscription:
        assert request.prediction_id == "p"
        break
    subscription.close()
    assert await runner.publish("p", "done", {}) == 1  # its own pool reconnected too


async def test_done_lets_the_events_go_after_keep_s(nodes: list[RedisBus], prefix: str) -> None:
    """`done` leaves the stream for keep_s; once it is gone, a reader past 0 is told."""
    bus = nodes[0]
    await bus.publish("p", "output", "a")
    await bus.publish("p", "done", {})
    admin = aioredis.Redis.from_url(URL)
    try:
        ttl = await admin.ttl(f"{prefix}:events:p")
        assert 0 < ttl <= 30
        await admin.delete(f"{prefix}:events:p")  # what the expiry does, without the wait
    finally:
        await admin.aclose()
    assert await bus.has_events("p") is False
    with pytest.raises(EventsDropped) as dropped:
        await bus.read("p", 2, 0)
    assert dropped.value.first == 0
    assert await bus.read("p", 0, 0) == []  # from the start: waits for a first event


async def test_a_waiting_reader_that_falls_behind_is_told_where_to_resume(
    prefix: str,
) -> None:
    """Events trimmed before the shared XREAD got to them are reported, not skipped."""
    bus = RedisBus(URL, prefix=prefix, max_events=5)
    try:
        await bus.publish("p", "logs", "0")
        reader = await _waiting(bus, "p", 1)
        async with aioredis.Redis.from_url(URL) as other:
            # 20 events in one round trip: the XREAD wakes after the stream was trimmed
            async with other.pipeline(transaction=True) as pipe:
                for n in range(1, 21):
                    pipe.xadd(f"{prefix}:events:p", {"n": "logs", "d": f'"{n}"'}, id="0-*",
                              maxlen=5, approximate=False)  # fmt: skip
                await pipe.execute()
        with pytest.raises(EventsDropped) as dropped:
            await asyncio.wait_for(reader, 10)
        assert dropped.value.first == 16
        assert [e.data for e in await bus.read("p", 16, 0)] == [str(n) for n in range(16, 21)]
    finally:
        await bus.close()
