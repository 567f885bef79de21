"""Scaling benchmark: cold boot time of a small and a large built-in model (the warm
prediction right after as the baseline), and throughput of a CPU-bound model with 1, 2 and
4 instances (1 instance as the baseline), in the same run.

Usage: .venv/bin/python bench/scaling.py [--quick] [--seconds 5] [--repeats 3]

Every server is started from the command line (`foretell serve`), as a user would, in a temp
directory (SQLite, the in-process queue). The machine is shared: compare numbers only within
one run.
"""

from __future__ import annotations

import argparse
import datetime
import os
import pathlib
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable

from cluster import commit, machine
from cluster_shapes import failure
from rich import box
from rich.console import Console
from rich.table import Table
from scaling_cold import COLD_MODELS, IDLE_S, STUCK_S, Boot, ColdResult, measure_cold
from scaling_instances import CLIENTS, SPIN_S, Served, calibrate, measure_instances, write_model


def _med(values: list[float | None], fmt: str) -> str:
    known = [v for v in values if v is not None]
    return format(statistics.median(known), fmt) if known else "—"


def _spread(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    return f"{min(known):.2f}–{max(known):.2f}" if len(known) > 1 else ""


def cold_table(result: ColdResult) -> Table:
    table = Table(box=box.MARKDOWN)
    table.add_column("seconds (median; min–max)")
    for model in COLD_MODELS:
        table.add_column(model, justify="right")
    rows: list[tuple[str, Callable[[Boot], float | None]]] = [
        ("cold: request wall time (Prefer: wait)", lambda b: b.cold_wall_s),
        ("cold: metrics.cold_boot_time", lambda b: b.cold_boot_s),
        ("cold: metrics.predict_time", lambda b: b.cold_predict_s),
        ("cold: wall − cold_boot_time − predict_time", lambda b: b.unexplained_s),
        ("warm right after: request wall time (baseline)", lambda b: b.warm_wall_s),
        ("warm right after: metrics.predict_time", lambda b: b.warm_predict_s),
    ]
    for label, get in rows:
        cells = []
        for model in COLD_MODELS:
            values = [get(boot) for boot in result.boots.get(model, [])]
            spread = _spread(values)
            cells.append(_med(values, ".2f") + (f" ({spread})" if spread else ""))
        table.add_row(label, *cells)
    for label, seen in (("imported", result.first_imported_s), ("ready", result.first_ready_s)):
        table.add_row(
            f"first boot at the server's start: {label} after (its log)",
            *(f"{seen[m]:.1f}" if m in seen else "—" for m in COLD_MODELS),
        )
    table.add_row(
        "first boot: setup() alone (ready − imported)",
        *(f"{result.first_ready_s[m] - result.first_imported_s[m]:.1f}"
          if m in result.first_ready_s and m in result.first_imported_s else "—"
          for m in COLD_MODELS),
    )  # fmt: skip
    table.add_row(
        "cold / warm wall time",
        *(_ratio(result.boots.get(m, [])) for m in COLD_MODELS),
    )
    table.add_row(
        f"times it did not scale to zero again within {IDLE_S + STUCK_S} s (a new server)",
        *(str(result.stuck.get(m, 0)) for m in COLD_MODELS),
    )
    table.add_row(
        'server log "cold boot: an instance started" lines / cold boots',
        *(f"{sum(f'[{m}] cold boot' in line for line in result.boot_lines)} / "
          f"{len(result.boots.get(m, []))}" for m in COLD_MODELS),
    )  # fmt: skip
    return table


def _ratio(boots: list[Boot]) -> str:
    if not boots:
        return "—"
    cold = statistics.median(b.cold_wall_s for b in boots)
    warm = statistics.median(b.warm_wall_s for b in boots)
    return f"{cold / warm:.1f}×"


def instances_table(servers: list[Served]) -> Table:
    table = Table(box=box.MARKDOWN)
    table.add_column(f"measure (Prefer: wait, wrk c={CLIENTS}; medians)")
    for served in servers:
        table.add_column(f"N = {served.count}", justify="right")
    base = servers[0].median("ok_rps") if servers and servers[0].loads else None
    table.add_row("predictions/s", *(f"{s.median('ok_rps'):.1f}" for s in servers))
    table.add_row(
        "ratio to N = 1 (same run)",
        *(f"{s.median('ok_rps') / base:.2f}×" if base else "—" for s in servers),
    )
    table.add_row("latency p50 ms", *(f"{s.median('p50_ms'):.0f}" for s in servers))
    table.add_row("latency p99 ms", *(f"{s.median('p99_ms'):.0f}" for s in servers))
    table.add_row(
        "CPU ms per prediction (server + workers)", *(f"{s.median('cpu_ms'):.1f}" for s in servers)
    )
    table.add_row(
        "cores foretell used (server + workers: CPU s per s)",
        *(f"{s.median('ok_rps') * s.median('cpu_ms') / 1e3:.2f}" for s in servers),
    )
    table.add_row(
        "other CPU use during the window, cores (wrk, the other servers, other users)",
        *(f"{s.median('others_cores'):.2f}" for s in servers),
    )
    table.add_row("non-2xx answers", *(str(sum(w.rejected for w in s.loads)) for s in servers))
    table.add_row("each instance's share of the workers' CPU (a window)", *map(_shares, servers))
    table.add_row(
        "one prediction alone: wall / predict_time ms",
        *(f"{s.alone_ms[0]:.0f} / {s.alone_ms[1]:.0f}" for s in servers),
    )
    return table


def _shares(served: Served) -> str:
    """The median window's per-instance CPU split, in percent: balanced is 100/N each."""
    if not served.loads:
        return "—"
    ordered = sorted(served.loads, key=lambda load: load.ok_rps)
    spent = ordered[len(ordered) // 2].instance_cpu_s
    total = sum(spent) or 1.0
    return " / ".join(f"{100 * s / total:.0f}" for s in spent) + " %"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2 s windows, 1 repeat")
    parser.add_argument("--seconds", type=float, help="length of each wrk window (default 5)")
    parser.add_argument("--repeats", type=int, help="cold boots and windows per N (default 3)")
    args = parser.parse_args()
    seconds = args.seconds or (2.0 if args.quick else 5.0)
    repeats = args.repeats or (1 if args.quick else 3)
    started = datetime.datetime.now(datetime.UTC)
    load = os.getloadavg()
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="foretell-bench-scaling-"))
    scripts = tmp / "lua"
    scripts.mkdir()
    errors: list[str] = []
    try:
        cold = measure_cold(tmp, repeats)
    except Exception as exc:
        cold = ColdResult(error=failure(exc))
        errors.append(f"cold boots: {cold.error}")
    rounds = calibrate()
    servers: list[Served] = []
    try:
        servers = measure_instances(tmp, write_model(tmp, rounds), seconds, repeats, scripts)
    except Exception as exc:
        errors.append(f"instances: {failure(exc)}")
    console = Console(width=150)
    cores = os.cpu_count() or 1
    console.print(f"# foretell scaling benchmark — {started:%Y-%m-%d %H:%M} UTC")
    after = os.getloadavg()
    console.print(
        f"machine: {machine()}; load average before: {load[0]:.2f} {load[1]:.2f}, "
        f"after: {after[0]:.2f} {after[1]:.2f}"
    )
    console.print(f"commit: {commit()}; Python {sys.version.split()[0]}")
    console.print(
        f"Cold boots: `foretell serve {' '.join(COLD_MODELS)} --idle-timeout {IDLE_S}`; "
        f"{repeats} times per model: wait until it has scaled to zero (the server's log line, "
        "then setup.status `idle`), then one `Prefer: wait` prediction of its example input "
        "(hello with delay 0) and the same again at once (warm)."
    )
    if cold.built:
        console.print(f"environments built in this run first: {', '.join(cold.built)}")
    console.print(cold_table(cold))
    for line in cold.boot_lines:
        console.print(f"  server: {line}", markup=False, highlight=False)
    console.print(
        f"Instances: a CPU-bound model ({rounds:,} rounds of pure-Python arithmetic, "
        f"{SPIN_S * 1e3:.0f} ms of CPU when calibrated in the bench's process), one "
        "`foretell serve --min-instances N --max-instances N` per N, all running at once on "
        f"their own ports and loaded in turn: a 1 s warm-up, then {repeats} rounds of a "
        f"{seconds:g} s window per N."
    )
    if servers:
        console.print(instances_table(servers))
    console.print(
        f"This machine has {cores} core(s), shared by the server, its instances, wrk and "
        f"whatever else runs on it: throughput cannot exceed about {cores}× one instance's, "
        f"so with N > {cores} the instances take turns on the cores and N = 4 is no more "
        "capacity than N = 2: what it can show is the cost of the extra instances (context "
        "switches, memory) and, when other processes are busy, a larger share of the cores "
        "(the kernel shares CPU per runnable process, so 4 busy workers get more of it than 2). "
        "Read the ratio against the 'cores foretell used' row. On a machine with ≥ N free "
        "cores the ratio would approach N."
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
