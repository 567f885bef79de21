"""Cluster benchmark: throughput of the embedded shape and of API nodes + workers over
PostgreSQL and Redis, and get/list latency with many predictions in PostgreSQL.

Usage: .venv/bin/python bench/cluster.py [--quick] [--seconds 5] [--repeats 3]
[--rows 10000,1000000] [-n 1000].

Every process is started from the command line (`foretell serve`, `foretell worker`) on a
scratch PostgreSQL database (127.0.0.1:5432, dropped at the end), Redis database 12
(flushed before and after) and a shared temp directory. The shapes run one after another,
each the same way: a 1 s warm-up per model, then `--repeats` windows of `--seconds` of each
model, alternating; the figures are the windows' medians. The machine is shared: compare
numbers only within one run.
"""

from __future__ import annotations

import argparse
import datetime
import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable

import cluster_pages as pages
import psycopg
import redis
from cluster_procs import PG_ADMIN, REDIS_URL, SLEEP_MODEL, model_args, scratch_engines
from cluster_procs import start_serve as serve
from cluster_shapes import CLIENTS, MODELS, Load, Measured, cluster, embedded, failure
from rich import box
from rich.console import Console
from rich.table import Table

ROOT = pathlib.Path(__file__).resolve().parents[1]
LABELS = {MODELS[0]: "no-op", SLEEP_MODEL: "100 ms"}


def throughput_table(shapes: list[Measured]) -> Table:
    table = Table(box=box.MARKDOWN)
    table.add_column("measure (Prefer: wait, wrk, c=8 in all)")
    for shape in shapes:
        table.add_column(shape.shape, justify="right")
    rows: list[tuple[str, Callable[[Load], float], str]] = [
        ("predictions/s", lambda w: w.ok_rps, ",.1f"),
        ("latency p50 ms", lambda w: w.p50_ms, ".1f"),
        ("latency p99 ms", lambda w: w.p99_ms, ".1f"),
        ("CPU ms per prediction (foretell processes)", lambda w: w.cpu_ms, ".2f"),
        ("non-2xx answers", lambda w: w.rejected, ",.0f"),
    ]
    for model in MODELS:
        for label, get, fmt in rows:
            cells = []
            for shape in shapes:
                value = shape.median(model, get)
                cells.append(format(value, fmt) if value is not None else _why(shape))
            table.add_row(f"{LABELS[model]}: {label}", *cells)
    for label, get, fmt in rows[1:3]:
        cells = []
        for shape in shapes:
            values = [get(load) for load in shape.single]
            cells.append(format(statistics.median(values), fmt) if values else _why(shape))
        table.add_row(f"no-op, one client alone: {label}", *cells)
    table.add_row(
        "predictions stored that did not succeed",
        *(str(s.not_succeeded.total()) if s.error is None else _why(s) for s in shapes),
    )
    table.add_row(
        'workers\' "lease lost" lines (a prediction ended elsewhere)',
        *("—" if s.shape == "embedded" else str(s.lease_lost) for s in shapes),
    )
    return table


def _why(shape: Measured) -> str:
    return f"— ({shape.error})" if shape.error else "—"


def ratios(shapes: list[Measured]) -> list[str]:
    """The issue's goal: ≥ 1.8× from 1 to 2 workers when the model is the bottleneck."""
    by = {s.shape: s.median(SLEEP_MODEL, lambda w: w.ok_rps) for s in shapes}
    one = by.get("1 API + 1 worker")
    lines = []
    for two in ("1 API + 2 workers", "2 API + 2 workers"):
        if one and by.get(two):
            ratio = (by[two] or 0) / one
            verdict = "met" if ratio >= 1.8 else "NOT met"
            lines.append(
                f"100 ms model, {two} / 1 API + 1 worker: {ratio:.2f}× (goal ≥ 1.8×: {verdict})"
            )
        else:
            lines.append(f"100 ms model, {two} / 1 API + 1 worker: not measured")
    return lines


def pages_part(
    tmp: pathlib.Path, database: str, rows: list[int], n: int, token: str | None
) -> tuple[dict[int, pages.Filled], dict[int, dict[str, pages.Latency]]]:
    """Fill to each row count in turn (one account), then time get/list on one API node."""
    pages.prepare(database)
    pages.empty(database)
    fills: dict[int, pages.Filled] = {}
    timed: dict[int, dict[str, pages.Latency]] = {}
    filled = None
    for total in sorted(rows):
        filled = pages.fill(database, filled, total)
        fills[total] = filled
        print(f"filled {total:,} rows: COPY {filled.copy_s:.1f} s", flush=True)
        engines = ["--database", database, "--queue", REDIS_URL, "--data-retention", "0",
                   "--files", f"file://{tmp / 'shared-files'}"]  # fmt: skip
        node = serve(f"pages-{total}", tmp, engines, token)
        try:
            if pages.count(database) != total:
                raise RuntimeError(f"expected {total} predictions, found {pages.count(database)}")
            timed[total] = pages.latencies(node, filled, n)
        finally:
            node.proc.stop()
    return fills, timed


