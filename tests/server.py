"""A real `foretell serve` process on 127.0.0.1 for API and client tests."""

from __future__ import annotations

import contextlib
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from replicate.client import Client as OfficialClient

ROOT = pathlib.Path(__file__).parent
PREDICTORS = ROOT / "fixtures" / "predictors"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fixture_model(tmp: pathlib.Path, fixture: str, cog_yaml: str = "") -> pathlib.Path:
    """A model directory holding one fixture predictor."""
    model = tmp / "models" / fixture
    model.mkdir(parents=True, exist_ok=True)
    (model / "predict.py").write_text((PREDICTORS / f"{fixture}.py").read_text())
    (model / "cog.yaml").write_text(cog_yaml or 'predict: "predict.py"\n')
    return model


@dataclass
class Server:
    """A running server: its URL, first token and process."""

    url: str
    token: str
    process: subprocess.Popen[str]
    data_dir: pathlib.Path
    args: list[str]
    output: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None  # drains the process's output into `output`

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=70)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self._close_output()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_output()

    def _close_output(self) -> None:
        """Close the output pipe once the reader has read it to its end (left open, it is a
        ResourceWarning, which fails the test)."""
        if self.reader is not None:
            self.reader.join(timeout=10)
        if self.process.stdout is not None and not (self.reader and self.reader.is_alive()):
            self.process.stdout.close()


@contextlib.contextmanager
def official_client(server: Server) -> Iterator[OfficialClient]:
    """The official `replicate` client (sync calls) against `server`. It has no close() of its
    own, so it gets a transport this closes after (its open sockets are ResourceWarnings)."""
    transport = httpx.HTTPTransport()
    try:
        yield OfficialClient(api_token=server.token, base_url=server.url, transport=transport)
    finally:
        transport.close()


def start_server(
    data_dir: pathlib.Path,
    models: list[str],
    *extra: str,
    token: str | None = None,
    wait_models: bool = True,
    env: dict[str, str] | None = None,
) -> Server:
    """Start `foretell serve` and wait until it answers; reads the first token it prints.

    With `wait_models`, also until every model is loaded (or failed): models come up in the
    background, and most tests want to read schemas right away.
    """
    port = free_port()
    args = [
        sys.executable, "-m", "foretell", "serve", *models,
        "--port", str(port), "--data-dir", str(data_dir), *extra,
    ]  # fmt: skip
    process = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
    )  # fmt: skip
    try:
        server = _started(process, port, data_dir, args, token)
        if wait_models:
            wait_for_models(server)
    except BaseException:
        process.kill()  # a fixture that fails here never gets to stop it
        process.wait()
        if process.stdout is not None:
            process.stdout.close()
        raise
    return server


def _started(
    process: subprocess.Popen[str],
    port: int,
    data_dir: pathlib.Path,
    args: list[str],
    token: str | None,
) -> Server:
    """Read the start-up lines (and the first token) until the server answers."""
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while "foretell is serving" not in "".join(lines[-1:]):
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("foretell serve exited:\n" + "".join(lines))
        if time.monotonic() > deadline:
            raise RuntimeError("foretell serve did not start in 60 s:\n" + "".join(lines))
        lines.append(line)
        match = re.search(r"(r8_\S+)", line)
        if match:
            token = match.group(1)
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            httpx.get(url + "/v1/hardware", timeout=1)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("foretell serve does not answer:\n" + "".join(lines)) from None
            time.sleep(0.05)
    if token is None:
        raise RuntimeError("no token printed:\n" + "".join(lines))
    # Keep reading what it prints: a full pipe would block the server.
    reader = threading.Thread(target=lambda: lines.extend(process.stdout or ()), daemon=True)
    reader.start()
    return Server(url, token, process, data_dir, args, lines, reader)


def wait_for_models(server: Server, timeout: float = 60) -> None:
    """Wait until the models API shows every model described or failed."""
    deadline = time.monotonic() + timeout
    with server.client() as client:
        while time.monotonic() < deadline:
            models = client.get("/v1/models").json()["results"]
            hosted = [m for m in models if m["latest_version"] is not None]  # not bare stored
            if all(
                m["latest_version"]["openapi_schema"] or m["setup"]["status"] == "setup_failed"
                for m in hosted
            ):
                return
            time.sleep(0.05)
    raise RuntimeError(f"models still loading after {timeout} s")


def wait_done(client: httpx.Client, prediction_id: str, timeout: float = 900) -> dict[str, Any]:
    """Poll a prediction until it is terminal (for models whose first start takes minutes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        prediction: dict[str, Any] = client.get(f"/v1/predictions/{prediction_id}").json()
        if prediction["status"] in ("succeeded", "failed", "canceled"):
            return prediction
        time.sleep(0.2)
    raise TimeoutError(f"prediction {prediction_id} still running after {timeout} s")


#: a fresh machine builds model environments first (llama.cpp compiles for minutes)
BUILD_TIMEOUT_S = 900


def serve_builtin(data_dir: pathlib.Path, *names: str) -> Server:
    """`foretell serve` with the named built-in models, their environments built first
    (`foretell models prepare`, cached after the first time) so it starts at once."""
    from foretell.models import builtin_models

    paths = {name: builtin_models()[name] for name in names}
    subprocess.run(
        [sys.executable, "-m", "foretell", "models", "prepare", *map(str, paths.values())],
        check=True,
        timeout=BUILD_TIMEOUT_S,
    )
    return start_server(data_dir, [f"{name}={path}" for name, path in paths.items()])


def run_prediction(server: Server, model: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Create a prediction (`Prefer: wait`) and poll it to a terminal status."""
    with server.client() as http:
        response = http.post(
            f"/v1/models/{model}/predictions", json={"input": inputs}, headers={"Prefer": "wait"}
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        if created["status"] in ("succeeded", "failed", "canceled"):
            return created
        return wait_done(http, created["id"], BUILD_TIMEOUT_S)


#: a cog.yaml whose one class both predicts and trains (tests/fixtures/predictors/trainable.py)
TRAINABLE = 'predict: "predict.py:Predictor"\ntrain: "predict.py:Predictor"\n'


def start_trainings_server(tmp: pathlib.Path) -> Server:
    """`foretell serve` with a trainable greeter (acme/greeter) and a trainer that runs
    until canceled (acme/slow)."""
    models = [
        f"acme/greeter={fixture_model(tmp, 'trainable', TRAINABLE)}",
        f"acme/slow={fixture_model(tmp, 'train_slow', TRAINABLE)}",
    ]
    return start_server(tmp / "data", models)
