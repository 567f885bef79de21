"""`foretell tokens create|list|revoke` on a server's data directory."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import httpx
import pytest

from tests.cli.remote import foretell
from tests.server import Server, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("tokens")
    started = start_server(tmp / "data", ["foretell/hello"])
    yield started
    started.stop()


def test_create_on_a_new_data_dir_says_so(tmp_path: pathlib.Path) -> None:
    """A data dir without a database gets one, and the output says no server has used it."""
    data = tmp_path / "typo"
    result = foretell(None, "tokens", "create", "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1].startswith("r8_")
    assert f"created a new data dir at {data.resolve()}; no server has used it yet" in (
        result.stderr.replace("\n", " ")
    )
    again = foretell(None, "tokens", "create", "--data-dir", str(data))
    assert "new data dir" not in again.stderr


def test_list_then_revoke_stops_the_token_working(server: Server) -> None:
    """A created token works; list shows it by id; after revoke the API answers 401."""
    created = foretell(
        None, "tokens", "create", "--data-dir", str(server.data_dir), "--account", "ann"
    )
    token = created.stdout.split()[-1]
    with server.client(token) as http:
        assert http.get("/v1/account").status_code == 200
    listed = foretell(None, "tokens", "list", "--data-dir", str(server.data_dir))
    assert listed.stdout.count("ann") == 1 and "local" in listed.stdout
    assert token not in listed.stdout  # only hashes are stored
    revoked = foretell(None, "tokens", "revoke", token, "--data-dir", str(server.data_dir))
    assert revoked.returncode == 0, revoked.stderr
    with server.client(token) as http:
        assert http.get("/v1/account").status_code == 401
    with server.client() as http:  # the others still work
        assert http.get("/v1/account").status_code == 200


def test_revoke_by_id_and_bad_ids(server: Server) -> None:
    """revoke takes the id `list` shows; an unknown or too-short id is refused."""
    token = foretell(None, "tokens", "create", "--data-dir", str(server.data_dir)).stdout.split()[
        -1
    ]
    listed = foretell(None, "tokens", "list", "--data-dir", str(server.data_dir)).stdout
    before = {line.split()[1] for line in listed.splitlines() if line.startswith("│")}
    result = foretell(None, "tokens", "revoke", "abc", "--data-dir", str(server.data_dir))
    assert result.returncode == 2 and "at least 8" in result.stderr
    unknown = foretell(None, "tokens", "revoke", "0" * 12, "--data-dir", str(server.data_dir))
    assert unknown.returncode == 1 and "No such token" in unknown.stderr
    with server.client(token) as http:
        assert http.get("/v1/account").status_code == 200
    import hashlib

    token_id = hashlib.sha256(token.encode()).hexdigest()[:12]
    assert token_id in before
    assert (
        foretell(None, "tokens", "revoke", token_id, "--data-dir", str(server.data_dir)).returncode
        == 0
    )
    assert (
        httpx.get(
            server.url + "/v1/account", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 401
    )


def test_list_of_a_missing_data_dir_is_an_error(tmp_path: pathlib.Path) -> None:
    """list on a path no server has used says so instead of creating it."""
    result = foretell(None, "tokens", "list", "--data-dir", str(tmp_path / "nope"))
    assert result.returncode == 1 and "No database" in result.stderr
    assert not (tmp_path / "nope").exists()