def pages_table(
    fills: dict[int, pages.Filled], timed: dict[int, dict[str, pages.Latency]]
) -> Table:
    table = Table(box=box.MARKDOWN)
    table.add_column("measure (one keep-alive client, sequential)")
    counts = sorted(fills)
    for total in counts:
        table.add_column(f"{total:,} predictions", justify="right")
    if len(counts) > 1:
        table.add_column(f"{counts[-1]:,} / {counts[0]:,}", justify="right")
    added = [total - before for before, total in zip([0, *counts], counts, strict=False)]
    table.add_row(
        "fill: rows added by COPY, seconds (rows/s)",
        *(f"{a:,} in {fills[t].copy_s:.1f} s ({a / fills[t].copy_s:,.0f}/s)"
          for a, t in zip(added, counts, strict=True)),
        *([""] if len(counts) > 1 else []),
    )  # fmt: skip
    table.add_row("fill: ANALYZE s", *(f"{fills[t].analyze_s:.1f}" for t in counts),
                  *([""] if len(counts) > 1 else []))  # fmt: skip
    names = {"get": "GET /v1/predictions/{id}, random ids", "list": "GET /v1/predictions",
             "deep": "GET /v1/predictions?cursor= (half-way down)"}  # fmt: skip
    for key, name in names.items():
        for q in ("p50", "p99"):
            values = [getattr(timed[t][key], f"{q}_ms") for t in counts if t in timed]
            cells = [f"{v:.2f}" for v in values]
            ratio = [f"{values[-1] / values[0]:.2f}×"] if len(values) > 1 else []
            table.add_row(f"{name} {q} ms", *cells, *ratio)
    return table


def machine() -> str:
    cpu = "unknown CPU"
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.node()}: {os.cpu_count()} CPUs ({cpu}), {memory:.0f} GiB"


def commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True,
                              text=True, check=False).stdout.strip()  # fmt: skip

    dirty = " + uncommitted changes" if git("status", "--porcelain", "--", "src") else ""
    return git("rev-parse", "--short", "HEAD") + dirty


def servers() -> str:
    with psycopg.connect(PG_ADMIN) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    with redis.Redis.from_url(REDIS_URL) as client:
        info = client.info("server")
    return f"PostgreSQL {row[0] if row else '?'}, Redis {info['redis_version']}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2 s windows, 1 repeat, 100 GETs")
    parser.add_argument("--seconds", type=float, help="length of each window (default 5)")
    parser.add_argument("--repeats", type=int, help="windows per model and shape (default 3)")
    parser.add_argument("--rows", default="10000,1000000", help="prediction counts for get/list")
    parser.add_argument("-n", type=int, help="timed GETs of each kind (default 1000)")
    args = parser.parse_args()
    seconds = args.seconds or (2.0 if args.quick else 5.0)
    repeats = args.repeats or (1 if args.quick else 3)
    n = args.n or (100 if args.quick else 1000)
    rows = [int(part) for part in args.rows.split(",")]
    started = datetime.datetime.now(datetime.UTC)
    load = os.getloadavg()
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="foretell-bench-cluster-"))
    scripts = tmp / "lua"
    scripts.mkdir()
    models = model_args(tmp)
    shapes: list[Measured] = []
    errors: list[str] = []
    fills: dict[int, pages.Filled] = {}
    timed: dict[int, dict[str, pages.Latency]] = {}
    try:
        try:
            shapes.append(embedded(tmp, models, seconds, repeats, scripts))
        except Exception as exc:
            shapes.append(Measured("embedded", error=failure(exc)))
        with scratch_engines() as database:
            measured, token = cluster(tmp, database, models, seconds, repeats, scripts)
            shapes += measured
            try:
                fills, timed = pages_part(tmp, database, rows, n, token)
            except Exception as exc:
                errors.append(f"get/list: {failure(exc)}")
    except BaseException:
        print(f"logs and data are in {tmp}")
        raise
    errors += [f"{s.shape}: {s.error}" for s in shapes if s.error]
    console = Console(width=200)
    console.print(
        f"{started:%Y-%m-%d %H:%M} UTC; {machine()}; Python {platform.python_version()}, "
        f"{servers()}; commit {commit()}; load average {load[0]:.2f} at start, "
        f"{os.getloadavg()[0]:.2f} at the end"
    )
    console.print(
        f"Throughput: {seconds:g} s windows × {repeats} per model and shape (medians), "
        f"{CLIENTS} wrk connections in all, split over the API nodes; every shape run the "
        "same way, one after another, on this shared machine (PostgreSQL and Redis on it "
        "too); default FORETELL_LEASE_S; sync models (one prediction at a time per process)."
    )
    console.print(throughput_table(shapes))
    for line in ratios(shapes):
        console.print(line)
    for shape in shapes:
        for outcome, times in shape.not_succeeded.most_common():
            console.print(f"  {shape.shape}: {times} × {outcome}")
    if fills:
        console.print(
            f"get/list: one account's predictions in PostgreSQL, written by COPY then "
            f"ANALYZE; {n} timed GETs of each kind after 20 untimed, on one API node."
        )
        console.print(pages_table(fills, timed))
        counts = sorted(timed)
        if len(counts) > 1:
            first, last = timed[counts[0]], timed[counts[-1]]
            parts = [f"{key} {last[key].p99_ms / first[key].p99_ms:.2f}×" for key in first]
            console.print(
                f"p99 at {counts[-1]:,} / at {counts[0]:,} predictions: {', '.join(parts)} "
                "(goal: the same)"
            )
    for error in errors:
        console.print(f"FAILED {error}")
    if errors:
        print(f"logs are in {tmp}")
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
