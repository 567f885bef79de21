"""Logs: captured per prediction at the file-descriptor level."""

from __future__ import annotations

import asyncio
import pathlib

from foretell.core.events import Log
from foretell.runner import Runner

from .conftest import add, collect, predict, request


async def test_print_logging_fd_writes_and_child_processes_reach_the_logs(
    runner: Runner, tmp_path: pathlib.Path
) -> None:
    """Python prints, logging, os.write(1) and a child process's output are all captured."""
    name = await add(runner, "logs")
    result = await predict(runner, name, tmp_path)
    for line in (
        "print x\n",
        "stderr line\n",
        "logging warning\n",
        "raw fd write\n",
        "from a child process\n",
        "no newline at the end",
    ):
        assert line in result.logs, result.logs
    assert "setting up" not in result.logs, result.logs
    assert "setting up" in runner.state_info(name).setup_logs


async def test_each_prediction_gets_only_its_own_logs(
    runner: Runner, tmp_path: pathlib.Path
) -> None:
    """Logs never leak into the next prediction, even output written just before returning."""
    name = await add(runner, "logs")
    first = await predict(runner, name, tmp_path, text="one")
    second = await predict(runner, name, tmp_path, text="two")
    assert "print one" in first.logs and "print two" not in first.logs
    assert "print two" in second.logs and "print one" not in second.logs
    assert second.logs.count("from a child process") == 1


async def test_concurrent_async_predictions_are_attributed_correctly(
    runner: Runner, tmp_path: pathlib.Path
) -> None:
    """With concurrency > 1, each prediction's prints land in its own logs."""
    name = await add(runner, "logs_async_concurrent", max_concurrency=3)
    handles = [await runner.submit(name, request(tmp_path, name=n)) for n in ("ann", "bob", "cy")]
    results = await asyncio.gather(*(collect(h) for h in handles))
    for who, result in zip(("ann", "bob", "cy"), results, strict=True):
        lines = result.logs.splitlines()
        assert lines == [f"{who} step {i}" for i in range(5)]


async def test_logs_stream_while_the_model_runs(runner: Runner, tmp_path: pathlib.Path) -> None:
    """A log line arrives before the prediction ends."""
    name = await add(runner, "sleep")
    handle = await runner.submit(name, request(tmp_path, seconds=1))
    first = None
    async for event in handle:
        if isinstance(event, Log):
            first = event
            break
    assert first is not None and first.text == "going to sleep\n"
    assert not handle.finished
    await runner.cancel(handle.id)


async def test_secrets_are_never_printed(runner: Runner, tmp_path: pathlib.Path) -> None:
    """A Secret prints as stars in logs and errors, and Done never echoes inputs."""
    name = await add(runner, "secret_input")
    ok = await predict(runner, name, tmp_path, token="hunter2")
    failed = await predict(runner, name, tmp_path, token="hunter2", fail=True)
    assert ok.done.output == "length 7"
    for result in (ok, failed):
        assert "hunter2" not in result.logs
        assert "hunter2" not in repr(result.done)
    assert "token is **********" in ok.logs
