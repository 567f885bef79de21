"""Bad requests get clear 4xx problem-details responses; nothing is created by them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.server import Server


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


def test_missing_and_wrong_tokens_are_401(server: Server) -> None:
    """No token, a wrong token or a wrong scheme: 401 with Replicate's body."""
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic x"}):
        body = _problem(httpx.get(f"{server.url}/v1/predictions", headers=headers), 401)
        assert body["title"] == "Unauthenticated"


def test_token_scheme_is_accepted(server: Server) -> None:
    """The legacy `Token` scheme works like `Bearer`."""
    response = httpx.get(
        f"{server.url}/v1/account", headers={"Authorization": f"Token {server.token}"}
    )
    assert response.json()["username"] == "local"


def test_input_errors_are_422_with_invalid_fields(server: Server) -> None:
    """Each bad input is listed in invalid_fields, Replicate's way."""
    with server.client() as client:
        response = client.post(
            "/v1/models/acme/stream_tokens/predictions",
            json={"input": {"n": "many", "delay": -1}},
        )
        body = _problem(response, 422)
        assert body["title"] == "Input validation failed"
        fields = {f["field"]: f for f in body["invalid_fields"]}
        assert fields["input.n"]["type"] == "invalid_type"
        assert fields["input.delay"]["type"] == "number_gte"
        before = client.get("/v1/predictions").json()["results"]
        assert all(p["input"] != {"n": "many", "delay": -1} for p in before)


def test_required_input_names_the_field(server: Server) -> None:
    """A missing required input is reported on `input` with its name."""
    with server.client() as client:
        body = _problem(
            client.post("/v1/models/acme/secret_input/predictions", json={"input": {}}), 422
        )
    assert body["invalid_fields"] == [
        {"type": "required", "field": "input", "description": "token is required"}
    ]


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"{not json", 400),
        (b"[1, 2]", 400),
        (b"", 400),
        (b'{"version": "acme/echo", "input": {}, "surprise": 1}', 422),
        (b'{"input": {}}', 422),
        (b'{"version": "acme/nope", "input": {}}', 422),
        (b'{"version": "acme/echo:latest", "input": {}}', 422),
        (b'{"version": "acme/echo", "input": "text"}', 422),
        (b'{"version": "acme/echo", "input": {}, "webhook_events_filter": ["sometimes"]}', 422),
    ],
)
def test_bad_bodies(server: Server, payload: bytes, status: int) -> None:
    """Malformed or invalid bodies are 400 or 422, never 500."""
    with server.client() as client:
        _problem(client.post("/v1/predictions", content=payload), status)


def test_bad_cancel_after(server: Server) -> None:
    """An unparsable or too short Cancel-After is a 422 naming the header."""
    with server.client() as client:
        for value in ("soon", "2s"):
            body = _problem(
                client.post(
                    "/v1/models/acme/echo/predictions",
                    json={"input": {}},
                    headers={"Cancel-After": value},
                ),
                422,
            )
            assert body["invalid_fields"][0]["field"] == "Cancel-After"


def test_local_path_file_input_is_refused(server: Server) -> None:
    """A server path as a file input is refused at creation."""
    with server.client() as client:
        body = _problem(
            client.post(
                "/v1/models/acme/path_input/predictions", json={"input": {"image": "/etc/passwd"}}
            ),
            422,
        )
    assert body["invalid_fields"][0]["field"] == "input.image"


def test_oversized_data_uri_is_422(server: Server) -> None:
    """A data: URI over 10 MB is refused, pointing at the Files API."""
    uri = "data:text/plain;base64," + "QUFB" * 2_600_000
    with server.client() as client:
        body = _problem(
            client.post("/v1/models/acme/path_input/predictions", json={"input": {"image": uri}}),
            422,
        )
    assert "POST /v1/files" in body["invalid_fields"][0]["description"]


def test_unknown_things_are_404(server: Server) -> None:
    """Unknown prediction, model, version, file and route: 404."""
    with server.client() as client:
        for path in (
            "/v1/predictions/nope",
            "/v1/models/acme/nope",
            "/v1/models/acme/echo/versions/abc",
            "/v1/files/nope",
            "/v1/nothing-here",
        ):
            _problem(client.get(path), 404)
        _problem(client.post("/v1/models/acme/nope/predictions", json={"input": {}}), 404)


def test_oversized_body_is_413(server: Server) -> None:
    """A body over the limit is refused before it is read whole."""
    with server.client() as client:
        big = b'{"input": {"text": "' + b"x" * (101 * 1024 * 1024) + b'"}}'
        _problem(client.post("/v1/models/acme/echo/predictions", content=big), 413)


def test_other_accounts_predictions_are_invisible(server: Server) -> None:
    """A token of another account gets 404 for this account's prediction."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "foretell", "tokens", "create", "--data-dir", str(server.data_dir),
         "--account", "acme"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    other = out.split()[-1]
    with server.client() as client:
        mine = client.post("/v1/models/acme/echo/predictions", json={"input": {}}).json()
    with server.client(other) as client:
        _problem(client.get(f"/v1/predictions/{mine['id']}"), 404)
        assert all(p["id"] != mine["id"] for p in client.get("/v1/predictions").json()["results"])
        assert client.get("/v1/account").json()["username"] == "acme"


_MALFORMED_URLS = [
    "https://[::1",
    "https://[zzz]/",
    "https://exa mple.com/a.txt",
    "https://" + "a" * 100_000 + "/a.txt",
    "https://example.com:0/a.txt",
    "https://example.com:65536/a.txt",
    "https://example.com:99999999999/a.txt",
    "https://[::127.0.0.1]/a.txt",
    "https://[fec0::1]/a.txt",
]


@pytest.mark.parametrize("url", _MALFORMED_URLS)
def test_malformed_webhook_is_422_and_creates_nothing(server: Server, url: str) -> None:
    """A webhook URL with a broken or refused host or port is a 422 on `webhook`."""
    with server.client() as client:
        before = {p["id"] for p in client.get("/v1/predictions").json()["results"]}
        body = _problem(
            client.post("/v1/models/acme/echo/predictions", json={"input": {}, "webhook": url}),
            422,
        )
        assert [f["field"] for f in body["invalid_fields"]] == ["webhook"]
        assert {p["id"] for p in client.get("/v1/predictions").json()["results"]} == before


@pytest.mark.parametrize("url", _MALFORMED_URLS)
def test_malformed_file_input_url_is_422(server: Server, url: str) -> None:
    """A file input URL with a broken or refused host or port is a 422 on that input."""
    with server.client() as client:
        body = _problem(
            client.post("/v1/models/acme/path_input/predictions", json={"input": {"image": url}}),
            422,
        )
    assert [f["field"] for f in body["invalid_fields"]] == ["input.image"]


def test_own_looking_url_with_a_bad_port_is_422(server: Server) -> None:
    """A /v1/files URL of this server's host with a port out of range is a 422, not a
    lookup."""
    url = server.url.rsplit(":", 1)[0] + ":70000/v1/files/abc"
    with server.client() as client:
        body = _problem(
            client.post("/v1/models/acme/path_input/predictions", json={"input": {"image": url}}),
            422,
        )
    assert body["invalid_fields"][0]["field"] == "input.image"
