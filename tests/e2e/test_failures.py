"""Through a real server: a prediction always ends, whatever step fails or is canceled."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from tests.server import Server, fixture_model, start_server, wait_done


class Silent:
    """A TCP server that accepts connections and never answers (an input URL that hangs)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = threading.Event()
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)
            self.accepted.set()

    def close(self) -> None:
        for conn in self.held:
            conn.close()
        self.sock.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("failures")
    models = [
        f"acme/missing={fixture_model(tmp, 'missing_output')}",
        f"acme/path={fixture_model(tmp, 'path_input')}",
    ]
    server = start_server(tmp / "data", models, "--allow-private-urls")
    yield server
    server.stop()


def test_an_output_file_that_is_missing_fails_the_prediction(server: Server) -> None:
    """A model returning a path that doesn't exist ends failed with the reason, not processing."""
    with server.client() as client:
        created = client.post("/v1/models/acme/missing/predictions", json={"input": {}})
        done = wait_done(client, created.json()["id"], 30)
    assert done["status"] == "failed"
    assert "No such file or directory" in done["error"]


def test_an_input_that_cannot_be_downloaded_fails_the_prediction(server: Server) -> None:
    """A file input URL nobody answers at (connection refused) fails with the URL named."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{closed.getsockname()[1]}/page.png"
    closed.close()
    with server.client() as client:
        created = client.post("/v1/models/acme/path/predictions", json={"input": {"image": url}})
        done = wait_done(client, created.json()["id"], 60)
    assert done["status"] == "failed"
    assert f"Could not download the input file {url}" in done["error"]


def test_cancel_while_an_input_downloads_ends_the_prediction(server: Server) -> None:
    """Cancel reaches a prediction whose input is still downloading: it ends canceled."""
    silent = Silent()
    try:
        url = f"http://127.0.0.1:{silent.port}/slow.png"
        with server.client() as client:
            created = client.post(
                "/v1/models/acme/path/predictions", json={"input": {"image": url}}
            )
            assert created.status_code == 201, created.text
            assert silent.accepted.wait(30)  # the download is under way
            canceled = client.post(f"/v1/predictions/{created.json()['id']}/cancel")
            assert canceled.json()["status"] == "canceled"
            assert wait_done(client, created.json()["id"], 30)["status"] == "canceled"
    finally:
        silent.close()
