"""The cluster shape's queue: a Redis stream per model holds the items, and a sorted set
per model and priority level orders what waits (fair share between accounts, then arrival:
foretell.queue.lanes; foretell.queue.redis_scripts has the keys).

Delivery is at least once, and no item a live runner holds is ever handed to another: each
claim gets a lease in Redis (expiry on the queue's clock, and a token), and only an entry
whose lease ran out (or was given back) is claimed again. Every step is one Lua script, so
one round trip, and atomic against every other runner. A claim that finds
nothing waits on XREAD for the model streams to grow, looking again every RECHECK_S for
leases that ran out meanwhile. A Redis that lost its data (restarted without disk) doesn't
take running predictions from their runners: a lease claimed before the loss (its token
names the old epoch) and unknown now is taken up again by its next heartbeat.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import time
from collections.abc import Callable, Collection
from dataclasses import replace
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff

from foretell.queue import redis_scripts as scripts
from foretell.queue.codec import dump_item, load_item
from foretell.queue.lanes import level_of
from foretell.queue.protocol import RESERVE_S, Lease, LeaseLost, WorkItem

#: a waiting claim looks again this often for leases that ran out (nothing writes to a
#: stream when one does) and for items given back
RECHECK_S = 1.0


class QueueKeys:
    """Every Redis key the queue uses, under one prefix (the only place they are spelled)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        #: prediction id -> "model\\nentry id" of its waiting entry
        self.ids = f"{prefix}:queue-ids"
        #: a random id, set when missing: a new one means Redis lost everything. Named anew
        #: when the keys' layout changes (2: priority levels), so that the reconciler puts
        #: back, from the store, what an older version left waiting in the old layout
        self.epoch = f"{prefix}:epoch:2"

    def stream(self, model: str) -> str:
        return f"{self.prefix}:queue:{model}"

    def model(self, model: str) -> list[str]:
        """The stream, lease expiries, tokens and claim counts of one model (scripts' order)."""
        return [
            self.stream(model),
            f"{self.prefix}:queue-leases:{model}",
            f"{self.prefix}:queue-tokens:{model}",
            f"{self.prefix}:queue-attempts:{model}",
        ]

    def waiting(self, model: str) -> list[str]:
        """The sorted sets of its waiting items, one per priority level, highest first."""
        return [f"{self.prefix}:queue-waiting:{model}:{n}" for n in range(scripts.LEVELS)]

    def reserved(self, model: str) -> str:
        """The sorted set of places held for predictions being created (RESERVE)."""
        return f"{self.prefix}:queue-reserved:{model}"

    def rounds(self, model: str) -> str:
        """The hash of each level's fair-share rounds."""
        return f"{self.prefix}:queue-rounds:{model}"

    def claiming(self, model: str) -> list[str]:
        """Everything CLAIM reads of one model, in its order (MODEL_KEYS of them)."""
        return [*self.model(model), *self.waiting(model), self.rounds(model)]


