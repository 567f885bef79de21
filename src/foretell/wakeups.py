"""Waiting on the event loop for "something changed", with a time limit: a list of futures
and one timer per wait. An asyncio.Event inside asyncio.timeout (or a Condition) costs
about twice as much, and the embedded queue and bus wait once or twice per prediction."""

from __future__ import annotations

import asyncio
import contextlib


class Wakeups:
    """`wait(timeout)` until the next `wake_all()`; for one event loop's tasks."""

    __slots__ = ("_waiters",)

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[bool]] = []

    def __len__(self) -> int:
        """How many wait now."""
        return len(self._waiters)

    def wake_all(self) -> None:
        """Wake every task waiting now (later waits wait for the next call)."""
        if self._waiters:
            waiters, self._waiters = self._waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(True)

    async def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for `wake_all`; whether it came. A wait that times
        out or is cancelled leaves nothing behind (a quiet reader may wait for hours)."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        self._waiters.append(waiter)
        timer = loop.call_later(max(0.0, timeout), _time_out, waiter)
        try:
            return await waiter
        finally:
            timer.cancel()
            if waiter.cancelled() or not waiter.result():  # not woken
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)


def _time_out(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_result(False)
