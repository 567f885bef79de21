"""A real cluster on 127.0.0.1 for tests: API nodes (`foretell serve`) and `foretell worker`s
as separate processes over one PostgreSQL database, one Redis database and one shared
directory. Nothing is faked: the servers are the machine's own PostgreSQL and Redis."""

from __future__ import annotations

import os
import pathlib
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import psycopg
import pytest
import redis

from tests.server import Server, fixture_model, start_server

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
#: the Redis database the cluster tests use (flushed before and after each)
REDIS_URL = "redis://127.0.0.1:6379/9"
#: short leases, so a killed worker's work is taken over (or failed) in seconds
LEASE_S = "3"


@dataclass
class Worker:
    """A running `foretell worker`."""

    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self._close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close()

    def _close(self) -> None:
        if self.reader is not None:
            self.reader.join(timeout=10)
        if self.process.stdout is not None and not (self.reader and self.reader.is_alive()):
            self.process.stdout.close()


def create_database() -> str:
    """A fresh PostgreSQL database's URL."""
    name = f"foretell_cluster_{secrets.token_hex(5)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE template0")
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def flush_redis() -> None:
    with redis.Redis.from_url(REDIS_URL) as client:
        client.flushdb()


@dataclass
class Cluster:
    """The engines of one test's cluster, and the processes started on them."""

    root: pathlib.Path
    database: str
    queue: str = REDIS_URL
    apis: list[Server] = field(default_factory=list)
    workers: list[Worker] = field(default_factory=list)
    #: the FileStore's URL; None: a directory of the test's (every process here mounts it)
    files_url: str | None = None
    #: more environment for every process (an object store's credentials)
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def files(self) -> str:
        return self.files_url or f"file://{self.root / 'shared-files'}"

    def engine_args(self) -> list[str]:
        return ["--database", self.database, "--queue", self.queue, "--files", self.files]

    def env(self) -> dict[str, str]:
        return {"FORETELL_LEASE_S": LEASE_S, **self.extra_env}

    def start_api(self, *models: str, database: str | None = None) -> Server:
        """An API node (hosting `models` too, if given); the first one prints the token."""
        token = self.apis[0].token if self.apis else None
        args = [*self.engine_args(), "--allow-private-urls"]
        if database is not None:
            args[1] = database
        server = start_server(
            self.root / f"api-{len(self.apis)}", list(models), *args,
            token=token, wait_models=False, env=self.env(),
        )  # fmt: skip
        self.apis.append(server)
        return server

    def start_worker(self, *models: str) -> Worker:
        """A `foretell worker` hosting `models` (options may follow them), once it says it
        runs."""
        args = [
            sys.executable, "-m", "foretell", "worker", *models, *self.engine_args(),
            "--allow-private-urls",
            "--public-url", self.apis[0].url if self.apis else "http://127.0.0.1:5000",
        ]  # fmt: skip
        process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "NO_COLOR": "1", **self.env()},
        )  # fmt: skip
        assert process.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while not any(re.match(r"foretell worker \S+ hosts", line) for line in lines):
            line = process.stdout.readline()
            if not line or time.monotonic() > deadline:
                process.kill()
                process.wait()
                process.stdout.close()
                raise RuntimeError("foretell worker did not start:\n" + "".join(lines))
            lines.append(line)
        reader = threading.Thread(target=lambda: lines.extend(process.stdout or ()), daemon=True)
        reader.start()
        worker = Worker(process, lines, reader)
        self.workers.append(worker)
        return worker

    def model(self, fixture: str) -> str:
        """`OWNER/NAME=PATH` of a fixture predictor, for start_worker/start_api."""
        path = fixture_model(self.root, fixture)
        return f"test/{fixture}={path}"

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        for api in self.apis:
            api.stop()


def wait_for_model(server: Server, name: str, timeout: float = 60) -> None:
    """Until the API node lists `name` described (a worker published its schema)."""
    deadline = time.monotonic() + timeout
    with server.client() as client:
        while time.monotonic() < deadline:
            response = client.get(f"/v1/models/{name}")
            if response.status_code == 200 and response.json()["latest_version"]:
                version = response.json()["latest_version"]
                if version.get("openapi_schema"):
                    return
            time.sleep(0.05)
    raise RuntimeError(f"{name} was not published in {timeout} s")


def wait_status(
    client: httpx.Client, prediction_id: str, statuses: tuple[str, ...], timeout: float = 60
) -> dict[str, object]:
    """Poll until the prediction is in one of `statuses`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, object] = client.get(f"/v1/predictions/{prediction_id}").json()
        if body["status"] in statuses:
            return body
        time.sleep(0.05)
    raise TimeoutError(f"{prediction_id} not {statuses} after {timeout} s")


@pytest.fixture
def cluster(tmp_path: pathlib.Path) -> Iterator[Cluster]:
    """A cluster of the test's own: a fresh PostgreSQL database and a flushed Redis database
    (import it into a test module to use it there)."""
    flush_redis()
    database = create_database()
    made = Cluster(tmp_path, database)
    try:
        yield made
    finally:
        made.stop()
        drop_database(database)
        flush_redis()
