"""The built-in models: install size, setup time, memory and latency per call, each model in
its own `foretell serve`, beside foretell/hello (a model that does nothing) as the baseline
of the same run.  `python bench/models.py [--calls 5] [--only NAME ...]`

Environments are built first if they are not cached (that time is reported too).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from foretell.models import builtin_models
from foretell.predictor.config import load_config
from foretell.runner.environments import default_cache_dir, environment_key, requirements

Row = dict[str, str]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Served:
    """One `foretell serve` hosting one model, with auth off."""

    def __init__(
        self, name: str, path: pathlib.Path, data: pathlib.Path, extra: list[str] | None = None
    ) -> None:
        port = free_port()
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "foretell", "serve", f"{name}={path}", "--port", str(port),
             "--data-dir", str(data), "--no-auth", *(extra or [])],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600)
        self.name = name

    def _read(self) -> None:
        assert self.process.stdout is not None
        self.lines.extend(self.process.stdout)

    def wait_ready(self, timeout: float = 1800) -> float:
        """Seconds from process start until setup() has finished."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                setup = self.client.get(f"/v1/models/{self.name}").json()["setup"]
            except httpx.TransportError:
                time.sleep(0.05)
                continue
            if setup["status"] in ("ready", "busy"):
                return time.monotonic() - self.started
            if setup["status"] in ("setup_failed", "defunct"):
                raise RuntimeError(f"{self.name}: {setup['error']}")
            time.sleep(0.02)
        raise TimeoutError(self.name)

    def run(self, input: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        """(client seconds, prediction) for one prediction with Prefer: wait."""
        started = time.perf_counter()
        response = self.client.post(
            f"/v1/models/{self.name}/predictions",
            json={"input": input},
            headers={"Prefer": "wait"},
        )
        prediction: dict[str, Any] = response.json()
        while prediction["status"] not in ("succeeded", "failed", "canceled"):
            time.sleep(0.01)
            prediction = self.client.get(f"/v1/predictions/{prediction['id']}").json()
        if prediction["status"] != "succeeded":
            raise RuntimeError(f"{self.name}: {prediction['error']}")
        return time.perf_counter() - started, prediction

    def worker_peak_mb(self) -> float:
        """Peak resident memory (VmHWM) of the model's worker: the server's child process."""
        peak = 0.0
        for status in pathlib.Path("/proc").glob("[0-9]*/status"):
            try:
                fields = dict(
                    line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
                )
            except OSError:
                continue
            if fields.get("PPid", "").strip() == str(self.process.pid):
                peak = max(peak, int(fields.get("VmHWM", "0 kB").split()[0]) / 1024)
        return peak

    def close(self) -> None:
        self.client.close()
        self.process.terminate()
        self.process.wait(timeout=30)


def install_size(path: pathlib.Path) -> str:
    """The model's environment (du) and its Debian packages (Installed-Size)."""
    config = load_config(path)
    parts = []
    lines = requirements(config)
    if lines:
        env = default_cache_dir() / "envs" / environment_key(lines)
        out = subprocess.run(["du", "-sm", str(env)], capture_output=True, text=True).stdout
        parts.append(f"{out.split()[0] if out else '?'} MB venv")
    if config.system_packages:
        sizes = subprocess.run(
            ["dpkg-query", "-W", "-f=${Installed-Size}\n", *config.system_packages],
            capture_output=True,
            text=True,
        ).stdout.split()
        total = sum(int(s) for s in sizes if s.isdigit()) / 1024
        parts.append(f"{total:.0f} MB apt")
    return " + ".join(parts) or "none"


def prepare(name: str, path: pathlib.Path) -> str:
    """Build the environment if needed; the build time, or 'cached'."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "foretell", "models", "prepare", str(path)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{name}: {result.stderr or result.stdout}")
    elapsed = time.monotonic() - started
    return (
        f"{elapsed:.0f} s"
        if "Creating the environment" in result.stderr + result.stdout
        else "cached"
    )


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.1f} ms"


def embeddings_extra(served: Served) -> str:
    """Texts per second over 64 short texts at batch size 1 and 32 (one prediction each)."""
    texts = [f"Sentence number {i} about local inference servers." for i in range(64)]
    rates = []
    for batch in (1, 32):
        _, prediction = served.run({"texts": texts, "batch_size": batch})
        rates.append(len(texts) / prediction["metrics"]["predict_time"])
    return f"{rates[0]:.0f} texts/s at batch 1, {rates[1]:.0f} at batch 32"


def text_generate_extra(served: Served) -> str:
    """Tokens per second of a 64-token completion."""
    _, prediction = served.run(
        {"prompt": "The history of the printing press", "max_tokens": 64, "seed": 1}
    )
    tokens = len(prediction["output"])
    return f"{tokens / prediction['metrics']['predict_time']:.0f} tokens/s ({tokens} tokens)"


EXTRAS: dict[str, Callable[[Served], str]] = {
    "foretell/embeddings": embeddings_extra,
    "foretell/text-generate": text_generate_extra,
}


def measure(name: str, path: pathlib.Path, calls: int, tmp: pathlib.Path) -> Row:
    import orjson

    build = prepare(name, path)
    example = orjson.loads((path / "example.json").read_bytes())["input"]
    if name == "foretell/hello":
        example["delay"] = 0  # the baseline: a model that does nothing
    served = Served(name, path, tmp / name.replace("/", "-"))
    try:
        ready = served.wait_ready()
        served.run(example)  # warm-up
        client_s, predict_s = [], []
        for _ in range(calls):
            elapsed, prediction = served.run(example)
            client_s.append(elapsed)
            predict_s.append(prediction["metrics"]["predict_time"])
        extra = EXTRAS[name](served) if name in EXTRAS else ""
        return {
            "model": name,
            "install": install_size(path),
            "env build": build,
            "start to ready": f"{ready:.2f} s",
            "worker peak RSS": f"{served.worker_peak_mb():.0f} MB",
            "predict_time p50": _ms(predict_s),
            "request p50": _ms(client_s),
            "notes": extra,
        }
    finally:
        served.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=5, help="timed calls per model")
    parser.add_argument("--only", nargs="*", help="model names (default: all built-ins)")
    args = parser.parse_args()
    models = builtin_models()
    names = ["foretell/hello"] + sorted(
        n for n in models if n != "foretell/hello" and (not args.only or n in args.only)
    )
    os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))
    table = Table(title=f"built-in models ({os.cpu_count()} cores; hello is the baseline)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            rows.append(measure(name, models[name], args.calls, pathlib.Path(tmp)))
            print(f"measured {name}", file=sys.stderr)
    for column in rows[0]:
        table.add_column(column)
    for row in rows:
        table.add_row(*row.values())
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
