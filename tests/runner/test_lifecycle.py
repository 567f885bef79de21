"""Worker processes never outlive the runner, and terminal signals are the runner's."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import time

from .conftest import PREDICTORS

_HOST = f"""
import asyncio, pathlib, sys
from foretell.runner import ModelSpec, PredictionRequest, Runner

async def main():
    runner = Runner()
    await runner.add_model(ModelSpec("sleep", pathlib.Path({str(PREDICTORS)!r}), "sleep.py"))
    await runner.wait_ready("sleep")
    await runner.submit("sleep", PredictionRequest("p", {{"seconds": 60}}, pathlib.Path("/tmp")))
    print(runner.state_info("sleep").pid, flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split()[2] != "Z"


def test_worker_exits_when_the_runner_is_killed() -> None:
    """A runner killed with SIGKILL mid-prediction leaves no orphan model process."""
    with subprocess.Popen([sys.executable, "-c", _HOST], stdout=subprocess.PIPE, text=True) as host:
        assert host.stdout is not None
        worker_pid = int(host.stdout.readline())
        assert _alive(worker_pid)
        host.kill()
    deadline = time.monotonic() + 10
    while _alive(worker_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(worker_pid)


def test_worker_runs_in_its_own_session() -> None:
    """A terminal's Ctrl-C (SIGINT to the foreground group) doesn't reach the model."""
    with subprocess.Popen([sys.executable, "-c", _HOST], stdout=subprocess.PIPE, text=True) as host:
        assert host.stdout is not None
        worker_pid = int(host.stdout.readline())
        try:
            assert os.getsid(worker_pid) != os.getsid(host.pid)
        finally:
            host.send_signal(signal.SIGKILL)


async def test_a_new_runner_removes_scratch_left_by_a_killed_one(tmp_path: pathlib.Path) -> None:
    """A runner killed with -9 can't remove its scratch directory; the next one does, and
    leaves those of runners still alive (and directories it doesn't own) alone."""
    from foretell.runner import Runner

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    stale = tmp_path / "foretell-runner-stale"
    stale.mkdir()
    (stale / "owner.pid").write_text(dead.stdout.strip())
    alive = tmp_path / "foretell-runner-alive"
    alive.mkdir()
    (alive / "owner.pid").write_text("1")
    unowned = tmp_path / "foretell-runner-unowned"
    unowned.mkdir()
    async with Runner(scratch_dir=tmp_path) as runner:
        assert runner.scratch.exists()
        assert not stale.exists() and alive.exists() and unowned.exists()
    assert not runner.scratch.exists()
