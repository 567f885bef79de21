"""Instances for bench/scaling.py: a CPU-bound model (pure-Python arithmetic, about 50 ms a
prediction, written at run time) in one `foretell serve --min-instances N --max-instances N`
per N, all started at once on their own ports and loaded with wrk in turn, the same way."""

from __future__ import annotations

import pathlib
import re
import statistics
import time
from dataclasses import dataclass, field

import httpx
from cluster_procs import ApiNode, start_serve, wait_listed
from http_load import wrk
from http_servers import TICK, Target
from scaling_cold import predict

SPIN_MODEL = "bench/spin"
COUNTS = (1, 2, 4)
#: wrk connections for every N: at least 2 × the largest N, the same load for each
CLIENTS = 8
#: the CPU time one prediction should take
SPIN_S = 0.05

SPIN_PREDICTOR = '''"""Pure-Python arithmetic, a fixed amount of it: a CPU-bound model (bench/scaling.py)."""

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(self, rounds: int = Input(default={rounds}, ge=1)) -> int:
        total = 0
        for i in range(rounds):
            total = (total + i * i) % 1_000_003
        return total
'''


def spin(rounds: int) -> int:
    """The model's loop, for calibrating it here."""
    total = 0
    for i in range(rounds):
        total = (total + i * i) % 1_000_003
    return total


def calibrate(seconds: float = SPIN_S) -> int:
    """Rounds that take `seconds` of CPU in this Python (the best of 5, so a busy moment of
    the shared machine doesn't shrink the work)."""
    rounds = 400_000
    best = min(_cpu_of(rounds) for _ in range(7))
    return max(1, round(rounds * seconds / best))


def _cpu_of(rounds: int) -> float:
    started = time.process_time()
    spin(rounds)
    return time.process_time() - started


def write_model(tmp: pathlib.Path, rounds: int) -> str:
    """`OWNER/NAME=PATH` of the spin model, written under `tmp`."""
    folder = tmp / "models" / "spin"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "predict.py").write_text(SPIN_PREDICTOR.replace("{rounds}", str(rounds)))
    (folder / "cog.yaml").write_text('predict: "predict.py:Predictor"\n')
    return f"{SPIN_MODEL}={folder}"


@dataclass
class Load:
    """One wrk window against one server."""

    ok_rps: float
    p50_ms: float
    p99_ms: float
    rejected: int
    cpu_ms: float  # CPU of the server and its workers per OK answer
    #: CPU seconds of each instance (worker process) during the window, busiest first
    instance_cpu_s: list[float]
    #: cores' worth of CPU that everything else on the machine used during the window
    #: (wrk, other servers, other users of this shared machine)
    others_cores: float


@dataclass
class Served:
    count: int
    node: ApiNode
    loads: list[Load] = field(default_factory=list)
    #: one prediction with nothing else running: (wall ms, predict_time ms), medians of 5
    alone_ms: tuple[float, float] = (0.0, 0.0)

    def median(self, name: str) -> float:
        return float(statistics.median(getattr(load, name) for load in self.loads))


def start(tmp: pathlib.Path, model: str, count: int) -> Served:
    """`foretell serve MODEL --min-instances N --max-instances N`, with N instances up."""
    args = [model, "--min-instances", str(count), "--max-instances", str(count)]
    node = start_serve(f"instances-{count}", tmp, args)
    try:
        node.proc.wait_for(rf"{re.escape(SPIN_MODEL)} is ready", 120)
        if count > 1:
            node.proc.wait_for(rf"scaled up to {count} instance\(s\)", 120)
        wait_listed(node, [SPIN_MODEL])
        workers = _workers(node)
        if len(workers) != count:
            raise RuntimeError(f"{node.proc.name}: {len(workers)} worker processes, not {count}")
        return Served(count, node, alone_ms=_alone(node))
    except BaseException:
        node.proc.stop()
        raise


def _alone(node: ApiNode) -> tuple[float, float]:
    walls, predicts = [], []
    with httpx.Client(base_url=node.base, headers=node.headers(), timeout=60) as client:
        for _ in range(5):
            wall, prediction = predict(client, SPIN_MODEL, {})
            walls.append(wall * 1e3)
            predicts.append(float(prediction["metrics"]["predict_time"]) * 1e3)
    return statistics.median(walls), statistics.median(predicts)


def _workers(node: ApiNode) -> list[int]:
    """The model's worker processes: the server's `python -m foretell.worker` children."""
    pids = []
    for pid in node.proc.target().tree():
        try:
            command = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:
            continue
        if b"foretell.worker" in command:
            pids.append(pid)
    return pids


def machine_cpu_s() -> float:
    """CPU seconds every core of the machine has been busy (/proc/stat: all but idle and
    iowait)."""
    fields = [int(v) for v in pathlib.Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICK


def _cpu_s(pid: int) -> float:
    try:
        fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def window(served: Served, seconds: float, scripts: pathlib.Path) -> Load:
    node = served.node
    headers = {**node.headers(), "Prefer": "wait"}
    url = f"{node.base}/v1/models/{SPIN_MODEL}/predictions"
    target = Target(node.proc.name, node.proc.process, url, headers, '{"input": {}}')  # type: ignore[arg-type]
    workers = _workers(node)
    before = {pid: _cpu_s(pid) for pid in workers}
    busy, started = machine_cpu_s(), time.monotonic()
    measured = wrk(target, CLIENTS, seconds, scripts)
    busy, took = machine_cpu_s() - busy, time.monotonic() - started
    spent = sorted((_cpu_s(pid) - before[pid] for pid in workers), reverse=True)
    ours = measured.cpu_ms_per_ok * measured.ok / 1e3  # the server and its workers
    return Load(
        measured.ok_rps, measured.p50_ms, measured.p99_ms,
        round(measured.rejected_rps * max(1.0, seconds)), measured.cpu_ms_per_ok, spent,
        max(0.0, busy - ours) / took,
    )  # fmt: skip


def measure_instances(
    tmp: pathlib.Path, model: str, seconds: float, repeats: int, scripts: pathlib.Path
) -> list[Served]:
    """Every N's server at once; a 1 s warm-up each, then `repeats` rounds of one window
    per N in turn (so each N sees the same moments of this shared machine)."""
    servers: list[Served] = []
    try:
        for count in COUNTS:
            servers.append(start(tmp, model, count))
        for served in servers:
            window(served, 1, scripts)
        for repeat in range(repeats):
            for served in servers:
                load = window(served, seconds, scripts)
                served.loads.append(load)
                print(f"instances {repeat + 1}/{repeats} N={served.count}: {load.ok_rps:.1f}/s")
    finally:
        for served in servers:
            served.node.proc.stop()
    return servers
