"""HTTP benchmark: foretell serve vs bare Starlette and Cog 0.23.1, all measured in one run.

Usage: .venv/bin/python bench/http_api.py [--quick] [--seconds 5] [--repeats 3] [--before REF].
Every server runs at the same time and the figures are taken round-robin, each `--repeats`
times, so the same noise hits all of them; compare numbers only within one run. `--before REF`
adds a second `foretell serve` from a `git worktree` of that commit ("before" columns).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import pathlib
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence

from http_load import (
    Drain,
    Sequential,
    Window,
    create_and_drain,
    sequential,
    sse_latencies,
    wrk,
)
from http_servers import (
    COG_VERSION,
    Foretell,
    Target,
    start_cog,
    start_foretell,
    start_starlette,
)
from rich import box
from rich.console import Console
from rich.table import Table
from worktree import worktree

IDLE_S = 3.0
#: Column headings by target name.
COLUMNS = {
    "starlette": "Starlette", "cog sync": "Cog sync", "cog async": "Cog async (64)",
    "foretell sync": "foretell sync", "foretell async": "foretell async (64)",
    "before sync": "before sync", "before async": "before async (64)",
}  # fmt: skip


def spread(values: Sequence[float], fmt: str) -> str:
    """The median, and the range when there are several repeats."""
    if not values:
        return "—"
    middle = format(statistics.median(values), fmt)
    if len(values) == 1:
        return middle
    return f"{middle} ({format(min(values), fmt)}–{format(max(values), fmt)})"


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Run:
    """The servers of one run and everything measured on them."""

    def __init__(
        self,
        tmp: pathlib.Path,
        seconds: float,
        repeats: int,
        n_seq: int,
        before: pathlib.Path | None = None,
    ) -> None:
        self.tmp, self.seconds, self.repeats, self.n_seq = tmp, seconds, repeats, n_seq
        self.scripts = tmp / "lua"
        self.scripts.mkdir()
        self.started: list[Target] = []
        # Cog's async server can wedge under load (requests hang, SIGTERM ignored): restart it.
        self.factories: dict[str, Callable[[], Target]] = {
            "starlette": lambda: start_starlette(tmp),
            "cog sync": lambda: start_cog("cog sync", "sync", tmp),
            "cog async": lambda: start_cog("cog async", "async", tmp, concurrency=64),
        }
        self.restarts = dict.fromkeys(self.factories, 0)
        try:
            self.starlette = self._keep(self.factories["starlette"]())
            self.cog_sync = self._keep(self.factories["cog sync"]())
            self.cog_async = self._keep(self.factories["cog async"]())
            self.foretell: Foretell = start_foretell(tmp / "data")
            self.started.append(self.foretell.target("sync"))
            # the foretell servers measured side by side: this tree, then `--before REF`'s
            self.servers = [self.foretell]
            if before is not None:
                self.servers.append(start_foretell(tmp / "before-data", before, "before"))
                self.started.append(self.servers[-1].target("sync"))
        except BaseException:
            self.stop()
            raise
        self.targets: list[Target] = [self.starlette, self.cog_sync, self.cog_async]
        for server in self.servers:
            self.targets += [server.target("sync"), server.target("async")]
        self.windows: dict[tuple[str, int], list[Window]] = {}
        self.idle: dict[str, list[float]] = {}
        self.idle_cpu: dict[str, float] = {}
        self.sequential: dict[str, list[Sequential]] = {}

    def _keep(self, target: Target) -> Target:
        self.started.append(target)
        return target

    def stop(self) -> None:
        for target in self.started:
            target.stop()

    def _restart(self, target: Target) -> Target:
        if target.name not in self.factories:
            raise RuntimeError(f"{target.name} stopped answering (see {self.tmp})")
        print(f"{target.name} stopped answering: restarting it", flush=True)
        self.restarts[target.name] += 1
        target.stop()
        fresh = self.factories[target.name]()
        self.started[self.started.index(target)] = fresh
        self.targets[self.targets.index(target)] = fresh
        return fresh

    def _sequential(self, target: Target) -> Sequential:
        try:
            return sequential(target, self.n_seq)
        except OSError:  # timed out: the server hangs
            return sequential(self._restart(target), self.n_seq)

    def _window(self, target: Target, connections: int) -> Window:
        """A wrk window; one that leaves the server hanging is run again on a fresh one."""
        window = wrk(target, connections, self.seconds, self.scripts)
        if target.answers():
            return window
        return wrk(self._restart(target), connections, self.seconds, self.scripts)

    def request_response(self) -> None:
        """Sequential (c=1) and c=8 / c=32 windows, round-robin over the servers."""
        for target in self.targets:
            wrk(target, 8, 1, self.scripts)  # warm up (imports, caches, connection pools)
            self.idle[target.name] = target.rss_mib()
        # CPU the servers burn doing nothing (timers, polling): part of every figure below.
        before = {t.name: t.cpu_s() for t in self.targets}
        time.sleep(IDLE_S)
        self.idle_cpu = {t.name: (t.cpu_s() - before[t.name]) / IDLE_S for t in self.targets}
        for repeat in range(self.repeats):
            for target in list(self.targets):
                timed = self._sequential(target)
                self.sequential.setdefault(target.name, []).append(timed)
            for connections in (1, 8, 32):
                for target in list(self.targets):
                    window = self._window(target, connections)
                    self.windows.setdefault((target.name, connections), []).append(window)
            print(f"request/response: repeat {repeat + 1} of {self.repeats} done", flush=True)

    def drains(self) -> dict[str, list[Drain]]:
        """Per foretell server (round-robin): async creates, then the queue's drain."""
        drains: dict[str, list[Drain]] = {server.label: [] for server in self.servers}
        for _ in range(self.repeats):
            for server in self.servers:
                target = server.target("async", wait=False)
                db = server.data_dir / "foretell.db"
                drains[server.label].append(
                    create_and_drain(target, db, self.seconds, self.scripts)
                )
        return drains

    def sse(self, n: int) -> tuple[dict[str, list[list[float]]], list[list[float]]]:
        ours: dict[str, list[list[float]]] = {server.label: [] for server in self.servers}
        bare = []
        sse_url = self.starlette.url.removesuffix("/predictions") + "/sse"
        for _ in range(self.repeats):
            bare.append(sse_latencies(sse_url, None, n))
            for server in self.servers:
                stream = server.target("stream", wait=False)
                ours[server.label].append(sse_latencies(stream.url, stream.headers, n))
        return ours, bare

    def sustained(self, windows: int, seconds: float) -> dict[str, list[tuple[Window, float]]]:
        """Windows on one server each: c=8 `Prefer: wait`, RSS after each. Back to back with
        one foretell server; with `--before`, the two servers' windows alternate."""
        results: dict[str, list[tuple[Window, float]]] = {s.label: [] for s in self.servers}
        for _ in range(windows):
            for server in self.servers:
                target = server.target("async")
                window = wrk(target, 8, seconds, self.scripts)
                results[server.label].append((window, sum(target.rss_mib())))
        return results


