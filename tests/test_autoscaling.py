"""Instances per model through a real `foretell serve`: scale to zero when idle, a cold boot
on demand (in the prediction's metrics and logs), more instances under a burst, never more
than --max-instances."""

from __future__ import annotations

import pathlib
import time
from typing import Any

import httpx

from tests.metrics.scrape import sample, scrape
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


def test_a_models_cog_yaml_bounds_win_over_the_servers(tmp_path: pathlib.Path) -> None:
    """cog.yaml's `foretell:` mapping lets one model run two instances under a burst and
    scale to zero when idle, on a server whose flags give each model one, for good."""
    model = fixture_model(
        tmp_path, "sleep",
        'predict: "predict.py:Predictor"\nforetell:\n  max_instances: 2\n  idle_timeout: 1\n',
    )  # fmt: skip
    server = start_server(tmp_path / "data", [f"test/sleep={model}"])
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
            _until(lambda: "idle: scaled to zero" in "".join(server.output))
        printed = "".join(server.output)
        assert "scaled up to 2 instance(s)" in printed and "scaled up to 3" not in printed
    finally:
        server.stop()


def test_a_deployments_idle_timeout_scales_its_model_to_zero(tmp_path: pathlib.Path) -> None:
    """A deployment's `idle_timeout` (a foretell extension) and min_instances 0 make a model
    that would run for good scale to zero, and its next prediction cold-boots it."""
    model = fixture_model(tmp_path, "echo")
    server = start_server(tmp_path / "data", [f"test/echo={model}"])
    try:
        with server.client() as client:
            version = client.get("/v1/models/test/echo").json()["latest_version"]["id"]
            body = {
                "name": "quick", "model": "test/echo", "version": version, "hardware": "cpu",
                "min_instances": 0, "max_instances": 1, "idle_timeout": 1,
            }  # fmt: skip
            created = client.post("/v1/deployments", json=body)
            assert created.status_code == 200, created.text
            owner = created.json()["owner"]
            assert created.json()["current_release"]["configuration"]["idle_timeout"] == 1
            _until(lambda: "idle: scaled to zero" in "".join(server.output))
            made = client.post(
                f"/v1/deployments/{owner}/quick/predictions",
                json={"input": {"text": "woke"}},
                headers={"Prefer": "wait=60"},
            ).json()
            assert made["status"] == "succeeded" and made["output"] == "woke", made
            assert made["metrics"]["cold_boot_time"] > 0
            bad = client.patch(f"/v1/deployments/{owner}/quick", json={"idle_timeout": -1})
            assert bad.status_code == 422 and "idle_timeout" in bad.text
    finally:
        server.stop()


def test_every_cold_boot_counts_in_the_histogram(tmp_path: pathlib.Path) -> None:
    """Two cold boots with no scrape between them are both observed."""
    model = fixture_model(tmp_path, "echo")
    server = start_server(tmp_path / "data", [f"acme/echo={model}"], "--idle-timeout", "0.5")
    try:
        with server.client() as client:
            for boot in (1, 2):  # each: scaled to zero, then a prediction boots it
                _until(lambda: "".join(server.output).count("idle: scaled to zero") == boot)
                made = client.post(
                    "/v1/models/acme/echo/predictions",
                    json={"input": {"text": "hi"}},
                    headers={"Prefer": "wait=60"},
                ).json()
                assert made["status"] == "succeeded" and made["metrics"]["cold_boot_time"] > 0
        samples = scrape(server.url)
        assert sample(samples, "foretell_cold_boot_seconds_count", model="acme/echo") == 2
    finally:
        server.stop()
