"""`foretell serve` as a process: stopping on SIGTERM, restarts, and data retention."""

from __future__ import annotations

import pathlib
import signal
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.receiver import Receiver
from tests.server import Server, fixture_model, free_port, start_server, wait_done


@pytest.fixture
def receiver(tmp_path: pathlib.Path) -> Iterator[Receiver]:
    r = Receiver(tmp_path / "hooks.jsonl", free_port()).start()
    yield r
    r.stop()


def _sleeper(tmp: pathlib.Path, *extra: str, data: str = "data") -> Server:
    model = fixture_model(tmp, "sleep")
    return start_server(tmp / data, [f"acme/sleep={model}"], "--allow-private-urls", *extra)


def _running(server: Server, seconds: float, webhook: str | None = None) -> str:
    """Create a sleep prediction and wait until it is processing."""
    body: dict[str, Any] = {"input": {"seconds": seconds}}
    if webhook:
        body["webhook"] = webhook
    with server.client() as client:
        created = client.post("/v1/models/acme/sleep/predictions", json=body)
        assert created.status_code == 201, created.text
        pid: str = created.json()["id"]
        deadline = time.monotonic() + 30
        while client.get(f"/v1/predictions/{pid}").json()["status"] != "processing":
            assert time.monotonic() < deadline
            time.sleep(0.05)
    return pid


def test_sigterm_lets_a_running_prediction_finish(tmp_path: pathlib.Path) -> None:
    """SIGTERM stops accepting, waits for the running prediction, then exits 0."""
    server = _sleeper(tmp_path)
    pid = _running(server, 1.0)
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(30) == 0
    server.stop()  # it has exited: this closes its output pipe
    assert any("SIGTERM: stopping" in line for line in server.output)
    again = start_server(
        tmp_path / "data", server.args[4:5], "--allow-private-urls", token=server.token
    )
    try:
        with again.client() as client:
            assert client.get(f"/v1/predictions/{pid}").json()["status"] == "succeeded"
    finally:
        again.stop()


def test_past_the_grace_period_the_rest_fail_with_their_webhooks(
    tmp_path: pathlib.Path, receiver: Receiver
) -> None:
    """What still runs when the grace period ends is failed with the reason, webhook included."""
    server = _sleeper(tmp_path, "--shutdown-grace", "1")
    pid = _running(server, 60, receiver.url)
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(30) == 0
    server.stop()  # it has exited: this closes its output pipe
    again = start_server(
        tmp_path / "data", server.args[4:5], "--allow-private-urls", token=server.token
    )
    try:
        body = receiver.completed(pid)
        assert body["status"] == "failed" and "shut down" in body["error"]
    finally:
        again.stop()


def test_a_prediction_running_at_kill_9_fails_after_restart_with_its_webhook(
    tmp_path: pathlib.Path, receiver: Receiver
) -> None:
    """After kill -9, the prediction that was running is failed on restart, and its
    `completed` webhook is sent (restart-failed predictions used to get none)."""
    server = _sleeper(tmp_path)
    pid = _running(server, 60, receiver.url)
    server.kill()
    again = start_server(
        tmp_path / "data", server.args[4:5], "--allow-private-urls", token=server.token
    )
    try:
        body = receiver.completed(pid)
        assert body["status"] == "failed" and "restarted" in body["error"]
    finally:
        again.stop()


def test_finished_predictions_lose_their_data_after_the_retention_time(
    tmp_path: pathlib.Path,
) -> None:
    """With --data-retention, input, output, logs and output files go; data_removed says so."""
    model = fixture_model(tmp_path, "path_output")
    server = start_server(tmp_path / "data", [f"acme/files={model}"], "--data-retention", "1")
    try:
        with server.client() as client:
            created = client.post(
                "/v1/models/acme/files/predictions", json={"input": {}}, headers={"Prefer": "wait"}
            )
            done = wait_done(client, created.json()["id"], 30)
            assert done["status"] == "succeeded" and done["data_removed"] is False
            output_url = done["output"]
            assert httpx.get(output_url).status_code == 200
            deadline = time.monotonic() + 30
            while not (current := client.get(f"/v1/predictions/{done['id']}").json())[
                "data_removed"
            ]:
                assert time.monotonic() < deadline
                time.sleep(0.1)
            assert (
                current["input"] is None and current["output"] is None and current["logs"] is None
            )
            assert current["status"] == "succeeded" and current["metrics"]
            assert httpx.get(output_url).status_code == 404
        assert not any((tmp_path / "data" / "files" / "outputs").rglob("*.*"))
    finally:
        server.stop()
