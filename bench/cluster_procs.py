"""The processes bench/cluster.py measures: `foretell serve` (embedded, or an API node of a
cluster) and `foretell worker`, started from the command line as a user would, on a scratch
PostgreSQL database, a scratch Redis database number and a shared temp directory."""

from __future__ import annotations

import contextlib
import os
import pathlib
import re
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import psycopg
import redis
from http_servers import NOOP, Target, free_port

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
#: the Redis database number this benchmark owns (flushed before and after a run)
REDIS_URL = "redis://127.0.0.1:6379/12"
FORETELL = str(pathlib.Path(sys.executable).with_name("foretell"))
#: the models every shape hosts: a no-op, and one that sleeps 100 ms (the bottleneck)
NOOP_MODEL, SLEEP_MODEL = "bench/noop", "bench/sleep100"
SLEEP_PREDICTOR = '''"""Sleeps 100 ms: a model that is the bottleneck (bench/cluster.py)."""

import time

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(self, text: str = Input(default="x")) -> str:
        time.sleep(0.1)
        return text
'''


def model_args(tmp: pathlib.Path) -> list[str]:
    """`OWNER/NAME=PATH` of both models (the 100 ms one written under `tmp`)."""
    sleep = tmp / "models" / "sleep100"
    sleep.mkdir(parents=True, exist_ok=True)
    (sleep / "predict.py").write_text(SLEEP_PREDICTOR)
    (sleep / "cog.yaml").write_text('predict: "predict.py:Predictor"\n')
    return [f"{NOOP_MODEL}={NOOP / 'sync'}", f"{SLEEP_MODEL}={sleep}"]


@contextlib.contextmanager
def scratch_engines() -> Iterator[str]:
    """A fresh PostgreSQL database (its URL) and a flushed Redis database, both cleaned up."""
    name = f"foretell_bench_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE template0")
    flush_redis()
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        flush_redis()
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def flush_redis() -> None:
    with redis.Redis.from_url(REDIS_URL) as client:
        client.flushdb()


@dataclass
class Proc:
    """A foretell process; its output is kept (and logged) by a thread, and waited on."""

    name: str
    process: subprocess.Popen[str]
    log: pathlib.Path
    lines: list[str] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)
    ended: bool = False

    def __post_init__(self) -> None:
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.log.open("w") as log:
            for line in self.process.stdout:
                log.write(line)
                log.flush()
                with self.changed:
                    self.lines.append(line)
                    self.changed.notify_all()
        with self.changed:
            self.ended = True  # the output ended: the process is gone
            self.changed.notify_all()

    def wait_for(self, pattern: str, timeout: float = 120) -> re.Match[str]:
        """The first output line matching `pattern`, once it is printed."""
        deadline = time.monotonic() + timeout
        seen = 0
        with self.changed:
            while True:
                for line in self.lines[seen:]:
                    if found := re.search(pattern, line):
                        return found
                    if "can't be served" in line or "setup_failed" in line:
                        raise RuntimeError(f"{self.name}: {line.strip()} (see {self.log})")
                seen = len(self.lines)
                if self.ended:
                    raise RuntimeError(f"{self.name} exited (see {self.log})")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"{self.name}: no {pattern!r} in {timeout} s ({self.log})")
                self.changed.wait(left)

    def count(self, text: str) -> int:
        """Output lines so far that contain `text`."""
        with self.changed:
            return sum(text in line for line in self.lines)

    def target(self) -> Target:
        """For Target.cpu_s / stop: the process tree (its model workers included)."""
        return Target(self.name, self.process, "")  # type: ignore[arg-type]  # a text pipe

    def stop(self) -> None:
        self.target().stop()


def _spawn(name: str, args: list[str], logs: pathlib.Path) -> Proc:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("FORETELL_LEASE_S", None)  # the default lease, as in production
    process = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    return Proc(name, process, logs / f"{name}.log")


@dataclass
class ApiNode:
    """A `foretell serve` answering HTTP (and, embedded, running the models)."""

    proc: Proc
    base: str
    token: str

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def start_serve(name: str, tmp: pathlib.Path, args: list[str], token: str | None = None) -> ApiNode:
    """`foretell serve ARGS` on a free port, once it serves; the first token it prints."""
    port = free_port()
    command = [FORETELL, "serve", *args, "--data-dir", str(tmp / name),
               "--port", str(port), "--host", "127.0.0.1"]  # fmt: skip
    proc = _spawn(name, command, tmp)
    try:
        proc.wait_for(r"foretell is serving", 120)
        with proc.changed:
            printed = [m for line in proc.lines if (m := re.search(r"(r8_\S+)", line))]
        token = printed[0].group(1) if printed else token
        if token is None:
            raise RuntimeError(f"{name} printed no token (see {proc.log})")
        return ApiNode(proc, f"http://127.0.0.1:{port}", token)
    except BaseException:
        proc.stop()
        raise


def start_worker(name: str, tmp: pathlib.Path, args: list[str], models: list[str]) -> Proc:
    """`foretell worker MODELS ARGS`, once every model it hosts is ready."""
    command = [FORETELL, "worker", *models, *args]
    proc = _spawn(name, command, tmp)
    try:
        proc.wait_for(r"foretell worker \S+ hosts", 120)
        wait_models_ready(proc, models)
        return proc
    except BaseException:
        proc.stop()
        raise


def wait_models_ready(proc: Proc, models: list[str]) -> None:
    """Until the process says each model is ready (setup() has run)."""
    for model in models:
        proc.wait_for(rf"{re.escape(model.split('=')[0])} is ready", 180)


def wait_listed(node: ApiNode, names: list[str], timeout: float = 60) -> None:
    """Until the API node lists each model as published and ready (a worker's is seen by
    an API node through the shared database)."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=node.base, headers=node.headers(), timeout=10) as client:
        for name in names:
            while True:
                body = client.get(f"/v1/models/{name}").json()
                setup = body.get("setup") or {}
                if body.get("latest_version") and setup.get("status") == "ready":
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{node.proc.name} does not list {name} ready: {body}")
                time.sleep(0.1)  # polling an HTTP API: there is no event to wait on
