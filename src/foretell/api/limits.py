"""Backpressure: per-token rate limits and per-model queue caps, answered with 429 and
Retry-After before anything is created; a prediction's priority and queue TTL from its
request (README, "Backpressure and priorities").

- The rate limit is a token bucket per API token (foretell.api.ratelimit): in this
  process's memory with the in-process queue, in Redis with a Redis queue, so a cluster's
  API nodes share one limit (foretell.engines.make_rate_limiter chooses).
- The queue cap is a place held in the queue (WorkQueue.reserve) just before the
  prediction is stored: atomic, so concurrent creates never queue more than --max-queue,
  and a create refused has stored nothing.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from foretell.api.durations import parse_duration
from foretell.api.errors import problem
from foretell.api.ratelimit import RateLimiter, TokenBuckets
from foretell.core.accounts import Account, hash_token
from foretell.core.models import Model
from foretell.core.prediction import PRIORITIES
from foretell.errors import InvalidField, InvalidRequest
from foretell.queue.protocol import WorkQueue

__all__ = [
    "Limits", "TokenBuckets", "hold_place", "limits_of", "parse_rate", "priority",
    "queue_ttl", "rate_limited", "too_many",
]  # fmt: skip

PRIORITY_HEADER = "x-foretell-priority"
QUEUE_TTL_HEADER = "x-foretell-queue-ttl"
#: what a full queue asks a client to wait before it tries again
QUEUE_FULL_RETRY_S = 5
MIN_QUEUE_TTL_S = 1.0
MAX_QUEUE_TTL_S = 30 * 24 * 3600.0
_RATE = re.compile(r"^\s*(\d{1,9}(?:\.\d{1,6})?)\s*/\s*(s|sec|second|m|min|minute)\s*$", re.ASCII)


def parse_rate(text: str) -> float:
    """`10/s` or `600/m` -> requests per second; ValueError otherwise."""
    match = _RATE.match(text)
    if match is None or float(match.group(1)) <= 0:
        raise ValueError(f"{text!r} is not a rate: use N/s or N/m (N > 0)")
    per_s = float(match.group(1))
    return per_s / 60 if match.group(2).startswith("m") else per_s


@dataclass
class Limits:
    """This API node's backpressure settings (server.py puts one on the app)."""

    #: waiting predictions per model before creates are refused (0: no cap)
    max_queue: int = 10_000
    #: per API token (None: no limit); the server swaps --rate-limit's TokenBuckets for
    #: the engine that counts where its queue is (foretell.engines.shared_limits)
    buckets: RateLimiter | None = None
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


async def rate_limited(request: Request, account: Account) -> Response | None:
    """A 429 if the request's token is over its rate, else None (counted)."""
    buckets = limits_of(request).buckets
    if buckets is None:
        return None
    _, _, token = request.headers.get("authorization", "").partition(" ")
    key = hash_token(token.strip()) if token.strip() else f"account:{account.username}"
    wait = await buckets.take(key)
    if not wait:
        return None
    rate = f"{buckets.rate:g}/s, bursts of {buckets.burst:g}"
    return too_many(f"Request was throttled: this token is limited to {rate}.", wait)


async def hold_place(
    request: Request, queue: WorkQueue, model: Model, prediction_id: str
) -> Response | None:
    """A place in `model`'s queue held for the prediction about to be stored (its put
    takes it over), or a 429 if the queue already holds its cap."""
    cap = limits_of(request).max_queue
    if not cap or await queue.reserve(prediction_id, model.runner_name, cap):
        return None
    detail = (
        f"The queue of {model.full_name} is full (at most {cap} predictions may wait); "
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
