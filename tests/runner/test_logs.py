"""Logs: captured per prediction at the file-descriptor level."""

from __future__ import annotations

import asyncio
import pathlib

from foretell.core.events import Log
from foretell.runner import PredictionHandle, Runner

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


async def _wait_for_text(handle: PredictionHandle, *texts: str) -> str:
    seen = ""
    async for event in handle:
        if isinstance(event, Log):
            seen += event.text
            if all(text in seen for text in texts):
                return seen
    raise AssertionError(f"the prediction ended before logging {texts}: {seen!r}")


async def test_unfinished_lines_are_sent_without_waiting_for_a_newline(
    runner: Runner, tmp_path: pathlib.Path
) -> None:
    """A progress line without newline (Python or fd level) arrives while the model still runs."""
    name = await add(runner, "progress")
    handle = await runner.submit(name, request(tmp_path, seconds=30))
    seen = await asyncio.wait_for(_wait_for_text(handle, "python 50%", "fd 42%"), 10)
    assert "\rpython 50%" in seen and "\rfd 42%" in seen
    assert not handle.finished
    await runner.cancel(handle.id)
    assert (await asyncio.wait_for(handle.done(), 10)).status == "canceled"


async def test_fd_output_of_concurrent_predictions_goes_to_the_worker_log(
    runner: Runner, tmp_path: pathlib.Path
) -> None:
    """With two predictions running, fd-level output can't be attributed: it goes to the
    worker log, while their Python prints still reach their own logs."""
    name = await add(runner, "fd_concurrent_async", max_concurrency=2)
    handles = [await runner.submit(name, request(tmp_path, name=n)) for n in ("ann", "bob")]
    ann, bob = await asyncio.gather(*(collect(h) for h in handles))
    assert ann.logs == "print from ann\n" and bob.logs == "print from bob\n"
    worker_logs = runner.state_info(name).worker_logs
    assert "fd write from ann\n" in worker_logs and "fd write from bob\n" in worker_logs
    assert "fd write" not in runner.state_info(name).setup_logs
