"""A real webhook receiver process on 127.0.0.1 (tests/webhook_receiver.py), for tests."""

from __future__ import annotations

import json
import pathlib
import socket
import subprocess
import sys
import time
from typing import Any

SCRIPT = pathlib.Path(__file__).parent / "webhook_receiver.py"


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Receiver:
    """Logs every request it gets to `log`; `start()` returns once it accepts connections."""

    def __init__(self, log: pathlib.Path, port: int) -> None:
        self.log, self.port = log, port
        self.url = f"http://127.0.0.1:{port}/hook"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Receiver:
        self.process = subprocess.Popen(
            [sys.executable, str(SCRIPT), str(self.port), str(self.log)]
        )
        deadline = time.monotonic() + 10
        while not _accepts(self.port):  # waiting on the port, not on a guess
            assert self.process.poll() is None, "the receiver exited"
            assert time.monotonic() < deadline, "the receiver did not start"
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()

    def requests(self) -> list[dict[str, Any]]:
        """Every request so far: {"headers": {...}, "body": "..."}."""
        if not self.log.exists():
            return []
        # only whole lines: the receiver may be writing the last one as this reads
        lines = self.log.read_text().split("\n")[:-1]
        return [json.loads(line) for line in lines if line]

    def wait_for(self, count: int, timeout: float = 20) -> list[dict[str, Any]]:
        """The requests once there are `count` of them (or all there are after `timeout`)."""
        deadline = time.monotonic() + timeout
        while len(self.requests()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.requests()

    def bodies(self) -> list[dict[str, Any]]:
        """The predictions it was sent."""
        return [json.loads(request["body"]) for request in self.requests()]

    def completed(self, prediction_id: str, timeout: float = 30) -> dict[str, Any]:
        """The first webhook of `prediction_id` with a finished status."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for body in self.bodies():
                if body["id"] == prediction_id and body["status"] in ("succeeded", "failed"):
                    return body
            time.sleep(0.05)
        raise AssertionError(f"no completed webhook for {prediction_id}: {self.bodies()}")
