"""The RateLimiter contract, on both engines: the buckets of one process, and those in the
Redis queue's Redis that every API node of a cluster shares. Time is a manual clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
import redis.asyncio as aioredis

from foretell.api.ratelimit import RateLimiter, TokenBuckets
from foretell.queue.redis_rates import RedisRateLimiter
from tests.contract.test_queue import Clock, clock
from tests.queue.redisdb import new_prefix

__all__ = ["clock"]  # the fixture

#: this suite's Redis database (the helpers of issue 13 use db 13)
URL = "redis://127.0.0.1:6379/13"


@pytest.fixture
async def redis() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(URL)
    await client.ping()  # Redis down: fails here, loudly
    yield client
    await client.aclose()


#: engine -> a limiter of `rate` a second, bursts of `burst`, on the clock (Redis: under a
#: prefix of its own)
Make = Callable[[float, float], RateLimiter]


@pytest.fixture(params=["memory", "redis"])
async def limiter(
    request: pytest.FixtureRequest, clock: Clock, redis: aioredis.Redis
) -> AsyncIterator[Make]:
    prefix = new_prefix()
    if request.param == "memory":
        yield lambda rate, burst: TokenBuckets(rate, burst, clock)
    else:
        yield lambda rate, burst: RedisRateLimiter(redis, prefix, rate, burst, clock)
    async for key in redis.scan_iter(match=f"{prefix}:*"):
        await redis.delete(key)


async def test_a_burst_then_a_wait_of_one_request(limiter: Make, clock: Clock) -> None:
    """2/s with bursts of 3: three at once, then a fourth waits half a second."""
    buckets = limiter(2, 3)
    assert [await buckets.take("t") for _ in range(3)] == [0, 0, 0]
    assert await buckets.take("t") == pytest.approx(0.5)
    clock.now += 0.25
    assert await buckets.take("t") == pytest.approx(0.25)  # a refused take counts nothing
    clock.now += 0.25
    assert await buckets.take("t") == 0
    assert await buckets.take("other") == 0  # each key its own bucket


async def test_an_idle_key_refills_to_its_burst_only(limiter: Make, clock: Clock) -> None:
    buckets = limiter(1, 2)
    assert [await buckets.take("t") for _ in range(2)] == [0, 0]
    clock.now += 3600
    assert [await buckets.take("t") > 0 for _ in range(3)] == [False, False, True]


async def test_a_clock_behind_refills_nothing(limiter: Make, clock: Clock) -> None:
    """A node whose clock lags the bucket's last take gets no extra requests from it."""
    buckets = limiter(1, 1)
    assert await buckets.take("t") == 0
    clock.now -= 5
    assert await buckets.take("t") > 0


async def test_two_limiters_on_one_redis_share_a_bucket(
    redis: aioredis.Redis, clock: Clock
) -> None:
    """Two API nodes' limiters: 5 concurrent takes each against a burst of 4 in all."""
    prefix = new_prefix()
    nodes = [RedisRateLimiter(redis, prefix, 1, 4, clock) for _ in range(2)]
    try:
        waits = await asyncio.gather(*(node.take("t") for node in nodes for _ in range(5)))
        assert sorted(wait == 0 for wait in waits).count(True) == 4
    finally:
        await redis.delete(f"{prefix}:rate:t")
