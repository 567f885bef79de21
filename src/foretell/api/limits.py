"""Backpressure: per-token rate limits and per-model queue caps, answered with 429 and
Retry-After before anything is created; a prediction's priority and queue TTL from its
request (README, "Backpressure and priorities").

Both limits are cheap checks, not reservations:
- the rate limit is a token bucket per API token in this node's memory, so in a cluster
  each API node limits on its own (N nodes behind a balancer let a token through at up to N
  times the rate);
- the queue cap compares WorkQueue.depth with --max-queue before the prediction is created;
  requests racing past the check together may leave a queue a few items over its cap.
"""

from __future__ import annotations

import collections
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from foretell.api.durations import parse_duration
from foretell.api.errors import problem
from foretell.core.accounts import Account, hash_token
from foretell.core.prediction import PRIORITIES
from foretell.errors import InvalidField, InvalidRequest

PRIORITY_HEADER = "x-foretell-priority"
QUEUE_TTL_HEADER = "x-foretell-queue-ttl"
#: what a full queue asks a client to wait before it tries again
QUEUE_FULL_RETRY_S = 5
MIN_QUEUE_TTL_S = 1.0
MAX_QUEUE_TTL_S = 30 * 24 * 3600.0
#: tokens whose buckets are remembered at most (the least recently used is forgotten: it
#: comes back full, which only errs on the generous side)
BUCKETS = 10_000
_RATE = re.compile(r"^\s*(\d{1,9}(?:\.\d{1,6})?)\s*/\s*(s|sec|second|m|min|minute)\s*$", re.ASCII)


def parse_rate(text: str) -> float:
    """`10/s` or `600/m` -> requests per second; ValueError otherwise."""
    match = _RATE.match(text)
    if match is None or float(match.group(1)) <= 0:
        raise ValueError(f"{text!r} is not a rate: use N/s or N/m (N > 0)")
    per_s = float(match.group(1))
    return per_s / 60 if match.group(2).startswith("m") else per_s


@dataclass
class TokenBuckets:
    """A token bucket per key: `rate` requests a second on average, bursts of `burst`."""

    rate: float
    burst: float
    clock: Callable[[], float] = time.monotonic
    #: key -> (requests left, when that was), least recently used first
    _buckets: collections.OrderedDict[str, tuple[float, float]] = field(
        default_factory=collections.OrderedDict
    )

    def take(self, key: str) -> float:
        """0 if `key` may make a request now (it is counted), else the seconds until it may."""
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


@dataclass
class Limits:
    """This API node's backpressure settings (server.py puts one on the app)."""

    #: waiting predictions per model before creates are refused (0: no cap)
    max_queue: int = 10_000
    #: per API token on this node (None: no limit)
    buckets: TokenBuckets | None = None
    #: seconds a prediction may wait in the queue unless its request says (None: no limit)
    queue_ttl_s: float | None = None


def limits_of(request: Request) -> Limits:
    """The app's limits (the defaults when the app was made without any)."""
    limits: Limits | None = getattr(request.app.state, "limits", None)
    return limits if limits is not None else _DEFAULT


_DEFAULT = Limits()


def too_many(detail: str, retry_after_s: float) -> Response:
    """A 429 in the problem shape, with Retry-After in whole seconds (at least 1)."""
    response = problem(429, "Too many requests", detail)
    response.headers["Retry-After"] = str(max(1, math.ceil(retry_after_s)))
    return response


def rate_limited(request: Request, account: Account) -> Response | None:
    """A 429 if the request's token is over its rate on this node, else None (counted)."""
    buckets = limits_of(request).buckets
    if buckets is None:
        return None
    _, _, token = request.headers.get("authorization", "").partition(" ")
    key = hash_token(token.strip()) if token.strip() else f"account:{account.username}"
    wait = buckets.take(key)
    if not wait:
        return None
    rate = f"{buckets.rate:g}/s, bursts of {buckets.burst:g}"
    return too_many(f"Request was throttled: this token is limited to {rate}.", wait)


def queue_full(request: Request, model: str, depth: int) -> Response | None:
    """A 429 if `model`'s queue already holds its cap, else None."""
    cap = limits_of(request).max_queue
    if not cap or depth < cap:
        return None
    detail = (
        f"The queue of {model} is full ({depth} predictions waiting, at most {cap}); "
        "nothing was created. Try again later."
    )
    return too_many(detail, QUEUE_FULL_RETRY_S)


def priority(request: Request, body: dict[str, Any]) -> int:
    """The request's priority level: the `priority` field, else the X-Foretell-Priority
    header, else 0 (the first claimed; 1 and 2 wait behind it, as Baseten's)."""
    value: Any = body.get("priority")
    where = "priority"
    if value is None and PRIORITY_HEADER in request.headers:
        value, where = request.headers[PRIORITY_HEADER].strip(), "X-Foretell-Priority"
        value = int(value) if value.isascii() and value.isdigit() and len(value) < 3 else value
    if value is None:
        return PRIORITIES[0]
    if isinstance(value, bool) or not isinstance(value, int) or value not in PRIORITIES:
        description = f"must be one of {', '.join(map(str, PRIORITIES))} (0 runs first)"
        raise InvalidRequest([InvalidField("enum", where, description)])
    return value


def queue_ttl(request: Request, body: dict[str, Any]) -> float | None:
    """Seconds the prediction may wait queued: the `queue_ttl` field, else the
    X-Foretell-Queue-TTL header, else --queue-ttl (None: no limit)."""
    value: Any = body.get("queue_ttl")
    where = "queue_ttl"
    if value is None and QUEUE_TTL_HEADER in request.headers:
        value, where = request.headers[QUEUE_TTL_HEADER], "X-Foretell-Queue-TTL"
    if value is None:
        return limits_of(request).queue_ttl_s
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        description = "must be a duration: seconds (90) or units like 1h30m45s"
        raise InvalidRequest([InvalidField("invalid_type", where, description)])
    try:
        seconds = parse_duration(str(value))
    except ValueError as exc:
        raise InvalidRequest([InvalidField("format", where, str(exc))]) from exc
    if not MIN_QUEUE_TTL_S <= seconds <= MAX_QUEUE_TTL_S:
        description = f"must be from {MIN_QUEUE_TTL_S:g} s to {MAX_QUEUE_TTL_S:g} s (30 days)"
        raise InvalidRequest([InvalidField("range", where, description)])
    return seconds
