"""The cluster shape's EventBus: a Redis stream per prediction, and a stream of cancel requests.

An event's entry id is `0-<seq + 1>`: XADD `0-*` numbers them in Redis, so seqs run 0, 1,
2… per prediction whichever process publishes, and a reader replays from any seq with one
XRANGE. `done` leaves the stream for `keep_s`; a stream is capped at `max_events` (a reader
that falls further behind learns where to resume). Waiting readers of one process share one
blocking XREAD (foretell.streaming.redis_reader). Cancel requests go on a stream too, so a
subscriber whose connection drops reads on from where it was, missing none.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff

from foretell.streaming.bus import EVENT_NAMES, CancelRequest, EventsDropped, StreamEvent
from foretell.streaming.redis_reader import COUNT, StreamReader

#: cancel requests kept (roughly): enough for any subscriber that reconnects
CANCELS_KEPT = 10_000


class BusKeys:
    """Every Redis key the bus uses, under one prefix (the only place they are spelled)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.cancels = f"{prefix}:cancels"

    def events(self, prediction_id: str) -> str:
        return f"{self.prefix}:events:{prediction_id}"

    def wake(self, process: str) -> str:
        """The stream that interrupts one process's blocking XREAD."""
        return f"{self.prefix}:bus-wake:{process}"


class RedisBus:
    """EventBus on Redis Streams, for API nodes and runners on any number of machines."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "foretell",
        keep_s: float = 10.0,
        max_events: int = 100_000,
        live_s: float = 86_400.0,
        max_connections: int = 32,
    ) -> None:
        self.keys = BusKeys(prefix)
        self.keep_s = keep_s
        self.max_events = max_events
        #: a prediction's events go this long after its last one, `done` or not (a runner
        #: that died mid-prediction leaves no stream behind for good)
        self.live_s = live_s
        name = f"foretell-bus:{prefix}"
        # commands wait for a free connection rather than fail when many readers read at
        # once; the one blocking XREAD has a connection of its own
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=max_connections, **_options(name)
        )
        self._redis = aioredis.Redis.from_pool(pool)
        self._blocking = aioredis.Redis.from_url(url, **_options(name))
        wake = self.keys.wake(secrets.token_hex(8))
        self._reader = StreamReader(self._redis, self._blocking, wake, self.keys.cancels, _decode)

    async def open(self) -> None:
        """Start following cancel requests now, so a `cancels()` subscription made later
        misses none made after it (without this, the first one misses those made before
        its first round trip to Redis)."""
        await self._reader.follow_cancels()

    async def publish(
        self,
        prediction_id: str,
        name: str,
        data: Any,
        files: tuple[tuple[str | int, ...], ...] = (),
    ) -> int:
        if name not in EVENT_NAMES:
            raise ValueError(f"unknown SSE event {name!r}")
        fields: dict[Any, Any] = {"n": name, "d": orjson.dumps(data)}
        if files:
            fields["f"] = orjson.dumps(files)
        key = self.keys.events(prediction_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xadd(key, fields, id="0-*", maxlen=self.max_events, approximate=False)
            keep_s = self.keep_s if name == "done" else self.live_s
            pipe.pexpire(key, max(1, int(keep_s * 1000)))
            entry_id, _ = await pipe.execute()
        return _seq(entry_id)

    async def read(self, prediction_id: str, position: int, wait_s: float) -> list[StreamEvent]:
        key = self.keys.events(prediction_id)
        if wait_s > 0:  # nothing to read if this process's XREAD is already at `position`
            future = await self._reader.watch(key, prediction_id, position)
            if future is not None:
                return await self._wait(key, future, wait_s)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while True:
            events, exists = await self._read_now(key, prediction_id, position)
            if events or loop.time() >= deadline:
                return events
            future = await self._reader.watch(key, prediction_id, position, gone=not exists)
            if future is not None:
                return await self._wait(key, future, deadline - loop.time())
            # else published since the read: read them

    async def _wait(
        self, key: str, future: asyncio.Future[list[StreamEvent]], wait_s: float
    ) -> list[StreamEvent]:
        try:
            async with asyncio.timeout(wait_s):
                return await future
        except TimeoutError:
            return []
        finally:
            self._reader.unwatch(key, future)

    async def _read_now(
        self, key: str, prediction_id: str, position: int
    ) -> tuple[list[StreamEvent], bool]:
        """The events kept from `position` on, and whether the stream exists."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xrange(key, min=f"0-{position + 1}", count=COUNT)
            pipe.exists(key)
            entries, exists = await pipe.execute()
        events = [_decode(entry_id, fields) for entry_id, fields in entries]
        if events and events[0].seq > position:
            raise EventsDropped(prediction_id, events[0].seq)
        if not events and not exists and position > 0:
            raise EventsDropped(prediction_id, 0)
        return events, bool(exists)

    async def has_events(self, prediction_id: str) -> bool:
        return bool(await self._redis.exists(self.keys.events(prediction_id)))

    async def request_cancel(self, request: CancelRequest) -> None:
        if self._reader.subscribers:  # this process's own subscribers get it too
            await self._reader.follow_cancels()
        fields: dict[Any, Any] = {"p": request.prediction_id}
        if request.reason is not None:
            fields["r"] = request.reason
        await self._redis.xadd(self.keys.cancels, fields, maxlen=CANCELS_KEPT)

    def cancels(self) -> _Subscription:
        self._reader.follow_cancels()
        return _Subscription(self._reader.subscribers)

    async def close(self) -> None:
        """Stop reading and close the connections."""
        await self._reader.close()
        await self._blocking.aclose()
        await self._redis.aclose()


class _Subscription:
    """Registered when made: the reader hands it every request it reads from then on."""

    def __init__(self, subscribers: set[asyncio.Queue[CancelRequest]]) -> None:
        self._subscribers = subscribers
        self._queue: asyncio.Queue[CancelRequest] = asyncio.Queue()
        subscribers.add(self._queue)

    async def __aiter__(self) -> AsyncIterator[CancelRequest]:
        while True:
            yield await self._queue.get()

    def close(self) -> None:
        self._subscribers.discard(self._queue)


def _options(name: str) -> dict[str, Any]:
    """Connection options: replies as RESP2 shapes (what the code reads), and a command
    that meets a dropped connection retried on a new one (redis-py's own default)."""
    retry = Retry(ExponentialWithJitterBackoff(base=0.01, cap=1.0), 3)
    return {"client_name": name, "protocol": 2, "retry": retry}


def _seq(entry_id: bytes) -> int:
    """An event's seq from its entry id `0-<seq + 1>`."""
    return int(entry_id.partition(b"-")[2]) - 1


def _decode(entry_id: bytes, fields: dict[bytes, bytes]) -> StreamEvent:
    files = fields.get(b"f")
    return StreamEvent(
        seq=_seq(entry_id),
        name=fields[b"n"].decode(),
        data=orjson.loads(fields[b"d"]),
        files=tuple(tuple(location) for location in orjson.loads(files)) if files else (),
    )
