"""`foretell tokens create|list|revoke` on a server's data directory or --database."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import httpx
import pytest

from tests.cli.remote import foretell
from tests.server import Server, fixture_model, start_server

#: the server forgets tokens at once, so a revoke acts on the next request (the default
#: 5 s cache is tests/api/test_auth.py's, on a manual clock)
NO_TOKEN_CACHE = {"FORETELL_TOKEN_CACHE_TTL_S": "0"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("tokens")
    started = start_server(tmp / "data", ["foretell/hello"], env=NO_TOKEN_CACHE)
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


def test_a_token_made_with_database_works_on_a_server_given_that_url(
    tmp_path: pathlib.Path,
) -> None:
    """`tokens create --database URL` and `serve --database URL --files URL`: one database,
    wherever the data dir is; uploads land under --files."""
    database = f"sqlite://{tmp_path}/db/foretell.db"
    created = foretell(None, "tokens", "create", "--database", database, "--account", "ann")
    assert created.returncode == 0, created.stderr
    assert "created a new database at" in created.stderr
    assert not (tmp_path / "data").exists()
    token = created.stdout.split()[-1]
    model = fixture_model(tmp_path, "echo")
    files = tmp_path / "shared files"
    server = start_server(
        tmp_path / "data", [str(model)], "--database", database, "--files", files.as_uri(),
        token=token,
    )  # fmt: skip
    try:
        with server.client(token) as http:
            assert http.get("/v1/account").json()["username"] == "ann"
            upload = http.post("/v1/files", files={"content": ("a.txt", b"hi")})
            assert upload.status_code == 201, upload.text
        assert [p.read_bytes() for p in files.rglob("a.txt")] == [b"hi"]
        assert not (tmp_path / "data" / "foretell.db").exists()
    finally:
        server.stop()
    listed = foretell(None, "tokens", "list", "--database", database)
    assert listed.returncode == 0 and "ann" in listed.stdout


def test_database_urls_that_cant_be_used_exit_2(tmp_path: pathlib.Path) -> None:
    """A URL that names no server, or a bad URL, is refused with what to give."""
    later = foretell(None, "tokens", "create", "--database", "postgresql:///foretell")
    assert later.returncode == 2
    assert "names no server; use sqlite:///" in " ".join(later.stderr.split())
    relative = foretell(None, "tokens", "list", "--database", "sqlite://x.db")
    assert relative.returncode == 2 and "read as a host" in relative.stderr
    missing = foretell(None, "tokens", "list", "--database", f"sqlite://{tmp_path}/none.db")
    assert missing.returncode == 1 and "No database" in missing.stderr
    assert not (tmp_path / "none.db").exists()


def test_database_comes_from_the_environment_too(tmp_path: pathlib.Path) -> None:
    """FORETELL_DATABASE is --database (a URL with a password stays out of `ps`)."""
    url = f"sqlite://{tmp_path}/env.db"
    created = foretell(None, "tokens", "create", cwd=tmp_path, FORETELL_DATABASE=url)
    assert created.returncode == 0, created.stderr
    assert (tmp_path / "env.db").is_file() and not (tmp_path / ".foretell").exists()


def test_tokens_on_a_cluster_database() -> None:
    """`tokens create`/`list` work on PostgreSQL (its tables are made on first use); one that
    can't be reached is a one-line error, exit 1."""
    from tests.cluster.cluster import create_database, drop_database

    database = create_database()
    try:
        made = foretell(None, "tokens", "create", "--database", database, "--account", "ann")
        assert made.returncode == 0 and made.stdout.split()[-1].startswith("r8_"), made.stderr
        listed = foretell(None, "tokens", "list", "--database", database)
        assert listed.returncode == 0 and "ann" in listed.stdout
    finally:
        drop_database(database)
    down = foretell(None, "tokens", "list", "--database", "postgresql://u@127.0.0.1:1/x")
    assert down.returncode == 1 and "can't be reached" in down.stderr
