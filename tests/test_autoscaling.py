"""Instances per model through a real `foretell serve`: scale to zero when idle, a cold boot
on demand (in the prediction's metrics and logs), more instances under a burst, never more
than --max-instances."""

from __future__ import annotations

import pathlib
import time
from typing import Any

import httpx

from tests.server import fixture_model, start_server, wait_done


def _setup_status(client: httpx.Client, name: str) -> str:
    setup: dict[str, Any] = client.get(f"/v1/models/{name}").json()["setup"]
    return str(setup["status"])


def _until(condition: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_an_idle_model_scales_to_zero_and_boots_again_on_demand(tmp_path: pathlib.Path) -> None:
    model = fixture_model(tmp_path, "echo")
    server = start_server(tmp_path / "data", [f"test/echo={model}"], "--idle-timeout", "1")
    try:
        with server.client() as client:
            _until(lambda: _setup_status(client, "test/echo") == "idle")
            assert "idle: scaled to zero" in "".join(server.output)
            made = client.post(
                "/v1/models/test/echo/predictions",
                json={"input": {"text": "woke"}},
                headers={"Prefer": "wait=60"},
            ).json()
            assert made["status"] == "succeeded" and made["output"] == "woke", made["error"]
            assert made["metrics"]["cold_boot_time"] > 0
            assert "Cold boot: the model had scaled to zero" in made["logs"]
            _until(lambda: "cold boot: an instance started in" in "".join(server.output))
            warm = client.post(
                "/v1/models/test/echo/predictions",
                json={"input": {"text": "again"}},
                headers={"Prefer": "wait=60"},
            ).json()
            assert "cold_boot_time" not in (warm["metrics"] or {})  # it was running
    finally:
        server.stop()


def test_a_model_used_after_it_sat_idle_scales_to_zero_again(tmp_path: pathlib.Path) -> None:
    """Ready and idle for a while, then one prediction: it still stops once idle again."""
    model = fixture_model(tmp_path, "echo")
    server = start_server(tmp_path / "data", [f"test/echo={model}"], "--idle-timeout", "2")
    try:
        with server.client() as client:
            _until(lambda: "ready" in "".join(server.output))
            made = client.post(
                "/v1/models/test/echo/predictions",
                json={"input": {"text": "hi"}},
                headers={"Prefer": "wait=60"},
            ).json()
            assert made["status"] == "succeeded"
            _until(lambda: "idle: scaled to zero" in "".join(server.output))
            _until(lambda: _setup_status(client, "test/echo") == "idle")
    finally:
        server.stop()


def test_a_burst_adds_instances_up_to_the_maximum(tmp_path: pathlib.Path) -> None:
    model = fixture_model(tmp_path, "sleep")
    server = start_server(tmp_path / "data", [f"test/sleep={model}"], "--max-instances", "2")
    try:
        with server.client() as client:
            made = [
                client.post(
                    "/v1/models/test/sleep/predictions", json={"input": {"seconds": 1.5}}
                ).json()
                for _ in range(5)
            ]
            done = [wait_done(client, p["id"], 60) for p in made]
        assert all(p["status"] == "succeeded" for p in done)
        _assert_overlap(done)
        printed = "".join(server.output)
        assert "scaled up to 2 instance(s)" in printed
        assert "scaled up to 3" not in printed
    finally:
        server.stop()


def _assert_overlap(predictions: list[dict[str, Any]]) -> None:
    """Two of them ran at the same time (one instance runs one at a time)."""
    spans = sorted((p["started_at"], p["completed_at"]) for p in predictions)
    assert any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:], strict=False))
