"""Cancelling predictions: prompt for sync and async models, and the worker survives."""

from __future__ import annotations

import asyncio
import pathlib

from foretell.core.events import Log, Started
from foretell.runner import PredictionHandle, Runner, WorkerState

from .conftest import add, collect, predict, request


async def _wait_started(handle: PredictionHandle) -> None:
    async for event in handle:
        if isinstance(event, Started):
            return


async def _wait_log(handle: PredictionHandle, text: str) -> None:
    async for event in handle:
        if isinstance(event, Log) and text in event.text:
            return


async def test_sync_predictor_is_interrupted_inside_time_sleep(
    runner: Runner, tmp_path: pathlib.Path
) -> None:
    """A sync model sleeping 30 s is canceled promptly, and the worker serves the next one."""
    # The grace period outlasts the sleep, so only the signal can end it within the wait.
    name = await add(runner, "sleep", cancel_grace_s=60)
    handle = await runner.submit(name, request(tmp_path, seconds=30))
    await _wait_log(handle, "going to sleep")
    pid = runner.state_info(name).pid
    assert await runner.cancel(handle.id)
    done = await asyncio.wait_for(handle.done(), 10)
    assert done.status == "canceled"
    result = await predict(runner, name, tmp_path, seconds=0)
    assert result.done.output == "woke up"
    assert runner.state_info(name).pid == pid  # same process: it survived


async def test_async_predictor_task_is_cancelled(runner: Runner, tmp_path: pathlib.Path) -> None:
    """An async model's task is cancelled; other predictions on it keep running."""
    name = await add(runner, "sleep_async", max_concurrency=2)
    victim = await runner.submit(name, request(tmp_path, seconds=30))
    other = await runner.submit(name, request(tmp_path, seconds=0.3))
    await _wait_started(victim)
    assert await runner.cancel(victim.id)
    assert (await asyncio.wait_for(victim.done(), 5)).status == "canceled"
    assert (await collect(other)).done.output == "woke up"


async def test_streaming_sync_predictor_is_canceled_between_items(
    runner: Runner, tmp_path: pathlib.Path
) -> None:
    """A cancel stops a generator; items already sent stay sent."""
    name = await add(runner, "stream_tokens")
    handle = await runner.submit(name, request(tmp_path, n=1000, delay=0.01))
    await _wait_started(handle)
    await asyncio.sleep(0.1)
    await runner.cancel(handle.id)
    assert (await asyncio.wait_for(handle.done(), 5)).status == "canceled"


async def test_queued_prediction_is_canceled_without_running(
    runner: Runner, tmp_path: pathlib.Path
) -> None:
    """Cancelling a queued prediction removes it; it never starts."""
    name = await add(runner, "sleep")
    running = await runner.submit(name, request(tmp_path, seconds=0.5))
    queued = await runner.submit(name, request(tmp_path, seconds=0.5))
    assert await runner.cancel(queued.id)
    result = await collect(queued)
    assert result.done.status == "canceled" and not result.started
    assert (await collect(running)).done.status == "succeeded"


async def test_a_model_that_swallows_the_cancel_is_restarted(
    runner: Runner, tmp_path: pathlib.Path
) -> None:
    """If the model ignores the cancel, the worker is killed after the grace period."""
    name = await add(runner, "swallow_cancel", cancel_grace_s=0.5)
    handle = await runner.submit(name, request(tmp_path, seconds=30))
    await _wait_log(handle, "sleeping")
    pid = runner.state_info(name).pid
    await runner.cancel(handle.id)
    done = await asyncio.wait_for(handle.done(), 10)
    assert done.status == "canceled"
    result = await predict(runner, name, tmp_path, seconds=0)
    assert result.done.output == "finished anyway"
    assert runner.state_info(name).pid != pid


async def test_killing_a_model_that_ignored_a_cancel_is_no_crash(
    runner: Runner, tmp_path: pathlib.Path
) -> None:
    """The restart after a swallowed cancel doesn't count toward the model becoming defunct."""
    name = await add(runner, "swallow_cancel", cancel_grace_s=0.2, max_restarts=0)
    for _ in range(2):
        handle = await runner.submit(name, request(tmp_path, seconds=30))
        await _wait_log(handle, "sleeping")
        await runner.cancel(handle.id)
        assert (await asyncio.wait_for(handle.done(), 10)).status == "canceled"
    result = await predict(runner, name, tmp_path, seconds=0)
    assert result.done.output == "finished anyway"
    assert runner.state(name) is WorkerState.READY


async def test_late_cancel_does_not_hit_the_next_prediction(
    runner: Runner, tmp_path: pathlib.Path
) -> None:
    """A cancel for a finished prediction is ignored, never applied to the next one."""
    name = await add(runner, "sleep")
    first = await predict(runner, name, tmp_path, seconds=0)
    assert await runner.cancel(first.done.id) is False
    second = await predict(runner, name, tmp_path, seconds=0.2)
    assert second.done.status == "succeeded"
