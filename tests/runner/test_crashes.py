"""A model process that dies fails its in-flight predictions and is restarted."""

from __future__ import annotations

import asyncio
import os
import pathlib
import signal

import pytest

from foretell.core.events import Started
from foretell.runner import Runner, WorkerState

from .conftest import add, collect, predict, request


@pytest.mark.parametrize(
    ("fixture", "how"),
    [
        ("exit_in_predict", "exit code 3"),
        ("segfault", "signal 11: SIGSEGV"),
        ("exc_outside_predict", "signal 9: SIGKILL, possibly out of memory"),
        ("raise_systemexit", "exit code 4"),
    ],
)
async def test_crash_fails_the_prediction_and_the_next_one_works(
    runner: Runner, tmp_path: pathlib.Path, fixture: str, how: str
) -> None:
    """os._exit, a segfault, a kill from a model thread or SystemExit escaping predict():
    clear error, restart, and the next prediction works."""
    name = await add(runner, fixture)
    crashed = await predict(runner, name, tmp_path, crash=True)
    assert crashed.done.status == "failed"
    assert crashed.done.error == (
        f"The model's process exited unexpectedly ({how}) while running this prediction."
    )
    assert crashed.done.metrics["predict_time"] >= 0
    if fixture == "raise_systemexit":  # what the model did is in the prediction's logs
        assert "about to exit" in crashed.logs and "SystemExit: 4" in crashed.logs
    if fixture == "segfault":  # and where it crashed
        assert "Fatal Python error: Segmentation fault" in crashed.logs
        assert 'segfault.py", line 9 in predict' in crashed.logs
    survived = await predict(runner, name, tmp_path, crash=False)
    assert (survived.done.status, survived.done.output) == ("succeeded", "alive")
    assert runner.state_info(name).restarts == 1


async def test_killed_by_the_oom_killer(runner: Runner, tmp_path: pathlib.Path) -> None:
    """SIGKILL from outside (as the OOM killer sends) mid-prediction is reported and survived."""
    name = await add(runner, "sleep")
    handle = await runner.submit(name, request(tmp_path, seconds=30))
    async for event in handle:
        if isinstance(event, Started):
            break
    pid = runner.state_info(name).pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    done = await handle.done()
    assert done.status == "failed"
    assert "signal 9: SIGKILL, possibly out of memory" in (done.error or "")
    result = await predict(runner, name, tmp_path, seconds=0)
    assert result.done.output == "woke up"
    assert runner.state_info(name).pid != pid


async def test_queued_predictions_survive_a_crash(runner: Runner, tmp_path: pathlib.Path) -> None:
    """Predictions waiting behind the one that crashed run on the restarted worker."""
    name = await add(runner, "exit_in_predict")
    first = await runner.submit(name, request(tmp_path, crash=True))
    waiting = [await runner.submit(name, request(tmp_path, crash=False)) for _ in range(3)]
    assert (await first.done()).status == "failed"
    assert [(await collect(h)).done.output for h in waiting] == ["alive"] * 3


async def test_a_model_that_keeps_crashing_becomes_defunct(
    runner: Runner, tmp_path: pathlib.Path
) -> None:
    """Past the restart limit the model is defunct and predictions fail at once."""
    name = await add(runner, "exit_in_predict", max_restarts=2)
    for _ in range(3):
        await predict(runner, name, tmp_path, crash=True)
        await asyncio.sleep(0)
    await runner.wait_ready(name)
    assert runner.state(name) is WorkerState.DEFUNCT
    result = await predict(runner, name, tmp_path, crash=False)
    assert result.done.status == "failed"
    assert "crashed 3 times" in (result.done.error or "")
