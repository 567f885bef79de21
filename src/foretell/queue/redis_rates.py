"""RateLimiter in the Redis queue's Redis: one token bucket per key, shared by every API
node, each take one Lua script (atomic, one round trip).

The bucket is a hash of what is left and when; it expires once it would be full again, so
a token that stopped calling costs nothing. `now` is the caller's clock (as the queue's
leases are); a node whose clock runs behind the bucket's last update refills nothing until
it catches up, so skew never hands out extra requests.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import redis.asyncio as aioredis

#: KEYS the bucket; ARGV rate, burst, now, expiry ms -> seconds to wait (0: counted), as
#: text (a Lua number in a reply is cut to an integer)
TAKE = """
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local got = redis.call('HMGET', KEYS[1], 'left', 'at')
local left, at = tonumber(got[1]), tonumber(got[2])
if left == nil or at == nil then left, at = burst, now end
local t = math.max(at, now)
left = math.min(burst, left + (t - at) * rate)
local wait = 0
if left >= 1 then left = left - 1 else wait = (1 - left) / rate end
redis.call('HSET', KEYS[1], 'left', string.format('%.17g', left), 'at', string.format('%.17g', t))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return string.format('%.17g', wait)
"""


class RedisRateLimiter:
    """Token buckets under `{prefix}:rate:{key}` in Redis."""

    def __init__(
        self,
        redis: aioredis.Redis,
        prefix: str,
        rate: float,
        burst: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self.prefix = prefix
        self._take = redis.register_script(TAKE)
        #: a bucket untouched this long is full again: Redis may forget it
        self._expiry_ms = math.ceil(burst / rate * 1000) + 1000

    async def take(self, key: str) -> float:
        args: list[str | int] = [
            repr(self.rate),
            repr(self.burst),
            repr(self.clock()),
            self._expiry_ms,
        ]
        reply = await self._take(keys=[f"{self.prefix}:rate:{key}"], args=args)
        return float(reply.decode() if isinstance(reply, bytes) else reply)
