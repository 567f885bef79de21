"""Load for bench/http_api.py: wrk windows (with server CPU), an SSE client loop, queue drain."""

from __future__ import annotations

import asyncio
import http.client
import json
import pathlib
import re
import shutil
import sqlite3
import subprocess
import time
import urllib.parse
from dataclasses import dataclass

import httpx
from http_servers import Target


def ensure_wrk() -> str:
    """wrk's path; apt-installs it when missing (the bench runs as root on these machines)."""
    found = shutil.which("wrk")
    if found is None:
        print("installing wrk with apt-get", flush=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
        found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk is missing and apt-get could not install it")
    return found


def lua_script(folder: pathlib.Path, target: Target) -> pathlib.Path:
    """A wrk script that POSTs the target's body with its headers (written at run time)."""
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(target.body)}"]
    headers = {"Content-Type": "application/json", **target.headers}
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    path = folder / (re.sub(r"\W+", "_", target.name + str(sorted(headers))) + ".lua")
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class Window:
    """What one wrk window measured."""

    ok_rps: float
    rejected_rps: float  # non-2xx answers per second (Cog's 409 at capacity)
    p50_ms: float
    p99_ms: float
    cpu_ms_per_ok: float  # server process tree CPU time / OK answers
    ok: int


def _ms(text: str, label: str) -> float:
    found = re.search(rf"^\s*{re.escape(label)}\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    if found is None:
        raise RuntimeError(f"no {label} latency in wrk's output:\n{text}")
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[found.group(2)]
    return float(found.group(1)) * scale


def wrk(target: Target, connections: int, seconds: float, scripts: pathlib.Path) -> Window:
    """One wrk window (one thread) against `target`, reading the server's CPU around it."""
    script = lua_script(scripts, target)
    command = [ensure_wrk(), "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s",
               "--latency", "--timeout", "60s", "-s", str(script), target.url]  # fmt: skip
    cpu_before = target.cpu_s()
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    cpu = target.cpu_s() - cpu_before
    text = result.stdout
    found = re.search(r"(\d+) requests in ([\d.]+)(m?s)", text)
    if found is None:
        raise RuntimeError(f"unexpected wrk output:\n{text}\n{result.stderr}")
    total, took = int(found.group(1)), float(found.group(2))
    took *= 1e-3 if found.group(3) == "ms" else 1.0
    rejected_match = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    rejected = int(rejected_match.group(1)) if rejected_match else 0
    if "Socket errors" in text:
        print(f"  {target.name} c={connections}: {text.split('Socket errors')[1].splitlines()[0]}")
    ok = total - rejected
    return Window(
        ok / took, rejected / took, _ms(text, "50%"), _ms(text, "99%"),
        cpu * 1e3 / max(ok, 1), ok,
    )  # fmt: skip


@dataclass
class Drain:
    """Async creates (no `Prefer: wait`) and how fast the queue they left then empties."""

    create_rps: float
    finished_rps: float  # predictions finished / (first create → queue empty)
    queued: int  # still not finished when the create window ended
    tail_s: float  # from the window's end until the queue was empty
    cpu_ms_per_prediction: float


#: how long the queue may take to empty after a create window before the run fails
DRAIN_LIMIT_S = 120.0


def _pending(db: pathlib.Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        row = conn.execute(
            "SELECT count(*) FROM predictions WHERE status IN ('starting', 'processing')"
        ).fetchone()
    return int(row[0])


def create_and_drain(
    target: Target, db: pathlib.Path, seconds: float, scripts: pathlib.Path
) -> Drain:
    """Create at c=8 for a window, then poll the store until nothing is queued or running."""
    cpu_before = target.cpu_s()
    started = time.perf_counter()
    window = wrk(target, 8, seconds, scripts)
    ended = time.perf_counter()
    queued = _pending(db)
    # a prediction that never ends (a bug) must show as a failed run, not hang the bench
    limit = ended + DRAIN_LIMIT_S
    while (left := _pending(db)) and time.perf_counter() < limit:
        time.sleep(0.01)
    if left:
        raise RuntimeError(
            f"{target.name}: {left} prediction(s) still open {DRAIN_LIMIT_S:.0f} s after the "
            f"window; see the server's log beside its data dir"
        )
    emptied = time.perf_counter()
    cpu = target.cpu_s() - cpu_before
    return Drain(
        window.ok_rps, window.ok / (emptied - started), queued, emptied - ended,
        cpu * 1e3 / max(window.ok, 1),
    )  # fmt: skip


async def _sse_once(client: httpx.AsyncClient, create: str, headers: dict[str, str]) -> float:
    """foretell: create, open urls.stream, read to `done`; 100 `output` events expected."""
    start = time.perf_counter()
    created = await client.post(create, json={"input": {"n": 100}}, headers=headers)
    created.raise_for_status()
    outputs = 0
    async with client.stream("GET", created.json()["urls"]["stream"]) as response:
        async for line in response.aiter_lines():
            if line == "event: output":
                outputs += 1
            elif line == "event: done":
                break
    if outputs != 100:
        raise RuntimeError(f"expected 100 output events, got {outputs}")
    return time.perf_counter() - start


async def _sse_bare(client: httpx.AsyncClient, url: str) -> float:
    """The baseline: one POST that answers 100 events and `done`."""
    start = time.perf_counter()
    outputs = 0
    request = client.build_request("POST", url, json={"input": {"n": 100}})
    response = await client.send(request, stream=True)
    async for line in response.aiter_lines():
        if line == "event: output":
            outputs += 1
        elif line == "event: done":
            break
    await response.aclose()
    if outputs != 100:
        raise RuntimeError(f"expected 100 output events, got {outputs}")
    return time.perf_counter() - start


async def _sse_loop(url: str, headers: dict[str, str] | None, n: int) -> list[float]:
    async with httpx.AsyncClient(timeout=60) as client:
        samples = []
        for i in range(n + 10):  # the first 10 warm up
            if headers is None:
                took = await _sse_bare(client, url)
            else:
                took = await _sse_once(client, url, headers)
            if i >= 10:
                samples.append(took)
        return samples


def sse_latencies(url: str, headers: dict[str, str] | None, n: int) -> list[float]:
    """Seconds from create to `done` of n sequential 100-token streams (keep-alive client)."""
    return asyncio.run(_sse_loop(url, headers, n))


@dataclass
class Sequential:
    """One keep-alive client, one request at a time; latency of the OK answers only."""

    p50_ms: float
    p99_ms: float
    rejected: int  # answers that were not 2xx (Cog's sync slot is still busy: 409)


def sequential(target: Target, n: int) -> Sequential:
    """n timed requests after 50 untimed; wrk's percentiles would mix in Cog's fast 409s."""
    url = urllib.parse.urlsplit(target.url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    headers = {"Content-Type": "application/json", **target.headers}
    body = target.body.encode()
    samples, rejected = [], 0
    for i in range(n + 50):
        start = time.perf_counter()
        conn.request("POST", url.path, body, headers)
        response = conn.getresponse()
        response.read()
        took = time.perf_counter() - start
        if i < 50:
            continue
        if 200 <= response.status < 300:
            samples.append(took)
        else:
            rejected += 1
    conn.close()
    samples.sort()

    def at(q: float) -> float:
        return samples[min(len(samples) - 1, int(q * len(samples)))] * 1e3

    return Sequential(at(0.5), at(0.99), rejected)
