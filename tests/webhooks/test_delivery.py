"""Signed webhooks through the durable outbox, to a real receiver process on 127.0.0.1."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
import replicate
from standardwebhooks.webhooks import Webhook

from tests.receiver import Receiver
from tests.server import Server, fixture_model, free_port, start_server


@pytest.fixture
def receiver(tmp_path: pathlib.Path) -> Iterator[Receiver]:
    r = Receiver(tmp_path / "hooks.jsonl", free_port())
    r.start()
    yield r
    r.stop()


def _server(tmp_path: pathlib.Path) -> Server:
    os.environ["FORETELL_WEBHOOK_RETRY_BASE_S"] = "0.2"
    models = [
        f"acme/stream={fixture_model(tmp_path, 'stream_tokens')}",
        f"acme/echo={fixture_model(tmp_path, 'echo')}",
    ]
    return start_server(tmp_path / "data", [*models, "--allow-private-urls"])


def _create(server: Server, model: str, input: dict[str, Any], **extra: object) -> dict[str, Any]:
    with server.client() as client:
        response = client.post(f"/v1/models/{model}/predictions", json={"input": input, **extra})
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body


def test_signed_deliveries_validate_with_both_libraries(
    tmp_path: pathlib.Path, receiver: Receiver
) -> None:
    """Every delivery verifies with standardwebhooks and with replicate.webhooks.validate."""
    server = _server(tmp_path)
    try:
        created = _create(server, "acme/echo", {"text": "hi"}, webhook=receiver.url)
        requests = receiver.wait_for(2)
        with server.client() as client:
            secret = client.get("/v1/webhooks/default/secret").json()["key"]
    finally:
        server.stop()
    assert [json.loads(r["body"])["status"] for r in requests] == ["processing", "succeeded"]
    final = json.loads(requests[-1]["body"])
    assert final["id"] == created["id"] and final["output"] == "hi"
    for request in requests:
        headers = {k.lower(): v for k, v in request["headers"].items()}
        Webhook(secret).verify(request["body"], headers)
        _validate_with_js(tmp_path, request, secret)
        replicate.webhooks.validate(  # raises if the signature doesn't verify
            headers=headers,
            body=request["body"],
            secret=replicate.webhook.WebhookSigningSecret(key=secret),
        )


def _validate_with_js(tmp_path: pathlib.Path, request: dict[str, Any], secret: str) -> None:
    """The npm client's validateWebhook accepts the delivery too."""
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request))
    js = pathlib.Path(__file__).parents[1] / "e2e" / "js"
    result = subprocess.run(
        ["node", "validate.mjs", str(path), secret], cwd=js, capture_output=True, text=True
    )
    assert result.stdout.strip() == "true", result.stderr


def test_filter_and_throttle(tmp_path: pathlib.Path, receiver: Receiver) -> None:
    """Only filtered events are sent; output is throttled to one per 500 ms, latest state."""
    server = _server(tmp_path)
    try:
        _create(
            server,
            "acme/stream",
            {"n": 30, "delay": 0.05},
            webhook=receiver.url,
            webhook_events_filter=["output", "completed"],
        )
        time.sleep(3)
        requests = receiver.requests()
    finally:
        server.stop()
    bodies = [json.loads(r["body"]) for r in requests]
    assert bodies[-1]["status"] == "succeeded" and len(bodies[-1]["output"]) == 30
    outputs = bodies[:-1]
    assert 1 <= len(outputs) <= 5  # 1.5 s of tokens at most every 0.5 s, not 30
    assert [len(b["output"]) for b in outputs] == sorted(len(b["output"]) for b in outputs)


def test_receiver_down_then_up_gets_completed(tmp_path: pathlib.Path) -> None:
    """A receiver that is down when the prediction completes gets it after it comes back."""
    late = Receiver(tmp_path / "late.jsonl", free_port())
    server = _server(tmp_path)
    try:
        created = _create(
            server,
            "acme/echo",
            {"text": "x"},
            webhook=late.url,
            webhook_events_filter=["completed"],
        )
        time.sleep(1.0)
        with server.client() as client:
            pending = client.get(f"/v1/predictions/{created['id']}/webhooks").json()["results"]
        assert pending[0]["status"] == "pending" and pending[0]["attempts"] >= 1
        late.start()
        requests = late.wait_for(1)
        assert json.loads(requests[0]["body"])["status"] == "succeeded"
        time.sleep(0.3)
        with server.client() as client:
            done = client.get(f"/v1/predictions/{created['id']}/webhooks").json()["results"]
        assert done[0]["status"] == "delivered" and done[0]["last_status"] == 200
    finally:
        server.stop()
        late.stop()


def test_kill_9_mid_retry_then_delivered_with_the_same_id(tmp_path: pathlib.Path) -> None:
    """Server killed while retrying; after the restart the same webhook-id is delivered."""
    late = Receiver(tmp_path / "late.jsonl", free_port())
    server = _server(tmp_path)
    created = _create(
        server, "acme/echo", {"text": "x"}, webhook=late.url, webhook_events_filter=["completed"]
    )
    time.sleep(1.0)
    with server.client() as client:
        message_id = client.get(f"/v1/predictions/{created['id']}/webhooks").json()["results"][0][
            "id"
        ]
    server.kill()
    late.start()
    again = start_server(
        tmp_path / "data", server.args[4:-4] + ["--allow-private-urls"], token=server.token
    )
    try:
        requests = late.wait_for(1)
        assert requests[0]["headers"]["webhook-id"] == message_id
    finally:
        again.stop()
        late.stop()


def test_blocked_webhook_urls_are_refused_at_creation(tmp_path: pathlib.Path) -> None:
    """Without --allow-private-urls a loopback webhook is a 422."""
    server = start_server(tmp_path / "data", [f"acme/echo={fixture_model(tmp_path, 'echo')}"])
    try:
        with server.client() as client:
            response = client.post(
                "/v1/models/acme/echo/predictions",
                json={"input": {}, "webhook": "http://127.0.0.1:9/hook"},
            )
        assert response.status_code == 422
        assert response.json()["invalid_fields"][0]["field"] == "webhook"
    finally:
        server.stop()
