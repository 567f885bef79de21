"""A scratch key prefix on the test Redis (127.0.0.1:6379): unique per test, deleted after.

Redis must be running: a test that can't reach it fails (ConnectionError), never skips.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis

URL = "redis://127.0.0.1:6379/0"


def new_prefix() -> str:
    """A key prefix no other test uses."""
    return f"foretell-test-{secrets.token_hex(6)}"


async def delete_prefix(prefix: str) -> int:
    """Delete every key under `prefix` (never FLUSHALL: other tests share the server)."""
    client = aioredis.Redis.from_url(URL)
    try:
        deleted = 0
        async for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            deleted += await client.delete(key)
        return deleted
    finally:
        await client.aclose()


@asynccontextmanager
async def scratch_prefix() -> AsyncIterator[str]:
    """A fresh prefix, its keys deleted afterwards; fails at once if Redis is down."""
    prefix = new_prefix()
    client = aioredis.Redis.from_url(URL)
    try:
        await client.ping()  # Redis down: ConnectionError here, loudly
    finally:
        await client.aclose()
    try:
        yield prefix
    finally:
        await delete_prefix(prefix)