class RedisQueue:
    """WorkQueue on Redis streams and sorted sets, with leases kept in Redis."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "foretell",
        clock: Callable[[], float] = time.time,
        consumer: str | None = None,
        max_connections: int = 32,
    ) -> None:
        self.clock = clock
        #: this queue's name (its connections' client names say which process it is)
        self.consumer = consumer or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.keys = QueueKeys(prefix)
        # commands wait for a free connection rather than fail when many come at once;
        # the claims that wait (blocking XREAD) have connections of their own
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=max_connections, **_options("foretell-queue")
        )
        self._redis = aioredis.Redis.from_pool(pool)
        self._waiting = aioredis.Redis.from_url(url, **_options("foretell-queue-wait"))
        self._put = self._redis.register_script(scripts.PUT)
        self._claim = self._redis.register_script(scripts.CLAIM)
        self._extend = self._redis.register_script(scripts.EXTEND)
        self._ack = self._redis.register_script(scripts.ACK)
        self._release = self._redis.register_script(scripts.RELEASE)
        self._remove = self._redis.register_script(scripts.REMOVE)
        self._depth = self._redis.register_script(scripts.DEPTH)
        self._position = self._redis.register_script(scripts.POSITION)
        self._reserve = self._redis.register_script(scripts.RESERVE)

    @property
    def connection(self) -> aioredis.Redis:
        """The queue's pooled connection to its Redis, for what counts beside the queue
        (foretell.queue.redis_rates)."""
        return self._redis

    async def put(self, item: WorkItem) -> None:
        model, level = item.runner_model, level_of(item)
        keys = [
            self.keys.stream(model), self.keys.ids, self.keys.waiting(model)[level],
            self.keys.rounds(model), self.keys.reserved(model),
        ]  # fmt: skip
        args: list[bytes | str | int] = [
            dump_item(item),
            item.prediction.id,
            model,
            level,
            item.prediction.account,
        ]
        await self._put(keys=keys, args=args)

    async def reserve(self, prediction_id: str, model: str, cap: int) -> bool:
        keys = [self.keys.model(model)[1], *self.keys.waiting(model), self.keys.reserved(model)]
        now = self.clock()
        args: list[str | int] = [prediction_id, cap, repr(now), repr(now + RESERVE_S)]
        return bool(await self._reserve(keys=keys, args=args))

    async def claim(
        self, models: Collection[str], lease_s: float, wait_s: float = 0.0
    ) -> Lease | None:
        names = list(models)
        if not names:
            return None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while True:
            lease, last_ids = await self._claim_now(names, lease_s)
            remaining = deadline - loop.time()
            if lease is not None or remaining <= 0:
                return lease
            # woken by a put to any of the streams (past the newest entry seen just now)
            streams: dict[Any, Any] = {
                self.keys.stream(name): last for name, last in zip(names, last_ids, strict=True)
            }
            block_ms = max(1, int(min(remaining, RECHECK_S) * 1000))
            await self._waiting.xread(streams, count=1, block=block_ms)

    async def _claim_now(
        self, models: list[str], lease_s: float
    ) -> tuple[Lease | None, list[bytes]]:
        """A lease of the first claimable item, or None and each stream's newest entry id."""
        now = self.clock()
        keys = [self.keys.epoch, *(key for model in models for key in self.keys.claiming(model))]
        args = [repr(now), repr(now + lease_s), secrets.token_hex(8)]
        reply: list[Any] = await self._claim(keys=keys, args=args)
        if reply[0] == 0:
            return None, reply[1:]
        _, token, attempt, raw = reply
        lease = Lease(load_item(raw), token.decode(), now + lease_s, int(attempt))
        return lease, []

    async def extend(self, lease: Lease, lease_s: float) -> Lease:
        keys = self.keys.model(lease.item.runner_model)
        now = self.clock()
        args = [_entry(lease), lease.token, repr(now), repr(now + lease_s), secrets.token_hex(8)]
        if not await self._extend(keys=[*keys[1:3], self.keys.epoch], args=args):
            raise LeaseLost(lease.item.prediction.id)
        return replace(lease, expires_at=now + lease_s)

    async def ack(self, lease: Lease) -> None:
        model = lease.item.runner_model
        pid = lease.item.prediction.id
        args = [_entry(lease), lease.token, repr(self.clock()), pid, model]
        keys = [*self.keys.model(model), self.keys.ids, self.keys.epoch]
        if not await self._ack(keys=keys, args=args):
            raise LeaseLost(pid)

    async def release(self, lease: Lease) -> None:
        keys = self.keys.model(lease.item.runner_model)
        args = [_entry(lease), lease.token, repr(self.clock())]
        await self._release(keys=[*keys[1:3], self.keys.epoch], args=args)

    async def remove(self, prediction_id: str) -> bool:
        # two round trips: the model (so the keys) first; the script checks it is unchanged
        ref = await self._redis.hget(self.keys.ids, prediction_id)
        if ref is None:
            return False
        model, _, entry = _text(ref).rpartition("\n")
        keys = [*self.keys.model(model), self.keys.ids, *self.keys.waiting(model)]
        args = [prediction_id, ref, entry]
        return bool(await self._remove(keys=keys, args=args))

    async def depth(self, model: str) -> int:
        keys = [self.keys.model(model)[1], *self.keys.waiting(model)]
        return int(await self._depth(keys=keys))

    async def position(self, prediction_id: str) -> int | None:
        # two round trips, as remove's: exact at the moment the script runs
        ref = await self._redis.hget(self.keys.ids, prediction_id)
        if ref is None:
            return None
        model, _, entry = _text(ref).rpartition("\n")
        keys = [*self.keys.model(model)[1:3], *self.keys.waiting(model)]
        found = int(await self._position(keys=keys, args=[entry, repr(self.clock())]))
        return None if found < 0 else found

    async def epoch(self) -> str:
        """This Redis's id: the same until Redis loses its data (a restart without disk, a
        flush), then a new one, so whoever reconciles from the store knows to requeue."""
        fresh = secrets.token_hex(8)
        old = await self._redis.set(self.keys.epoch, fresh, nx=True, get=True)
        return fresh if old is None else _text(old)

    async def close(self) -> None:
        """Close the connections."""
        await self._waiting.aclose()
        await self._redis.aclose()


def _options(name: str) -> dict[str, Any]:
    """Connection options: replies as RESP2 shapes (what the code reads), and a command
    that meets a dropped connection retried on a new one (redis-py's own default)."""
    retry = Retry(ExponentialWithJitterBackoff(base=0.01, cap=1.0), 3)
    return {"client_name": name, "protocol": 2, "retry": retry}


def _entry(lease: Lease) -> str:
    """The stream entry a lease holds: its token is "<entry id>/<epoch>/<nonce>"."""
    return lease.token.partition("/")[0]


def _text(value: object) -> str:
    """A reply as text (the client hands back bytes)."""
    return value.decode() if isinstance(value, bytes) else str(value)
