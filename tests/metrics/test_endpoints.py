"""/health, /ready and /metrics of a real `foretell serve`, and its --log-format json."""

from __future__ import annotations

import pathlib
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from tests.metrics.scrape import sample, scrape, wait_sample
from tests.receiver import Receiver
from tests.server import Server, fixture_model, free_port, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp: pathlib.Path = tmp_path_factory.mktemp("metrics")
    models = [f"acme/{n}={fixture_model(tmp, n)}" for n in ("echo", "sleep")]
    started = start_server(tmp / "data", models, "--allow-private-urls")
    yield started
    started.stop()


def _create(client: httpx.Client, model: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/v1/models/{model}/predictions", json=body, headers={"Prefer": "wait"})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _wait_status(client: httpx.Client, prediction_id: str, status: str) -> None:
    deadline = time.monotonic() + 30
    while client.get(f"/v1/predictions/{prediction_id}").json()["status"] != status:
        assert time.monotonic() < deadline, f"{prediction_id} not {status} in 30 s"
        time.sleep(0.05)


def test_health_and_ready_need_no_token(server: Server) -> None:
    health = httpx.get(f"{server.url}/health")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    ready = httpx.get(f"{server.url}/ready")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "checks": {"store": "ok", "queue": "ok", "files": "ok"},
    }


def test_metrics_count_predictions_by_model_and_status(server: Server) -> None:
    with server.client() as client:
        for text in ("a", "b", "c"):
            assert _create(client, "acme/echo", {"input": {"text": text}})["status"] == "succeeded"
    samples = wait_sample(
        server.url, "foretell_predictions_total", 3, model="acme/echo", status="succeeded"
    )
    assert sample(samples, "foretell_predictions_queued_total", model="acme/echo") == 3
    assert sample(samples, "foretell_predict_seconds_count", model="acme/echo") == 3
    assert sample(samples, "foretell_queue_seconds_count", model="acme/echo") == 3
    assert sample(samples, "foretell_predict_seconds_bucket", model="acme/echo", le="+Inf") == 3
    assert sample(samples, "foretell_queue_depth", model="acme/echo") == 0
    assert sample(samples, "foretell_instances", model="acme/echo") == 1
    assert (sample(samples, "process_resident_memory_bytes") or 0) > 0


def test_queue_depth_sse_connections_and_cancels(server: Server) -> None:
    """One sleep runs (one instance, one slot), two wait: depth 2; a reader of the running
    one's stream is one SSE connection until it leaves; the three cancels count."""
    with server.client() as client:
        running = client.post(
            "/v1/models/acme/sleep/predictions", json={"input": {"seconds": 60}}
        ).json()
        _wait_status(client, running["id"], "processing")
        waiting = [
            client.post("/v1/models/acme/sleep/predictions", json={"input": {"seconds": 60}})
            for _ in range(2)
        ]
        scraped = scrape(server.url)
        assert sample(scraped, "foretell_queue_depth", model="acme/sleep") == 2
        oldest = sample(scraped, "foretell_queue_oldest_seconds", model="acme/sleep")
        assert oldest is not None and oldest >= 0
        with httpx.stream("GET", running["urls"]["stream"], timeout=30) as stream:
            lines = stream.iter_lines()  # kept: a dropped iterator closes the response
            assert next(lines) == ": hi"  # the stream is open
            wait_sample(server.url, "foretell_sse_connections", 1)
        wait_sample(server.url, "foretell_sse_connections", 0)
        for prediction in [*(w.json() for w in waiting), running]:  # the queued ones first
            client.post(f"/v1/predictions/{prediction['id']}/cancel")
    samples = wait_sample(
        server.url, "foretell_predictions_total", 3, model="acme/sleep", status="canceled"
    )
    assert sample(samples, "foretell_queue_depth", model="acme/sleep") == 0
    # only the one that ran has a queue time
    assert sample(samples, "foretell_queue_seconds_count", model="acme/sleep") == 1


def test_webhook_outcomes_are_counted(server: Server, tmp_path: pathlib.Path) -> None:
    before = sample(scrape(server.url), "foretell_webhook_deliveries_total", outcome="delivered")
    receiver = Receiver(tmp_path / "hooks.jsonl", free_port()).start()
    try:
        with server.client() as client:
            body = {"input": {"text": "x"}, "webhook": receiver.url}
            created = _create(client, "acme/echo", {**body, "webhook_events_filter": ["completed"]})
        receiver.completed(created["id"])
        wait_sample(
            server.url, "foretell_webhook_deliveries_total", (before or 0) + 1,
            outcome="delivered",
        )  # fmt: skip
    finally:
        receiver.stop()


def test_log_format_json_writes_json_lines(tmp_path: pathlib.Path) -> None:
    """Every line is a JSON object with time, level, logger and message, except the first
    token, printed as plain text once (a secret is kept out of log pipelines)."""
    model = f"acme/echo={fixture_model(tmp_path, 'echo')}"
    server = start_server(tmp_path / "data", [model], "--log-format", "json")
    try:
        with server.client() as client:
            assert _create(client, "acme/echo", {"input": {"text": "hi"}})["status"] == "succeeded"
    finally:
        server.stop()
    lines = [line for line in server.output if line.strip()]
    plain = [line for line in lines if not line.startswith("{")]
    assert len(plain) == 1 and "Created the first API token" in plain[0], plain
    entries = [orjson.loads(line) for line in lines if line.startswith("{")]
    assert all({"time", "level", "logger", "message"} <= entry.keys() for entry in entries)
    serving = [e for e in entries if e["message"].startswith("foretell is serving")]
    assert serving and serving[0]["logger"] == "foretell.progress"
    assert serving[0]["level"] == "info"


def test_a_cold_boot_is_observed_with_the_instance_count(tmp_path: pathlib.Path) -> None:
    """A model that scaled to zero boots an instance for its next prediction."""
    model = f"acme/echo={fixture_model(tmp_path, 'echo')}"
    server = start_server(tmp_path / "data", [model], "--idle-timeout", "0.5")
    try:
        wait_sample(server.url, "foretell_instances", 0, model="acme/echo")
        with server.client() as client:
            created = _create(client, "acme/echo", {"input": {"text": "hi"}})
            if created["status"] != "succeeded":
                _wait_status(client, created["id"], "succeeded")
        after = scrape(server.url)
        assert sample(after, "foretell_cold_boot_seconds_count", model="acme/echo") == 1
        assert sample(after, "foretell_instances", model="acme/echo") == 1
    finally:
        server.stop()
