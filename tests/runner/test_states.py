"""A model's worker states, setup logs and setup errors, as the runner reports them."""

from __future__ import annotations

import asyncio
import pathlib

from foretell.runner import Runner, WorkerState

from .conftest import add, collect, predict, request, spec


async def _until(check: object, timeout: float = 10.0) -> None:
    async def poll() -> None:
        while not check():  # type: ignore[operator]
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


async def test_starting_until_setup_finishes_then_ready(
    runner: Runner, tmp_path: pathlib.Path
) -> None:
    """A model is `starting` while setup() runs (its output in the setup logs), then `ready`."""
    gate = tmp_path / "gate"
    model = spec("slow_setup", env={"FORETELL_TEST_GATE": str(gate)})
    await runner.add_model(model)
    await _until(lambda: "waiting for the gate" in runner.state_info(model.name).setup_logs)
    assert runner.state(model.name) is WorkerState.STARTING
    gate.touch()
    assert await runner.wait_ready(model.name) is WorkerState.READY
    info = runner.state_info(model.name)
    assert info.setup_logs == "waiting for the gate\nsetup done\n"
    assert info.error is None and info.pid is not None
    assert (await predict(runner, model.name, tmp_path)).done.output == "ready"


async def test_busy_while_every_slot_runs(runner: Runner, tmp_path: pathlib.Path) -> None:
    """A sync model is `busy` while it runs a prediction, and `ready` again after."""
    name = await add(runner, "sleep")
    handle = await runner.submit(name, request(tmp_path, seconds=0.2))
    assert runner.state(name) is WorkerState.BUSY
    assert runner.state_info(name).running == 1
    await collect(handle)
    assert runner.state(name) is WorkerState.READY


async def test_failed_setup_is_not_retried(runner: Runner, tmp_path: pathlib.Path) -> None:
    """A model whose setup() failed stays `setup_failed` with one process: no restart loop."""
    name = await add(runner, "exc_in_setup")
    info = runner.state_info(name)
    assert info.state is WorkerState.SETUP_FAILED
    assert "RuntimeError: weights not found" in (info.error or "")
    for _ in range(3):
        result = await predict(runner, name, tmp_path)
        assert result.done.status == "failed"
        assert "RuntimeError: weights not found" in (result.done.error or "")
    after = runner.state_info(name)
    assert (after.restarts, after.pid) == (0, info.pid)


async def test_a_process_that_dies_in_setup_is_setup_failed(
    runner: Runner, tmp_path: pathlib.Path
) -> None:
    """A worker that exits during setup() is `setup_failed`, not restarted in a loop."""
    name = await add(runner, "exit_in_setup")
    info = runner.state_info(name)
    assert info.state is WorkerState.SETUP_FAILED and info.restarts == 0
    assert info.error == "The model's process exited (exit code 5) during setup()."
    result = await predict(runner, name, tmp_path)
    assert result.done.status == "failed" and "during setup()" in (result.done.error or "")