def request_table(run: Run) -> Table:
    table = Table(box=box.MARKDOWN)
    table.add_column("measure")
    for target in run.targets:
        table.add_column(COLUMNS[target.name], justify="right")

    def row(label: str, connections: int, value: Callable[[Window], float], fmt: str) -> None:
        cells = []
        for target in run.targets:
            windows = run.windows.get((target.name, connections), [])
            cells.append(spread([value(w) for w in windows], fmt))
        table.add_row(label, *cells)

    per_sequential: tuple[tuple[str, Callable[[Sequential], float], str], ...] = (
        ("sequential p50 ms, OK answers only (Python keep-alive client)", lambda s: s.p50_ms, ".2f"),
        ("sequential p99 ms, OK answers only", lambda s: s.p99_ms, ".2f"),
        ("sequential: answers rejected (non-2xx)", lambda s: s.rejected, ",.0f"),
    )  # fmt: skip
    for label, get, fmt in per_sequential:
        cells = [spread([get(s) for s in run.sequential[t.name]], fmt) for t in run.targets]
        table.add_row(f"{label} (of {run.n_seq})" if "rejected" in label else label, *cells)
    row("wrk c=1 (keep-alive) OK req/s", 1, lambda w: w.ok_rps, ",.0f")
    row("wrk c=1 rejected (non-2xx) /s", 1, lambda w: w.rejected_rps, ",.0f")
    row("wrk c=1 latency p50 ms (all answers)", 1, lambda w: w.p50_ms, ".2f")
    row("wrk c=1 latency p99 ms (all answers)", 1, lambda w: w.p99_ms, ".2f")
    for c in (8, 32):
        row(f"c={c} OK req/s (foretell: Prefer: wait)", c, lambda w: w.ok_rps, ",.0f")
        row(f"c={c} rejected (non-2xx) /s", c, lambda w: w.rejected_rps, ",.0f")
        row(f"c={c} latency p50 ms (all answers)", c, lambda w: w.p50_ms, ".1f")
        row(f"c={c} latency p99 ms (all answers)", c, lambda w: w.p99_ms, ".1f")
    for c in (1, 8, 32):
        row(f"server CPU ms per OK answer, c={c}", c, lambda w: w.cpu_ms_per_ok, ".3f")
    idle = []
    for target in run.targets:
        sizes = run.idle[target.name]
        parts = " + ".join(f"{s:.0f}" for s in sizes)
        idle.append(f"{sum(sizes):.0f} ({parts})" if len(sizes) > 1 else f"{sizes[0]:.0f}")
    table.add_row("idle RSS MiB (server + workers)", *idle)
    table.add_row(
        "restarted: stopped answering after a window",
        *(str(run.restarts.get(t.name, 0)) for t in run.targets),
    )
    table.add_row(
        f"idle CPU % of a core ({IDLE_S:g} s, no requests)",
        *(f"{run.idle_cpu[t.name] * 100:.1f}" for t in run.targets),
    )
    return table


