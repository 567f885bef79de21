"""Per-token rate limits: the RateLimiter protocol, and the token buckets of one process.

A cluster's API nodes share one limit per token: with a Redis queue the counts live in its
Redis (foretell.queue.redis_rates, chosen by foretell.engines.make_rate_limiter), so N nodes
behind a balancer let a token through at its rate, not N times it.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

#: tokens whose buckets are remembered at most (the least recently used is forgotten: it
#: comes back full, which only errs on the generous side)
BUCKETS = 10_000


class RateLimiter(Protocol):
    """A token bucket per key: `rate` requests a second on average, bursts of `burst`."""

    @property
    def rate(self) -> float: ...

    @property
    def burst(self) -> float: ...

    async def take(self, key: str) -> float:
        """0 if `key` may make a request now (it is counted), else the seconds until it
        may (nothing counted)."""


@dataclass
class TokenBuckets:
    """RateLimiter in this process's memory (the embedded shape's, and --rate-limit's
    settings until the server picks where to count)."""

    rate: float
    burst: float
    clock: Callable[[], float] = time.monotonic
    #: key -> (requests left, when that was), least recently used first
    _buckets: collections.OrderedDict[str, tuple[float, float]] = field(
        default_factory=collections.OrderedDict
    )

    async def take(self, key: str) -> float:
        now = self.clock()
        left, then = self._buckets.pop(key, (self.burst, now))
        left = min(self.burst, left + (now - then) * self.rate)
        if left >= 1:
            left -= 1
            wait = 0.0
        else:
            wait = (1 - left) / self.rate
        self._buckets[key] = (left, now)
        if len(self._buckets) > BUCKETS:
            self._buckets.popitem(last=False)
        return wait
