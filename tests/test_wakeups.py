"""Waiting for a wake-up with a time limit (the embedded queue's and bus's waits)."""

from __future__ import annotations

import asyncio

from foretell.wakeups import Wakeups


async def test_wake_all_wakes_those_waiting_and_not_later_waits() -> None:
    wakeups = Wakeups()
    first = asyncio.create_task(wakeups.wait(60))
    second = asyncio.create_task(wakeups.wait(60))
    await asyncio.sleep(0)  # both start waiting
    wakeups.wake_all()
    assert await first is True and await second is True
    assert await wakeups.wait(0.0) is False  # that wake-up was spent


async def test_waits_that_time_out_or_are_cancelled_leave_nothing_behind() -> None:
    wakeups = Wakeups()
    for _ in range(100):
        assert await wakeups.wait(0.0) is False
    waiting = asyncio.create_task(wakeups.wait(60))
    await asyncio.sleep(0)
    assert len(wakeups) == 1
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    assert len(wakeups) == 0