def other_table(
    run: Run,
    drains: dict[str, list[Drain]],
    sse: tuple[dict[str, list[list[float]]], list[list[float]]],
    sustained: dict[str, list[tuple[Window, float]]],
) -> Table:
    labels = [server.label for server in run.servers]
    table = Table(box=box.MARKDOWN)
    for column in ("measure", *labels, "baseline, same run"):
        table.add_column(column, justify="right")

    def row(label: str, cells: Callable[[str], str], baseline: str = "") -> None:
        table.add_row(label, *(cells(server) for server in labels), baseline)

    def drained(get: Callable[[Drain], float], fmt: str) -> Callable[[str], str]:
        return lambda server: spread([get(d) for d in drains[server]], fmt)

    row(
        "async create (no Prefer: wait, c=8) 201s/s",
        drained(lambda d: d.create_rps, ",.0f"),
        "— (Cog has no queue: 409 when its slots are full)",
    )
    row(
        "  drain: predictions finished/s, first create → queue empty",
        drained(lambda d: d.finished_rps, ",.0f"),
    )
    row(
        "  still queued or running when the create window ended",
        drained(lambda d: d.queued, ",.0f"),
    )
    row(
        "  ms from the window's end until the queue was empty",
        drained(lambda d: d.tail_s * 1e3, ",.0f"),
    )
    row(
        "  server CPU ms per prediction (create + run)",
        drained(lambda d: d.cpu_ms_per_prediction, ".3f"),
    )
    ours, bare = sse
    for label, q in (("p50", 0.5), ("p99", 0.99)):
        table.add_row(
            f"100-token SSE, create → done, {label} ms",
            *(spread([pct(x, q) * 1e3 for x in ours[server]], ".2f") for server in labels),
            spread([pct(x, q) * 1e3 for x in bare], ".2f") + " Starlette, 100 events",
        )
    for i in range(len(sustained[labels[0]])):
        table.add_row(
            f"sustained window {i + 1}: c=8 OK req/s, p99 ms, CPU ms/pred, RSS MiB",
            *(_window_cell(*sustained[server][i]) for server in labels),
            "",
        )
    row(
        "sustained: last / first window req/s",
        lambda s: f"{sustained[s][-1][0].ok_rps / sustained[s][0][0].ok_rps:.2f}",
    )
    return table


def _window_cell(window: Window, rss: float) -> str:
    return f"{window.ok_rps:,.0f}, {window.p99_ms:.1f}, {window.cpu_ms_per_ok:.3f}, {rss:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2 s windows, 1 repeat (smoke test)")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each wrk window")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sse", type=int, default=200, help="streams timed per repeat")
    parser.add_argument("-n", type=int, default=1000, help="sequential requests timed per repeat")
    parser.add_argument(
        "--before", metavar="REF", help="also run `foretell serve` from this commit (a worktree)"
    )
    args = parser.parse_args()
    seconds, repeats, n_sse, n_seq, sustained_s = args.seconds, args.repeats, args.sse, args.n, 10.0
    if args.quick:
        seconds, repeats, n_sse, n_seq, sustained_s = 2.0, 1, 30, 200, 2.0
    started = datetime.datetime.now(datetime.UTC)
    load = os.getloadavg()
    console = Console(width=220)
    with contextlib.ExitStack() as stack:
        before = stack.enter_context(worktree(args.before)) / "src" if args.before else None
        tmp = pathlib.Path(tempfile.mkdtemp(prefix="foretell-bench-http-"))
        run = Run(tmp, seconds, repeats, n_seq, before)
        try:
            run.request_response()
            # at once too: a run cut short later still leaves these figures behind
            console.print("request/response, so far (printed again at the end):")
            console.print(request_table(run))
            drains = run.drains()
            sse = run.sse(n_sse)
            sustained = run.sustained(6, sustained_s)
        except BaseException:
            print(f"servers' logs and data are in {run.tmp}")
            raise
        finally:
            run.stop()
    shutil.rmtree(run.tmp, ignore_errors=True)
    console.print(
        f"{started:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, {platform.python_version()}, "
        f"Cog {COG_VERSION}; load average {load[0]:.2f} at start, "
        f"{os.getloadavg()[0]:.2f} at the end; {seconds:g} s windows × {repeats}"
        + (f"; before = {args.before}" if args.before else "")
    )
    console.print(request_table(run))
    console.print(other_table(run, drains, sse, sustained))


if __name__ == "__main__":
    main()
