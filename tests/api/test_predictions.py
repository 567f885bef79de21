"""Predictions over real HTTP against a real server process."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.server import Server


def _version(client: httpx.Client, model: str) -> str:
    return str(client.get(f"/v1/models/{model}").json()["latest_version"]["id"])


def _wait_done(client: httpx.Client, prediction_id: str, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(f"/v1/predictions/{prediction_id}").json()
        if body["status"] in ("succeeded", "failed", "canceled"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"{prediction_id} did not finish")


def test_create_then_poll(server: Server) -> None:
    """A created prediction starts as `starting` and ends `succeeded` with output and metrics."""
    with server.client() as client:
        response = client.post("/v1/models/acme/echo/predictions", json={"input": {"text": "hi"}})
        assert response.status_code == 201
        created = response.json()
        assert created["status"] == "starting"
        assert response.headers["location"] == created["urls"]["get"]
        assert created["urls"]["get"].startswith(server.url + "/v1/predictions/")
        assert len(created["id"]) == 26
        done = _wait_done(client, created["id"])
    assert done["output"] == "hi"
    assert done["model"] == "acme/echo"
    assert done["source"] == "api"
    assert set(done["metrics"]) >= {"predict_time", "total_time"}
    assert done["completed_at"].endswith("Z") and done["started_at"] <= done["completed_at"]


def test_version_forms(server: Server) -> None:
    """`version` may be a version id, owner/name:version or owner/name."""
    with server.client() as client:
        version = _version(client, "acme/echo")
        for ref in (version, f"acme/echo:{version}", "acme/echo"):
            response = client.post(
                "/v1/predictions",
                json={"version": ref, "input": {"text": "v"}},
                headers={"Prefer": "wait"},
            )
            assert response.status_code == 201, response.text
            assert response.json()["output"] == "v"
            assert response.json()["version"] == version


def test_prefer_wait_timeout_says_starting(server: Server) -> None:
    """A `Prefer: wait=1` that runs out returns the prediction as `starting`."""
    with server.client() as client:
        response = client.post(
            "/v1/models/acme/sleep/predictions",
            json={"input": {"seconds": 3}},
            headers={"Prefer": "wait=1"},
        )
        body = response.json()
        assert body["status"] == "starting"
        assert response.headers["preference-applied"] == "wait=1"
        client.post(f"/v1/predictions/{body['id']}/cancel")


def test_cancel_and_cancel_again(server: Server) -> None:
    """Cancel ends a running prediction `canceled`; cancelling again changes nothing."""
    with server.client() as client:
        created = client.post(
            "/v1/models/acme/sleep/predictions", json={"input": {"seconds": 30}}
        ).json()
        time.sleep(0.5)
        canceled = client.post(f"/v1/predictions/{created['id']}/cancel").json()
        assert canceled["status"] == "canceled"
        again = client.post(f"/v1/predictions/{created['id']}/cancel")
        assert again.status_code == 200 and again.json()["status"] == "canceled"


def test_cancel_after_deadline(server: Server) -> None:
    """`Cancel-After: 5s` cancels a long prediction with a clear reason."""
    with server.client() as client:
        created = client.post(
            "/v1/models/acme/sleep/predictions",
            json={"input": {"seconds": 30}},
            headers={"Cancel-After": "5s"},
        ).json()
        assert created["deadline"]
        done = _wait_done(client, created["id"], timeout=15)
    assert done["status"] == "canceled"
    assert "Cancel-After" in done["error"]


def test_list_is_newest_first_with_absolute_next(server: Server) -> None:
    """GET /v1/predictions lists newest first, 100 a page, `next` an absolute URL."""
    with server.client() as client:
        ids = [
            client.post("/v1/models/acme/echo/predictions", json={"input": {}}).json()["id"]
            for _ in range(3)
        ]
        listed = client.get("/v1/predictions").json()
        assert [p["id"] for p in listed["results"][:3]] == ids[::-1]
        assert listed["next"] is None or listed["next"].startswith(server.url)


def test_file_output_url_works_without_auth(server: Server) -> None:
    """A Path output is a signed URL readable without a token; a tampered one is 404."""
    with server.client() as client:
        body = client.post(
            "/v1/models/acme/path_output/predictions",
            json={"input": {"text": "file body"}},
            headers={"Prefer": "wait"},
        ).json()
    url = body["output"]
    assert httpx.get(url).text == "file body"
    assert httpx.get(url.replace("signature=", "signature=x")).status_code == 404


def test_secret_inputs_are_masked(server: Server) -> None:
    """A Secret input is never returned."""
    with server.client() as client:
        body = client.post(
            "/v1/models/acme/secret_input/predictions",
            json={"input": {"token": "hunter2"}},
            headers={"Prefer": "wait"},
        ).json()
    assert body["input"]["token"] == "**********"
    assert "hunter2" not in str(body)


def test_uploaded_file_as_input_is_resolved_internally(server: Server) -> None:
    """A /v1/files URL passed as an input reaches the model without a fetch over HTTP."""
    with server.client() as client:
        uploaded = client.post(
            "/v1/files", files={"content": ("note.txt", b"uploaded bytes", "text/plain")}
        ).json()
        body = client.post(
            "/v1/models/acme/path_input/predictions",
            json={"input": {"image": uploaded["urls"]["get"]}},
            headers={"Prefer": "wait"},
        ).json()
    assert body["status"] == "succeeded", body
    assert body["output"].split("|")[1] == "uploaded bytes"


@pytest.mark.parametrize("prefix", ["", "/v1"])
def test_routes_answer_with_and_without_v1(server: Server, prefix: str) -> None:
    """Every route also answers without the /v1 prefix."""
    with server.client() as client:
        assert client.get(f"{prefix}/models/acme/echo").status_code == 200


def test_iterator_output_grows_while_running(server: Server) -> None:
    """Polling a streaming model shows an output list that only ever grows."""
    with server.client() as client:
        created = client.post(
            "/v1/models/acme/stream_tokens/predictions", json={"input": {"n": 6, "delay": 0.3}}
        ).json()
        lengths = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            body = client.get(f"/v1/predictions/{created['id']}").json()
            lengths.append(len(body["output"] or []))
            if body["status"] == "succeeded":
                break
            time.sleep(0.1)
    assert body["output"] == [f"tok{i} " for i in range(6)]
    assert lengths == sorted(lengths)
    assert any(0 < n < 6 for n in lengths)


def test_previous_link_walks_back(server: Server) -> None:
    """Following `next` then `previous` returns to the first page."""
    with server.client() as client:
        for _ in range(101):
            client.post("/v1/models/acme/echo/predictions", json={"input": {}})
        first = client.get("/v1/predictions").json()
        second = client.get(first["next"]).json()
        assert second["previous"].startswith(server.url)
        back = client.get(second["previous"]).json()
        assert [p["id"] for p in back["results"]] == [p["id"] for p in first["results"]]
