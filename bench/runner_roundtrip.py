"""Runner benchmark: round trip, yielded items/s and cancel latency beside in-process baselines."""

# Usage: python bench/runner_roundtrip.py [-n 2000] [--items 200000]. Every number has its
# baseline measured in the same run: these machines are shared and noisy.

from __future__ import annotations

import argparse
import asyncio
import pathlib
import socket
import sys
import tempfile
import time
from collections.abc import Callable

from rich.console import Console
from rich.table import Table

from foretell.core.events import Done, Log, Output
from foretell.predictor.encode import encode_output
from foretell.predictor.load import load_predictor
from foretell.runner import ModelSpec, PredictionRequest, Runner

PREDICTORS = pathlib.Path(__file__).parents[1] / "tests" / "fixtures" / "predictors"


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def in_process_roundtrip(n: int) -> list[float]:
    """The same no-op prediction called directly: validate, call, encode."""
    predictor = load_predictor("echo.py", root=PREDICTORS)
    workdir = pathlib.Path(tempfile.mkdtemp())
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        value = predictor.call(predictor.prepare_inputs({"text": "hi"}, workdir=workdir))
        encode_output(value, files_dir=workdir)
        samples.append(time.perf_counter() - start)
    return samples


def in_process_stream(n: int) -> float:
    """Items/s of the token generator consumed in-process, each item encoded."""
    predictor = load_predictor("stream_tokens.py", root=PREDICTORS)
    workdir = pathlib.Path(tempfile.mkdtemp())
    start = time.perf_counter()
    for item in predictor.call({"n": n, "delay": 0.0}):
        encode_output(item, files_dir=workdir)
    return n / (time.perf_counter() - start)


_ECHO_CHILD = """
import socket, sys
s = socket.socket(fileno=int(sys.argv[1]))
while data := s.recv(65536):
    s.sendall(data)
"""


async def bare_pingpong(n: int) -> list[float]:
    """The floor: 100 bytes to a child process over a socketpair and back, from asyncio."""
    ours, theirs = socket.socketpair()
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _ECHO_CHILD, str(theirs.fileno()), pass_fds=(theirs.fileno(),)
    )
    theirs.close()
    reader, writer = await asyncio.open_unix_connection(sock=ours)
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        writer.write(b"x" * 100)
        await reader.read(65536)
        samples.append(time.perf_counter() - start)
    writer.close()
    await child.wait()
    return samples


async def runner_roundtrip(
    runner: Runner, out: pathlib.Path, n: int, model: str = "echo"
) -> list[float]:
    """Sequential no-op predictions: submit, then wait for Done."""
    samples = []
    for i in range(n):
        start = time.perf_counter()
        handle = await runner.submit(model, PredictionRequest(f"{model}{i}", {"text": "hi"}, out))
        done = await handle.done()
        samples.append(time.perf_counter() - start)
        assert done.status == "succeeded"
    return samples


async def runner_stream(runner: Runner, out: pathlib.Path, n: int) -> float:
    start = time.perf_counter()
    handle = await runner.submit("stream", PredictionRequest("s", {"n": n}, out))
    count = 0
    async for event in handle:
        if isinstance(event, Output):
            count += 1
        elif isinstance(event, Done):
            assert event.status == "succeeded", event.error
    assert count == n
    return n / (time.perf_counter() - start)


async def cancel_latency(runner: Runner, out: pathlib.Path, n: int) -> list[float]:
    """From cancel() to Done while the sync model is inside time.sleep(30)."""
    samples = []
    for i in range(n):
        handle = await runner.submit("sleep", PredictionRequest(f"c{i}", {"seconds": 30}, out))
        async for event in handle:
            if isinstance(event, Log):  # "going to sleep": the model is in time.sleep now
                break
        await asyncio.sleep(0.01)
        start = time.perf_counter()
        await runner.cancel(handle.id)
        done = await handle.done()
        samples.append(time.perf_counter() - start)
        assert done.status == "canceled"
    return samples


async def measure(n: int, items: int) -> list[tuple[str, str, str]]:
    out = pathlib.Path(tempfile.mkdtemp())
    rows = []
    base = in_process_roundtrip(n)
    floor = await bare_pingpong(n)
    async with Runner() as runner:
        for name, fixture in (
            ("echo", "echo"),
            ("echo_async", "echo_async"),
            ("stream", "stream_tokens"),
            ("sleep", "sleep"),
        ):
            await runner.add_model(ModelSpec(name, PREDICTORS, f"{fixture}.py"))
            await runner.wait_ready(name)
        await runner_roundtrip(runner, out, min(200, n))  # warm up
        trip = await runner_roundtrip(runner, out, n)
        async_trip = await runner_roundtrip(runner, out, n, "echo_async")
        stream_rate = await runner_stream(runner, out, items)
        cancels = await cancel_latency(runner, out, 10)
    us: Callable[[float], str] = lambda s: f"{s * 1e6:,.0f} µs"  # noqa: E731
    rows.append(
        (
            "no-op round trip p50 / p99",
            f"{us(percentile(trip, 0.5))} / {us(percentile(trip, 0.99))}",
            f"{us(percentile(base, 0.5))} / {us(percentile(base, 0.99))}",
        )
    )
    rows.append(
        (
            "async no-op round trip p50 / p99",
            f"{us(percentile(async_trip, 0.5))} / {us(percentile(async_trip, 0.99))}",
            "",
        )
    )
    rows.append(
        (
            "floor: bare socket ping-pong with a child p50 / p99",
            f"{us(percentile(floor, 0.5))} / {us(percentile(floor, 0.99))}",
            "",
        )
    )
    rows.append(
        (
            "no-op predictions/s (sequential)",
            f"{n / sum(trip):,.0f}",
            f"{n / sum(base):,.0f}",
        )
    )
    rows.append(("yielded items/s", f"{stream_rate:,.0f}", f"{in_process_stream(items):,.0f}"))
    rows.append(
        (
            "sync cancel during time.sleep: p50 / max",
            f"{percentile(cancels, 0.5) * 1e3:.1f} ms / {max(cancels) * 1e3:.1f} ms",
            "Cog 0.23.1: waits for the sleep to end",
        )
    )
    rows.append(("samples", f"{n} round trips, {items:,} items, 10 cancels", ""))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=2000, help="round trips to time")
    parser.add_argument("--items", type=int, default=200_000, help="items to stream")
    args = parser.parse_args()
    rows = asyncio.run(measure(args.n, args.items))
    table = Table(title="foretell runner: worker subprocess vs in-process baseline")
    for column in ("measure", "through the runner", "in-process baseline"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    Console().print(table)


if __name__ == "__main__":
    main()
