"""One XREAD for a whole process: every local wait on a Redis event stream, and cancel requests.

Hundreds of SSE readers and `Prefer: wait` waiters must not each hold a connection in a
blocking XREAD. So one task per process blocks on all the streams someone here waits on (plus
the cancel stream, once followed), decodes what comes once, and hands each waiter the events
from its position on. A waiter on a stream the XREAD in flight doesn't cover wakes it through
a stream of this process's own (`wake`), so it starts again with the new set. A stream stays
watched a little after its last waiter leaves (LINGER_S): an SSE reader comes straight back
for the next event, and finds it covered, without a wake-up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from foretell.streaming.bus import CancelRequest, EventsDropped, StreamEvent

log = logging.getLogger("foretell.bus")

#: how long one XREAD blocks before it starts again (nothing depends on it: a health beat);
#: under redis-py's socket timeout (5 s by default), which a longer block would run into
BLOCK_MS = 2_000
#: events one XREAD takes per stream (a reader gets the rest on its next read)
COUNT = 1_000
#: a stream nobody waits on any more stays in the XREAD this long
LINGER_S = 5.0
#: after a failed XREAD (Redis down, connection killed), wait this long, doubling, up to MAX
RETRY_S, MAX_RETRY_S = 0.05, 2.0

Entries = list[tuple[bytes, dict[bytes, bytes]]]
Decode = Callable[[bytes, dict[bytes, bytes]], StreamEvent]


@dataclass
class _Waiter:
    position: int
    future: asyncio.Future[list[StreamEvent]]


@dataclass
class _Watch:
    """A stream someone here waits on: the XREAD asks it for seq >= `next_seq`."""

    prediction_id: str
    next_seq: int
    waiters: list[_Waiter] = field(default_factory=list)
    idle_since: float | None = None
    done: bool = False


class StreamReader:
    """The process's one blocking reader; the bus asks it to `watch` and to follow cancels."""

    def __init__(
        self,
        redis: aioredis.Redis,
        blocking: aioredis.Redis,
        wake_key: str,
        cancels_key: str,
        decode: Decode,
    ) -> None:
        #: for commands (wake-ups); `blocking` for the XREAD alone
        self._redis = redis
        self._blocking = blocking
        self._wake_key = wake_key
        self._wake_id = b"0-0"
        self._cancels_key = cancels_key
        #: the last cancel request seen (None until following)
        self._cancel_id: bytes | None = None
        self._following: asyncio.Task[None] | None = None
        self.subscribers: set[asyncio.Queue[CancelRequest]] = set()
        self._decode = decode
        self._watches: dict[str, _Watch] = {}
        #: what the XREAD in flight asks of each event stream (None while none is in flight)
        self._in_flight: dict[str, int] | None = None
        self._woken = False
        self._work = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    # ---- waiting on event streams ------------------------------------------------------

    async def watch(
        self, key: str, prediction_id: str, position: int, gone: bool | None = None
    ) -> asyncio.Future[list[StreamEvent]] | None:
        """A future for the events of `key` from `position` on, once some come (call
        `unwatch` with it when done waiting), or None: read first. `gone`: whether the
        stream existed when the caller just read it; None if it didn't read (then a future
        only if this process's XREAD already asks for `position`: an SSE reader coming back
        for the next event costs no round trip)."""
        watch = self._watches.get(key)
        if watch is None:
            if gone is None:
                return None
            watch = self._watches[key] = _Watch(prediction_id, position)
        elif watch.next_seq > position:  # this process has seen events from `position` on
            if not gone:
                return None
            watch.next_seq = position  # deleted (expired) and not yet written again
        future = asyncio.get_running_loop().create_future()
        watch.waiters.append(_Waiter(position, future))
        watch.idle_since = None
        self._start()
        covered = self._in_flight is not None and self._in_flight.get(key, position + 1) <= position
        if self._in_flight is not None and not covered:
            await self._wake()
        return future

    def unwatch(self, key: str, future: asyncio.Future[list[StreamEvent]]) -> None:
        """Stop waiting (the events came, or the wait ran out)."""
        watch = self._watches.get(key)
        if watch is None:
            return
        watch.waiters = [w for w in watch.waiters if w.future is not future]
        if not watch.waiters:
            watch.idle_since = asyncio.get_running_loop().time()

    # ---- cancel requests ---------------------------------------------------------------

    def follow_cancels(self) -> Awaitable[None]:
        """Start reading the cancel stream from its end (now); done once that end is known."""
        failed = self._following is not None and self._following.done() and self._cancel_id is None
        if self._following is None or failed:
            self._following = asyncio.ensure_future(self._find_cancels_end())
        return asyncio.shield(self._following)

    async def _find_cancels_end(self) -> None:
        newest: Any = await self._redis.xrevrange(self._cancels_key, count=1)
        self._cancel_id = newest[0][0] if newest else b"0-0"
        self._start()
        if self._in_flight is not None:
            await self._wake()

    def _hand_out_cancels(self, entries: Entries) -> None:
        for entry_id, fields in entries:
            reason = fields.get(b"r")
            request = CancelRequest(fields[b"p"].decode(), reason.decode() if reason else None)
            for subscriber in self.subscribers:
                subscriber.put_nowait(request)
            self._cancel_id = entry_id

    # ---- the loop ----------------------------------------------------------------------

    def _start(self) -> None:
        self._work.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    async def _wake(self) -> None:
        """Make the XREAD in flight return, so the next one asks for the new set."""
        if self._woken:
            return
        self._woken = True
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xadd(self._wake_key, {"w": ""}, maxlen=1, approximate=False)
            pipe.expire(self._wake_key, 3600)
            await pipe.execute()

    async def _run(self) -> None:
        retry_s = RETRY_S
        while not self._closed:
            self._forget_idle()
            streams = self._streams()
            if not streams:
                self._work.clear()
                await self._work.wait()
                continue
            asked = self._in_flight = {k: w.next_seq for k, w in self._watches.items()}
            self._woken = False
            try:
                # RESP2 (the default): [(key, [(entry id, fields)…])…], or None
                reply: Any = await self._blocking.xread(streams, count=COUNT, block=BLOCK_MS)
                for raw_key, entries in reply or []:
                    self._dispatch(raw_key.decode(), entries, asked)
            except (RedisError, OSError):  # down, or the connection was killed: reconnect
                if self._closed:  # redis-py turns the cancel of a blocked read into this
                    return
                log.warning("reading events from Redis failed; retrying", exc_info=True)
            except Exception:  # a bug here must not leave every waiter of the process hanging
                log.exception("handing out events failed; retrying")
            else:
                retry_s = RETRY_S
                continue
            finally:
                self._in_flight = None
            await asyncio.sleep(retry_s)
            retry_s = min(retry_s * 2, MAX_RETRY_S)

    def _streams(self) -> dict[Any, Any]:
        """What the next XREAD asks for: event streams as "0-<seq>" (ids are seq + 1)."""
        if not self._watches and self._cancel_id is None:
            return {}
        streams: dict[Any, Any] = {self._wake_key: self._wake_id}
        if self._cancel_id is not None:
            streams[self._cancels_key] = self._cancel_id
        for key, watch in self._watches.items():
            streams[key] = f"0-{watch.next_seq}"
        return streams

    def _dispatch(self, key: str, entries: Entries, snapshot: dict[str, int]) -> None:
        if key == self._wake_key:
            self._wake_id = entries[-1][0]
        elif key == self._cancels_key:
            self._hand_out_cancels(entries)
        elif (watch := self._watches.get(key)) is not None and entries:
            self._hand_out_events(watch, [self._decode(i, f) for i, f in entries], snapshot[key])

    def _hand_out_events(self, watch: _Watch, events: list[StreamEvent], asked: int) -> None:
        first = events[0].seq
        for waiter in watch.waiters:
            if waiter.future.done():
                continue
            if first > asked and waiter.position < first:  # trimmed before this XREAD
                waiter.future.set_exception(EventsDropped(watch.prediction_id, first))
                continue
            mine = [e for e in events if e.seq >= waiter.position]
            if mine:
                waiter.future.set_result(mine)
        watch.next_seq = max(watch.next_seq, events[-1].seq + 1)
        watch.done = watch.done or events[-1].name == "done"

    def _forget_idle(self) -> None:
        """Stop watching streams nobody waits on: finished ones at once, others after a while."""
        now = asyncio.get_running_loop().time()
        for key, watch in list(self._watches.items()):
            idle = watch.idle_since
            if idle is not None and (watch.done or now - idle > LINGER_S):
                del self._watches[key]

    async def close(self) -> None:
        """Stop reading; whoever still waits is cancelled."""
        self._closed = True
        for task in (self._task, self._following):
            if task is not None:
                task.cancel()
        for task in (self._task, self._following):
            if task is not None:
                await asyncio.gather(task, return_exceptions=True)
        for watch in self._watches.values():
            for waiter in watch.waiters:
                waiter.future.cancel()
        self._watches.clear()
