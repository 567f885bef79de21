"""The servers bench/http_api.py measures: start, wait ready, stop; CPU and RSS of a tree."""

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
from dataclasses import dataclass, field

import httpx

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOOP = ROOT / "bench" / "noop"
COG_VERSION = "0.23.1"
COG_VENV = pathlib.Path.home() / ".cache" / "foretell" / "bench" / f"cog-{COG_VERSION}"
TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Target:
    """One server under test and how to post a prediction to it."""

    name: str
    process: subprocess.Popen[bytes]
    url: str  # the create URL
    headers: dict[str, str] = field(default_factory=dict)
    body: str = '{"input": {"text": "hello"}}'

    def tree(self) -> list[int]:
        return process_tree(self.process.pid)

    def cpu_s(self) -> float:
        """utime + stime of the server and every process under it (its workers)."""
        total = 0
        for pid in self.tree():
            try:
                fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total / TICK

    def rss_mib(self) -> list[float]:
        """Resident memory of each process of the tree, the server first."""
        sizes = []
        for pid in self.tree():
            try:
                status = pathlib.Path(f"/proc/{pid}/status").read_text()
            except FileNotFoundError:
                continue
            match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
            sizes.append(int(match.group(1)) / 1024 if match else 0.0)
        return sizes

    def stop(self) -> None:
        """SIGTERM, then SIGKILL for the whole tree (a wedged coglet ignores SIGTERM)."""
        tree = self.tree()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
                return
            except subprocess.TimeoutExpired:
                pass
        for pid in tree:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait()

    def answers(self, timeout: float = 10) -> bool:
        """Whether one prediction still gets an answer within `timeout` seconds."""
        try:
            response = httpx.post(
                self.url, content=self.body, headers=self.headers, timeout=timeout
            )
        except httpx.HTTPError:
            return False
        return response.status_code < 500


def process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop(0)
        tree.append(pid)
        todo.extend(sorted(children.get(pid, [])))
    return tree


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(check: str, process: subprocess.Popen[bytes], ready: str, timeout: float = 60) -> None:
    """Poll GET `check` until its body contains `ready` (or the process dies)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            if ready in httpx.get(check, timeout=2).text:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{check} not ready after {timeout} s")


def start_starlette(logs: pathlib.Path) -> Target:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "starlette_app:app", "--app-dir", str(NOOP),
         "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"],
        stdout=(logs / "starlette.log").open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    target = Target("starlette", process, base + "/predictions")
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.post(target.url, content=target.body, timeout=2)
            return target
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the Starlette baseline did not start") from None
            time.sleep(0.05)


def ensure_cog_venv() -> pathlib.Path:
    """A bench-only virtualenv with Cog (its coglet server runs without Docker)."""
    python = COG_VENV / "bin" / "python"
    if not python.exists():
        print(f"installing cog=={COG_VERSION} into {COG_VENV} (once)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(COG_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", f"cog=={COG_VERSION}"], check=True
        )
    return python


def start_cog(name: str, model: str, logs: pathlib.Path, concurrency: int = 1) -> Target:
    """`python -m cog.server.http` in the model directory, as Cog's images run it."""
    port = free_port()
    python = ensure_cog_venv()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # coglet spawns its worker as `python` from PATH: the venv's, as if activated.
    env.update(
        COG_PREDICT_TYPE_STUB="predict.py:Predictor",
        PORT=str(port),
        VIRTUAL_ENV=str(COG_VENV),
        PATH=f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    if concurrency > 1:
        env["COG_MAX_CONCURRENCY"] = str(concurrency)
    process = subprocess.Popen(
        [str(python), "-m", "cog.server.http", "--host", "127.0.0.1"],
        cwd=NOOP / model, env=env,
        stdout=(logs / f"{name}.log").open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    _wait(base + "/health-check", process, '"READY"')
    return Target(name, process, base + "/predictions")


@dataclass
class Foretell:
    """One `foretell serve` with the three bench models (bench/sync, bench/async, bench/stream)."""

    process: subprocess.Popen[bytes]
    base: str
    token: str
    data_dir: pathlib.Path
    label: str = "foretell"  # "before" for the tree of `http_api.py --before REF`

    def target(self, model: str, wait: bool = True) -> Target:
        headers = {"Authorization": f"Bearer {self.token}"}
        if wait:
            headers["Prefer"] = "wait"
        url = f"{self.base}/v1/models/bench/{model}/predictions"
        return Target(f"{self.label} {model}", self.process, url, headers)


def start_foretell(
    data_dir: pathlib.Path, src: pathlib.Path | None = None, label: str = "foretell"
) -> Foretell:
    """This checkout's `foretell serve`, or with `src` the package in that folder (another
    commit's worktree) run by this checkout's Python and dependencies."""
    port = free_port()
    env = {**os.environ, "NO_COLOR": "1"}
    command = [str(pathlib.Path(sys.executable).with_name("foretell"))]
    if src is not None:  # PYTHONPATH comes before the editable install; workers inherit it
        command = [sys.executable, "-m", "foretell"]
        env["PYTHONPATH"] = str(src)
    models = [f"bench/{m}={NOOP / m}" for m in ("sync", "async", "stream")]
    process = subprocess.Popen(
        [*command, "serve", *models, "--data-dir", str(data_dir),
         "--port", str(port), "--host", "127.0.0.1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    try:
        return _ready(process, port, data_dir, label)
    except BaseException:
        process.kill()
        process.wait()
        raise


def _ready(
    process: subprocess.Popen[bytes], port: int, data_dir: pathlib.Path, label: str
) -> Foretell:
    """Read the start-up lines (and the first token), then wait for the models."""
    assert process.stdout is not None
    lines: list[str] = []
    token = None
    while not lines or "foretell is serving" not in lines[-1]:
        line = process.stdout.readline().decode()
        if not line:
            raise RuntimeError("foretell serve exited:\n" + "".join(lines))
        lines.append(line)
        if found := re.search(r"(r8_\S+)", line):
            token = found.group(1)
    if token is None:
        raise RuntimeError("foretell serve printed no token:\n" + "".join(lines))
    log = (data_dir.parent / f"{label}.log").open("wb")
    threading.Thread(target=lambda: log.writelines(process.stdout or ()), daemon=True).start()
    server = Foretell(process, f"http://127.0.0.1:{port}", token, data_dir, label)
    _wait_models(server)
    return server


def _wait_models(server: Foretell, timeout: float = 120) -> None:
    headers = {"Authorization": f"Bearer {server.token}"}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:  # "foretell is serving" comes just before it listens
            models = httpx.get(server.base + "/v1/models", headers=headers, timeout=5).json()
        except httpx.TransportError:
            time.sleep(0.05)
            continue
        if all(m["setup"]["status"] == "ready" for m in models["results"]):
            return
        if any(m["setup"]["status"] in ("setup_failed", "defunct") for m in models["results"]):
            raise RuntimeError(f"a bench model failed: {models['results']}")
        time.sleep(0.1)
    raise RuntimeError(f"bench models not ready after {timeout} s")
