"""Throughput of each shape (bench/cluster.py): `Prefer: wait` creates with wrk, spread over
the shape's API nodes, the same windows for every shape."""

from __future__ import annotations

import collections
import concurrent.futures
import pathlib
import sqlite3
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson
import psycopg
from cluster_procs import (
    NOOP_MODEL,
    REDIS_URL,
    SLEEP_MODEL,
    ApiNode,
    Proc,
    start_serve,
    start_worker,
    wait_listed,
    wait_models_ready,
)
from http_load import Window, wrk
from http_servers import Target

MODELS = (NOOP_MODEL, SLEEP_MODEL)
#: concurrent clients in all, split evenly over the API nodes
CLIENTS = 8


@dataclass
class Load:
    """One window over every API node of a shape."""

    ok_rps: float
    rejected: int  # non-2xx answers
    p50_ms: float  # the slower node's
    p99_ms: float  # the slower node's
    cpu_ms: float  # CPU of every foretell process of the shape per OK answer


@dataclass
class Measured:
    """What one shape gave, per model; `not_succeeded`: predictions it stored that did not
    succeed (a 2xx answer with a failed prediction counts here)."""

    shape: str
    loads: dict[str, list[Load]] = field(default_factory=dict)
    not_succeeded: collections.Counter[str] = field(default_factory=collections.Counter)
    error: str | None = None
    #: one client (wrk c=1) on the first API node, no-op model: the latency of one prediction
    single: list[Load] = field(default_factory=list)
    #: workers' "lease lost" lines while it was measured (a prediction ended elsewhere)
    lease_lost: int = 0

    def median(self, model: str, get: Callable[[Load], float]) -> float | None:
        values = [get(load) for load in self.loads.get(model, [])]
        return statistics.median(values) if values else None


def _target(node: ApiNode, model: str) -> Target:
    headers = {**node.headers(), "Prefer": "wait"}
    url = f"{node.base}/v1/models/{model}/predictions"
    return Target(node.proc.name, node.proc.process, url, headers)  # type: ignore[arg-type]


