"""SSE and webhook benchmark against a real `foretell serve` process, each beside a baseline
measured in the same run.  `python bench/sse_webhooks.py`"""

from __future__ import annotations

import argparse
import http.server
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import httpx
from rich.console import Console
from rich.table import Table

ROOT = pathlib.Path(__file__).parents[1]
PREDICTORS = ROOT / "tests" / "fixtures" / "predictors"


def _model(tmp: pathlib.Path, fixture: str) -> str:
    target = tmp / fixture
    target.mkdir()
    shutil.copy(PREDICTORS / f"{fixture}.py", target / "predict.py")
    (target / "cog.yaml").write_text('predict: "predict.py"\n')
    return f"bench/{fixture}={target}"


def start_server(tmp: pathlib.Path, port: int) -> subprocess.Popen[str]:
    models = [_model(tmp, f) for f in ("stream_tokens", "stream_timestamps", "echo")]
    process = subprocess.Popen(
        [sys.executable, "-m", "foretell", "serve", *models, "--port", str(port),
         "--data-dir", str(tmp / "data"), "--no-auth", "--allow-private-urls"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    while "foretell is serving" not in process.stdout.readline():
        pass
    return process


def sse_events(response: httpx.Response) -> list[tuple[str, str, float]]:
    """(event, data, arrival monotonic time) for each event of a streaming response."""
    events, name, data = [], "", []
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
        elif line == "" and name:
            events.append((name, "\n".join(data), time.monotonic()))
            if name == "done":
                break
            name, data = "", []
    return events


def sse_tokens_per_second(base: str, n: int) -> float:
    with httpx.Client(base_url=base, timeout=120) as client:
        created = client.post(
            "/v1/models/bench/stream_tokens/predictions", json={"input": {"n": n}}
        ).json()
        with client.stream("GET", created["urls"]["stream"]) as response:
            events = [e for e in sse_events(response) if e[0] == "output"]
    assert len(events) == n
    return n / (events[-1][2] - events[0][2])


def sse_token_delay(base: str, n: int) -> list[float]:
    with httpx.Client(base_url=base, timeout=120) as client:
        created = client.post(
            "/v1/models/bench/stream_timestamps/predictions",
            json={"input": {"n": n, "delay": 0.002}},
        ).json()
        with client.stream("GET", created["urls"]["stream"]) as response:
            return [t - float(d) for e, d, t in sse_events(response) if e == "output"]


def in_process_tokens(n: int) -> float:
    sys.path.insert(0, str(PREDICTORS))
    from foretell.predictor.load import load_predictor

    predictor = load_predictor("stream_tokens.py", root=PREDICTORS)
    start = time.perf_counter()
    count = sum(1 for _ in predictor.call({"n": n, "delay": 0.0}))
    return count / (time.perf_counter() - start)


def in_process_delay(n: int) -> list[float]:
    from foretell.predictor.load import load_predictor

    predictor = load_predictor("stream_timestamps.py", root=PREDICTORS)
    return [time.monotonic() - float(t) for t in predictor.call({"n": n, "delay": 0.002})]


class _Count(http.server.BaseHTTPRequestHandler):
    count = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        type(self).count += 1
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def webhook_rates(base: str, n: int) -> tuple[float, float]:
    """(webhooks delivered/s by foretell, bare POSTs/s to the same receiver)."""
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Count)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    with httpx.Client(timeout=30) as client:
        start = time.perf_counter()
        for _ in range(n):
            client.post(url, content=b"{}")
        bare = n / (time.perf_counter() - start)
    _Count.count = 0
    with httpx.Client(base_url=base, timeout=30) as client:
        start = time.perf_counter()
        for _ in range(n):
            client.post(
                "/v1/models/bench/echo/predictions",
                json={"input": {}, "webhook": url, "webhook_events_filter": ["completed"]},
            )
        while _Count.count < n:
            time.sleep(0.01)
        ours = n / (time.perf_counter() - start)
    receiver.shutdown()
    return ours, bare


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tokens", type=int, default=100_000)
    parser.add_argument("--webhooks", type=int, default=300)
    args = parser.parse_args()
    tmp = pathlib.Path(tempfile.mkdtemp())
    port = 5090 + os.getpid() % 500
    server = start_server(tmp, port)
    base = f"http://127.0.0.1:{port}"
    try:
        rate = sse_tokens_per_second(base, args.tokens)
        delays = sse_token_delay(base, 1000)
        hooks, bare_posts = webhook_rates(base, args.webhooks)
    finally:
        server.terminate()
        server.wait()
    base_rate = in_process_tokens(args.tokens)
    base_delays = in_process_delay(1000)
    ms = lambda s: f"{s * 1e3:.2f} ms"  # noqa: E731
    table = Table(title="foretell SSE and webhooks vs same-run baselines")
    for column in ("measure", "foretell (server process + worker)", "baseline"):
        table.add_column(column)
    table.add_row("SSE tokens/s, one stream", f"{rate:,.0f}", f"{base_rate:,.0f} in-process")
    table.add_row(
        "yield -> SSE client delay p50 / p99",
        f"{ms(pct(delays, 0.5))} / {ms(pct(delays, 0.99))}",
        f"{ms(pct(base_delays, 0.5))} / {ms(pct(base_delays, 0.99))} in-process",
    )
    table.add_row(
        "webhook deliveries/s (completed, 1 per prediction)",
        f"{hooks:,.0f}",
        f"{bare_posts:,.0f} bare POSTs to the same receiver",
    )
    Console().print(table)


if __name__ == "__main__":
    main()
