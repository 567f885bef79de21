"""Store benchmark: durable prediction writes/s at c concurrent callers, group commit on and off.

Usage: .venv/bin/python bench/store_writes.py [--before REF] [-n 2000] [--repeats 3]

Each caller runs predictions through the three writes a `Prefer: wait` prediction makes
(create, → processing, → succeeded), awaiting each, as the server does. Columns: this tree
with group commit, this tree with one transaction per call (`group_commit=False`), and with
`--before REF` the store of that commit (a `git worktree`, run with its own `src` first on
PYTHONPATH). Every variant runs in its own process, round-robin, `--repeats` times.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import pathlib
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

from worktree import worktree

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONCURRENCY = (1, 8, 32, 128)
T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


# ---- one measurement, in a child process ---------------------------------------------------


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _measure(
    path: pathlib.Path, n: int, callers: int, group_commit: bool | None
) -> dict[str, Any]:
    from foretell.core.prediction import Prediction, finish, start
    from foretell.core.status import Status
    from foretell.store.sqlite import SQLiteStore

    store = (
        SQLiteStore(path) if group_commit is None else SQLiteStore(path, group_commit=group_commit)
    )
    await store.open()
    todo = [
        Prediction(id=f"p{i:06d}", account="ann", model="bench/noop", version="v" * 64,
                   input={"text": "hello"}, created_at=T0 + datetime.timedelta(microseconds=i))
        for i in range(n)
    ]  # fmt: skip
    todo.reverse()

    async def caller() -> None:
        while todo:
            prediction = todo.pop()
            await store.create_prediction(prediction)
            running = start(prediction, T0)
            await store.transition(running, [Status.STARTING])
            done = finish(running, Status.SUCCEEDED, T0, output="hello")
            await store.transition(done, [Status.PROCESSING])

    cpu, wall = _cpu_s(), time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(callers)))
    wall, cpu = time.perf_counter() - wall, _cpu_s() - cpu
    await store.close()
    return {
        "predictions_s": n / wall,
        "writes_s": 3 * n / wall,
        "cpu_us_per_write": cpu / (3 * n) * 1e6,
    }


def child(args: argparse.Namespace) -> None:
    mode = {"on": True, "off": False, "before": None}[args.child]
    try:
        import uvloop

        run: Any = uvloop.run  # as `foretell serve` runs when uvloop is installed
    except ImportError:
        run = asyncio.run
    results = []
    for callers in args.callers:
        with tempfile.TemporaryDirectory(prefix="foretell-bench-store-") as tmp:
            path = pathlib.Path(tmp) / "foretell.db"
            results.append({"c": callers, **run(_measure(path, args.n, callers, mode))})
    print(json.dumps(results))


# ---- the parent: variants round-robin, one table -------------------------------------------


def run_variant(mode: str, src: pathlib.Path, n: int) -> list[dict[str, Any]]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    command = [
        sys.executable,
        __file__,
        "--child",
        mode,
        "-n",
        str(n),
        "--callers",
        *map(str, CONCURRENCY),
    ]
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    return list(json.loads(done.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--before", metavar="REF", help="also measure the store of this commit")
    parser.add_argument("-n", type=int, default=2000, help="predictions per measurement")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", choices=("on", "off", "before"), help=argparse.SUPPRESS)
    parser.add_argument("--callers", type=int, nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    with contextlib.ExitStack() as stack:
        variants = {
            "group commit": ("on", ROOT / "src"),
            "one commit per call": ("off", ROOT / "src"),
        }
        if args.before:
            before = stack.enter_context(worktree(args.before))
            variants = {f"before ({args.before})": ("before", before / "src"), **variants}
        runs: dict[str, list[list[dict[str, Any]]]] = {name: [] for name in variants}
        load = os.getloadavg()[0]
        for _ in range(args.repeats):
            for name, (mode, src) in variants.items():
                runs[name].append(run_variant(mode, src, args.n))
    print_table(runs, args, load)


def _cell(values: list[float], fmt: str) -> str:
    middle = format(statistics.median(values), fmt)
    if len(values) == 1:
        return middle
    return f"{middle} ({format(min(values), fmt)}–{format(max(values), fmt)})"


def print_table(
    runs: dict[str, list[list[dict[str, Any]]]], args: argparse.Namespace, load: float
) -> None:
    names = list(runs)
    print(
        f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
        f"Python {sys.version.split()[0]}; {args.n} predictions × 3 writes per cell, "
        f"median (min–max) of {args.repeats}; load average {load:.2f} at start\n"
    )
    print("| measure | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for key, label, fmt in (
        ("writes_s", "durable writes/s", ",.0f"),
        ("cpu_us_per_write", "process CPU µs per write", ".1f"),
    ):
        for index, callers in enumerate(CONCURRENCY):
            cells = [_cell([rep[index][key] for rep in runs[name]], fmt) for name in names]
            print(f"| {label}, c={callers} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