def window(
    apis: list[ApiNode],
    procs: list[Proc],
    model: str,
    seconds: float,
    scripts: pathlib.Path,
    clients: int = CLIENTS,
) -> Load:
    """wrk on every API node at once (`clients` / nodes connections each)."""
    each = max(1, clients // len(apis))
    before = sum(proc.target().cpu_s() for proc in procs)
    with concurrent.futures.ThreadPoolExecutor(len(apis)) as pool:
        runs = [pool.submit(wrk, _target(node, model), each, seconds, scripts) for node in apis]
        windows: list[Window] = [run.result() for run in runs]
    cpu = sum(proc.target().cpu_s() for proc in procs) - before
    ok = sum(w.ok for w in windows)
    return Load(
        sum(w.ok_rps for w in windows),
        round(sum(w.rejected_rps for w in windows) * max(1.0, seconds)),
        max(w.p50_ms for w in windows), max(w.p99_ms for w in windows),
        cpu * 1e3 / max(ok, 1),
    )  # fmt: skip


def measure(
    measured: Measured,
    apis: list[ApiNode],
    procs: list[Proc],
    seconds: float,
    repeats: int,
    scripts: pathlib.Path,
) -> None:
    """A 1 s warm-up per model, then `repeats` rounds: a window of each model, and one
    client alone (no-op)."""
    for model in MODELS:
        window(apis, procs, model, 1, scripts)
    for _ in range(repeats):
        for model in MODELS:
            load = window(apis, procs, model, seconds, scripts)
            measured.loads.setdefault(model, []).append(load)
        measured.single.append(window(apis[:1], procs, NOOP_MODEL, seconds, scripts, 1))
    print(f"{measured.shape}: measured", flush=True)


def _outcomes(rows: list[tuple[str, bytes]]) -> collections.Counter[str]:
    """Predictions that did not succeed, by status and error."""
    counts: collections.Counter[str] = collections.Counter()
    for status, data in rows:
        error = orjson.loads(data).get("error") or ""
        counts[f"{status}: {error[:100]}" if error else status] += 1
    return counts


_OPEN = "SELECT count(*) FROM predictions WHERE status IN ('starting', 'processing')"


def sqlite_open(db: pathlib.Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        return int(conn.execute(_OPEN).fetchone()[0])


def pg_open(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(_OPEN).fetchone()
    return int(row[0]) if row else 0


def settle(unfinished: Callable[[], int], timeout: float = 60) -> None:
    """Until what the last window's clients left behind (wrk stops mid-request) has ended."""
    deadline = time.monotonic() + timeout
    while unfinished() and time.monotonic() < deadline:
        time.sleep(0.05)  # polling a database: there is no event to wait on


def sqlite_outcomes(db: pathlib.Path) -> collections.Counter[str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        sql = "SELECT status, data FROM predictions WHERE status != 'succeeded'"
        return _outcomes(conn.execute(sql).fetchall())


def pg_outcomes(url: str) -> collections.Counter[str]:
    with psycopg.connect(url) as conn:
        sql = "SELECT status, data FROM predictions WHERE status != 'succeeded'"
        return _outcomes(conn.execute(sql).fetchall())


def embedded(
    tmp: pathlib.Path, models: list[str], seconds: float, repeats: int, scripts: pathlib.Path
) -> Measured:
    """`foretell serve MODELS` alone: SQLite, the in-process queue and bus."""
    measured = Measured("embedded")
    db = tmp / "embedded" / "foretell.db"
    node = start_serve("embedded", tmp, models)
    try:
        wait_models_ready(node.proc, models)
        wait_listed(node, list(MODELS))
        measure(measured, [node], [node.proc], seconds, repeats, scripts)
        settle(lambda: sqlite_open(db))
    finally:
        node.proc.stop()
    measured.not_succeeded = sqlite_outcomes(db)
    return measured


def cluster(
    tmp: pathlib.Path,
    database: str,
    models: list[str],
    seconds: float,
    repeats: int,
    scripts: pathlib.Path,
) -> tuple[list[Measured], str | None]:
    """1 API + 1 worker, then a second worker, then a second API node: each measured; and
    the token the first API node printed (the cluster's first)."""
    engines = ["--database", database, "--queue", REDIS_URL,
               "--files", f"file://{tmp / 'shared-files'}"]  # fmt: skip
    shapes = [Measured("1 API + 1 worker"), Measured("1 API + 2 workers"),
              Measured("2 API + 2 workers")]  # fmt: skip
    apis: list[ApiNode] = []
    workers: list[Proc] = []
    current = 0
    try:
        apis.append(start_serve("api-0", tmp, engines))
        public = ["--public-url", apis[0].base]
        for current, shape in enumerate(shapes):
            if current < 2:
                workers.append(start_worker(f"worker-{current}", tmp, engines + public, models))
            else:
                apis.append(start_serve("api-1", tmp, engines, apis[0].token))
            for node in apis:
                wait_listed(node, list(MODELS))
            before, lost = pg_outcomes(database), _lease_lost(workers)
            procs = [node.proc for node in apis] + workers
            try:
                measure(shape, apis, procs, seconds, repeats, scripts)
            finally:
                settle(lambda: pg_open(database))
                shape.not_succeeded = pg_outcomes(database) - before
                shape.lease_lost = _lease_lost(workers) - lost
    except Exception as exc:  # the shapes not measured say why; the rest of the run goes on
        for shape in shapes[current:]:
            shape.error = shape.error or failure(exc)
    finally:
        for proc in workers + [node.proc for node in apis]:
            proc.stop()
    return shapes, apis[0].token if apis else None


def _lease_lost(workers: list[Proc]) -> int:
    return sum(worker.count("lease lost") for worker in workers)


def failure(exc: BaseException) -> str:
    """An exception in one line, for a table cell."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:160]
