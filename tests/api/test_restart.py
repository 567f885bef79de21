"""Durability across a server crash: nothing accepted is silently lost."""

from __future__ import annotations

import pathlib
import time

from tests.server import fixture_model, start_server


def test_kill_9_then_restart(tmp_path: pathlib.Path) -> None:
    """Running predictions fail with a clear error; queued ones run after the restart."""
    model = f"acme/sleep={fixture_model(tmp_path, 'sleep')}"
    first = start_server(tmp_path / "data", [model])
    with first.client() as client:
        running = client.post(
            "/v1/models/acme/sleep/predictions", json={"input": {"seconds": 30}}
        ).json()
        queued = client.post(
            "/v1/models/acme/sleep/predictions", json={"input": {"seconds": 0.1}}
        ).json()
        deadline = time.monotonic() + 10
        while client.get(f"/v1/predictions/{running['id']}").json()["status"] != "processing":
            assert time.monotonic() < deadline
            time.sleep(0.05)
    first.kill()

    second = start_server(tmp_path / "data", [model], token=first.token)
    try:
        assert not any("Created the first API token" in line for line in second.output)
        with second.client() as client:
            lost = client.get(f"/v1/predictions/{running['id']}").json()
            assert lost["status"] == "failed"
            assert "server restarted" in lost["error"]
            deadline = time.monotonic() + 20
            while (done := client.get(f"/v1/predictions/{queued['id']}").json())["status"] not in (
                "succeeded",
                "failed",
            ):
                assert time.monotonic() < deadline
                time.sleep(0.05)
            assert done["status"] == "succeeded" and done["output"] == "woke up"
    finally:
        second.stop()
