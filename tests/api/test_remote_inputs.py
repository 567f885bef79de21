"""File inputs given as URLs are fetched by the server, through the guard."""

from __future__ import annotations

import http.server
import pathlib
import threading
from collections.abc import Iterator

import pytest

from tests.server import fixture_model, start_server


class _Files(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/note.txt" else 404)
        self.end_headers()
        self.wfile.write(b"remote bytes")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def file_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_private_urls_are_refused_at_creation(tmp_path: pathlib.Path, file_server: str) -> None:
    """By default a loopback file URL is a 422 naming the input; nothing is created."""
    server = start_server(tmp_path / "data", [f"acme/in={fixture_model(tmp_path, 'path_input')}"])
    try:
        with server.client() as client:
            response = client.post(
                "/v1/models/acme/in/predictions",
                json={"input": {"image": f"{file_server}/note.txt"}},
            )
            assert response.status_code == 422
            assert response.json()["invalid_fields"][0]["field"] == "input.image"
            assert client.get("/v1/predictions").json()["results"] == []
    finally:
        server.stop()


def test_allowed_urls_are_downloaded_by_the_server(
    tmp_path: pathlib.Path, file_server: str
) -> None:
    """With --allow-private-urls the server downloads the file and the model reads it;
    a URL that fails is a clear prediction error."""
    model = f"acme/in={fixture_model(tmp_path, 'path_input')}"
    server = start_server(tmp_path / "data", [model, "--allow-private-urls"])
    try:
        assert any("--allow-private-urls" in line for line in server.output)
        with server.client() as client:
            ok = client.post(
                "/v1/models/acme/in/predictions",
                json={"input": {"image": f"{file_server}/note.txt"}},
                headers={"Prefer": "wait"},
            ).json()
            assert ok["status"] == "succeeded", ok
            assert ok["output"].split("|")[1] == "remote bytes"
            missing = client.post(
                "/v1/models/acme/in/predictions",
                json={"input": {"image": f"{file_server}/missing.txt"}},
                headers={"Prefer": "wait"},
            ).json()
            assert missing["status"] == "failed"
            assert "HTTP 404" in missing["error"]
    finally:
        server.stop()
