"""A real S3-compatible server for tests: moto's standalone server, a subprocess on
127.0.0.1 with a free port.

`s3_server` is a session fixture: one server for the whole run, however many test modules
import it (each import is a fixture of its own to pytest, so the server behind them is
shared and stops with the last). `S3Server.files_url()` names a fresh prefix of the test
bucket, so tests never see each other's files; `credentials()` is the environment the S3
engine reads (moto accepts any keys).
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

HOST = "127.0.0.1"
BUCKET = "foretell-tests"
REGION = "us-east-1"
#: how long the server may take to start (Python importing moto: about a second)
START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class S3Server:
    """A running moto server and the bucket made on it."""

    port: int
    bucket: str = BUCKET

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}"

    def files_url(self, prefix: str | None = None) -> str:
        """An `s3://` URL for the engine: under `prefix`, or a new random one."""
        prefix = prefix or f"t-{uuid.uuid4().hex}"
        return f"s3://{self.bucket}/{prefix}?endpoint={self.endpoint}&region={REGION}"

    def credentials(self) -> dict[str, str]:
        """The environment S3Files (and a server started with it) needs for this server."""
        return {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_it_answers(process: subprocess.Popen[bytes], port: int) -> None:
    """Poll the port until the server accepts connections (it dying, or the timeout, fails
    loudly: a test that needs this server never skips)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto's S3 server exited with {process.returncode} at start")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            # nothing to wait on but the port itself: poll it, briefly apart
            time.sleep(0.02)
    raise RuntimeError(f"moto's S3 server did not answer on {HOST}:{port} in {START_TIMEOUT_S}s")


@contextlib.contextmanager
def running_s3_server() -> Iterator[S3Server]:
    """Start moto's server with the test bucket; stop it on leaving."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_it_answers(process, port)
        server = S3Server(port)
        response = httpx.put(f"{server.endpoint}/{server.bucket}", timeout=10)
        response.raise_for_status()
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class _Shared:
    """One server for every fixture that asks, stopped when the last lets go of it."""

    def __init__(self) -> None:
        self.users = 0
        self.stack: contextlib.ExitStack | None = None
        self.server: S3Server | None = None

    @contextlib.contextmanager
    def use(self) -> Iterator[S3Server]:
        if self.server is None:
            self.stack = contextlib.ExitStack()
            self.server = self.stack.enter_context(running_s3_server())
        self.users += 1
        try:
            yield self.server
        finally:
            self.users -= 1
            if self.users == 0 and self.stack is not None:
                self.server, stack, self.stack = None, self.stack, None
                stack.close()


_SHARED = _Shared()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server on 127.0.0.1 with the test bucket, once per test session."""
    with _SHARED.use() as server:
        yield server
