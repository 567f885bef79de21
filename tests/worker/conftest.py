"""A worker process driven over its raw sockets, without the runner."""

from __future__ import annotations

import os
import pathlib
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from foretell.core.events import Message, Predict, Setup
from foretell.worker.wire import FrameDecoder, encode

PREDICTORS = pathlib.Path(__file__).parents[1] / "fixtures" / "predictors"


class Worker:
    """`python -m foretell.worker` on two socketpairs; send commands, read its messages."""

    def __init__(
        self,
        fixture: str,
        scratch: pathlib.Path,
        *,
        mode: str = "predict",
        env: dict[str, str] | None = None,
    ) -> None:
        """`fixture` is a ref in tests/fixtures/predictors ("sleep", or "file.py:Name")."""
        self.data, worker_data = socket.socketpair()
        ref = fixture if ".py" in fixture else f"{fixture}.py"
        self.control, worker_control = socket.socketpair()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "foretell.worker",
                "--root",
                str(PREDICTORS),
                "--ref",
                ref,
                "--fd",
                str(worker_data.fileno()),
                "--control-fd",
                str(worker_control.fileno()),
                "--scratch",
                str(scratch),
                "--mode",
                mode,
            ],
            pass_fds=(worker_data.fileno(), worker_control.fileno()),
            stdout=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
        )
        worker_data.close()
        worker_control.close()
        self._decoder = FrameDecoder()
        self._received: list[Message] = []

    def send(self, message: Message) -> None:
        """A command on the data socket."""
        self.data.sendall(encode(message))

    def cancel(self, message: Message) -> None:
        """A command on the control socket."""
        self.control.sendall(encode(message))

    def read_until(self, done: Callable[[Message], bool], timeout: float = 10.0) -> list[Message]:
        """Messages up to and including the first for which `done` is true."""
        deadline = time.monotonic() + timeout
        taken: list[Message] = []
        while True:
            while self._received:
                message = self._received.pop(0)
                taken.append(message)
                if done(message):
                    return taken
            self.data.settimeout(max(0.01, deadline - time.monotonic()))
            data = self.data.recv(1 << 16)  # raises TimeoutError past the deadline
            if not data:
                raise EOFError(f"the worker closed its socket after {taken}")
            self._received += self._decoder.feed(data)

    def predict(self, prediction_id: str, tmp: pathlib.Path, **inputs: object) -> None:
        """Send a Predict with its own output directory."""
        self.send(Predict(prediction_id, dict(inputs), str(tmp / prediction_id)))

    def close(self) -> None:
        """End the process: closing both sockets tells it the runner is gone."""
        self.data.close()
        self.control.close()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def worker(tmp_path: pathlib.Path) -> Iterator[Callable[[str], Worker]]:
    """Start a worker for a fixture predictor, set up; closed after the test."""
    started: list[Worker] = []

    def start(fixture: str, *, setup: bool = True, **options: Any) -> Worker:
        process = Worker(fixture, tmp_path / "scratch", **options)
        started.append(process)
        if setup:
            process.read_until(lambda m: type(m).__name__ == "Described")
            process.send(Setup())
            process.read_until(lambda m: type(m).__name__ == "SetupDone")
        return process

    yield start
    for process in started:
        process.close()
