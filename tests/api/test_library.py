"""Stored models through a real server: POST/PATCH/DELETE /v1/models, DELETE of a version,
who may see and change them, and their survival across restarts (SQLite and PostgreSQL)."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from replicate.exceptions import ReplicateError

from foretell.packaging import pack_directory
from tests.server import Server, fixture_model, official_client, start_server
from tests.store.postgres_db import migrated_schema


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`foretell serve` with the echo fixture on the command line (as acme/echo)."""
    tmp = tmp_path_factory.mktemp("library")
    server = start_server(tmp / "data", [f"acme/echo={fixture_model(tmp, 'echo')}"])
    yield server
    server.stop()


@pytest.fixture
def http(server: Server) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def _token(server: Server, account: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "foretell", "tokens", "create", "--data-dir",
         str(server.data_dir), "--account", account],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return out.split()[-1]


@pytest.fixture(scope="module")
def bob_token(server: Server) -> str:
    return _token(server, "bob")


@pytest.fixture
def bob(server: Server, bob_token: str) -> Iterator[httpx.Client]:
    with server.client(bob_token) as client:
        yield client


def _me(http: httpx.Client) -> str:
    username: str = http.get("/v1/account").json()["username"]
    return username


def _create(http: httpx.Client, name: str, **fields: Any) -> dict[str, Any]:
    body = {"owner": _me(http), "name": name, "visibility": "private", "hardware": "cpu"}
    response = http.post("/v1/models", json={**body, **fields})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body


def _fields(response: httpx.Response) -> dict[str, str]:
    return {f["field"]: f["description"] for f in _problem(response, 422)["invalid_fields"]}


def _push(server: Server, http: httpx.Client, name: str) -> str:
    """Push the echo fixture as a version of the caller's `name`; its id once it is ready."""
    archive = pack_directory(fixture_model(server.data_dir.parent, "echo"))
    path = f"/v1/models/{_me(http)}/{name}/versions"
    response = http.post(path, content=archive, headers={"Content-Type": "application/gzip"})
    assert response.status_code in (200, 202), response.text
    build: dict[str, Any] = response.json()
    deadline = time.monotonic() + 120
    while build["status"] == "building":
        assert time.monotonic() < deadline, build
        time.sleep(0.1)
        build = http.get(f"{path}/{build['id']}/build").json()
    assert build["status"] == "ready", build
    version: str = build["id"]
    return version


def test_the_official_client_creates_gets_and_lists_a_model(server: Server) -> None:
    """replicate 1.0.7's models.create answers the new model (no versions yet), which
    models.get and models.list then show, with every field as given."""
    with official_client(server) as client:
        me = client.accounts.current().username
        made = client.models.create(
            owner=me, name="official", visibility="private", hardware="cpu",
            description="An example model", github_url="https://github.com/a/b",
            paper_url="https://arxiv.org/abs/1", license_url="https://mit.edu/license",
            cover_image_url="https://example.com/cover.png",
        )  # fmt: skip
        assert (made.owner, made.name, made.visibility) == (me, "official", "private")
        assert made.latest_version is None and made.run_count == 0
        assert made.description == "An example model"
        got = client.models.get(f"{me}/official")
        assert got.dict() == made.dict()
        listed = {m.id for m in client.models.list().results}
        assert {f"{me}/official", "acme/echo"} <= listed
        assert got.versions.list().results == []
        assert client.models.get("acme/echo").latest_version is not None  # the others stay


def test_invalid_create_bodies_are_422_naming_each_field(http: httpx.Client) -> None:
    """Missing required fields, wrong types, bad names, visibility, hardware, URLs and
    unknown fields are 422s naming each field; nothing is created."""
    me = _me(http)
    assert set(_fields(http.post("/v1/models", json={}))) == {
        "owner", "name", "visibility", "hardware",
    }  # fmt: skip
    base = {"owner": me, "name": "ok", "visibility": "private", "hardware": "cpu"}
    cases: dict[str, list[Any]] = {
        "name": ["Upper", "-dash", "a/b", "x" * 101, "", 5],
        "visibility": ["secret", None],
        "hardware": ["gpu-none-such", None],
        "github_url": ["ftp://x", "not a url", 3],
        "description": [["list"]],
        "colour": ["blue"],
    }
    for field, values in cases.items():
        for value in values:
            problem = _fields(http.post("/v1/models", json={**base, field: value}))
            assert field in problem, (field, value, problem)
    assert (
        "gpu-none-such"
        in _fields(http.post("/v1/models", json={**base, "hardware": "gpu-none-such"}))["hardware"]
    )
    _problem(http.post("/v1/models", content=b"[1]"), 400)
    _problem(http.get(f"/v1/models/{me}/ok"), 404)


def test_another_owner_is_403_and_a_taken_name_is_409(server: Server, http: httpx.Client) -> None:
    """A model must be the caller's own (403); a name the caller has, or one a command-line
    model serves, is 409 and changes nothing."""
    me = _me(http)
    body = {"name": "taken", "visibility": "private", "hardware": "cpu"}
    assert "bob" in _problem(http.post("/v1/models", json={**body, "owner": "bob"}), 403)["detail"]
    first = _create(http, "taken", description="first")
    again = http.post("/v1/models", json={**body, "owner": me, "description": "second"})
    assert "already exists" in _problem(again, 409)["detail"]
    assert http.get(f"/v1/models/{me}/taken").json() == first
    with server.client(_token(server, "acme")) as acme:
        clash = acme.post("/v1/models", json={**body, "owner": "acme", "name": "echo"})
        assert "command line" in _problem(clash, 409)["detail"]
        assert acme.get("/v1/models/acme/echo").json()["latest_version"] is not None
        patched = acme.patch("/v1/models/acme/echo", json={"description": "mine now"})
        assert "command line" in _problem(patched, 403)["detail"]
        _problem(acme.delete("/v1/models/acme/echo"), 403)


def test_another_accounts_private_model_is_404_everywhere(
    http: httpx.Client, bob: httpx.Client
) -> None:
    """Bob can't see, list, search, change, delete or run another account's private model:
    each answers as for a model that doesn't exist."""
    me = _me(http)
    _create(http, "hidden", description="zebra-striped secret")
    url = f"/v1/models/{me}/hidden"
    for path in ("", "/versions", "/versions/" + "a" * 64, "/readme", "/examples"):
        _problem(bob.get(url + path), 404)
    for method in ("PATCH", "DELETE"):
        _problem(bob.request(method, url, json={"description": "x"}), 404)
    _problem(bob.delete(f"{url}/versions/{'a' * 64}"), 404)
    _problem(bob.post(f"{url}/predictions", json={"input": {}}), 404)
    assert f"{me}/hidden" not in {
        m["owner"] + "/" + m["name"] for m in bob.get("/v1/models").json()["results"]
    }
    assert bob.get("/v1/search", params={"query": "zebra"}).json()["models"] == []
    assert [
        m["model"]["name"]
        for m in http.get("/v1/search", params={"query": "zebra"}).json()["models"]
    ] == ["hidden"]
    assert bob.request("QUERY", "/v1/models", content=b"zebra").json()["results"] == []


def test_another_accounts_public_model_is_seen_but_not_changed(
    http: httpx.Client, bob: httpx.Client
) -> None:
    """Bob sees a public model (get, list, search) and gets 403 when he changes or
    deletes it."""
    me = _me(http)
    made = _create(http, "shown", visibility="public", description="okapi")
    assert bob.get(f"/v1/models/{me}/shown").json() == made
    assert bob.get("/v1/search", params={"query": "okapi"}).json()["models"][0]["model"] == made
    for method in ("PATCH", "DELETE"):
        response = bob.request(method, f"/v1/models/{me}/shown", json={"description": "x"})
        assert "another account" in _problem(response, 403)["detail"]
    assert http.get(f"/v1/models/{me}/shown").json() == made


def test_patch_changes_the_named_fields_only(http: httpx.Client) -> None:
    """PATCH sets Replicate's fields (readme served at .../readme, null clears one), keeps
    the rest, may change the visibility (foretell's), and 422s anything else unchanged."""
    me = _me(http)
    made = _create(http, "patched", description="before", github_url="https://github.com/a/b")
    url = f"/v1/models/{me}/patched"
    _problem(http.get(f"{url}/readme"), 404)
    response = http.patch(
        url,
        json={"description": "after", "readme": "# Patched\n", "github_url": None,
              "paper_url": "https://arxiv.org/abs/2", "weights_url": "https://hf.co/a/b",
              "license_url": "https://mit.edu/l"},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched == {
        **made, "description": "after", "github_url": None,
        "paper_url": "https://arxiv.org/abs/2", "license_url": "https://mit.edu/l",
    }  # fmt: skip
    assert http.get(url).json() == patched
    assert http.get(f"{url}/readme").text == "# Patched\n"
    assert http.patch(url, json={"visibility": "public"}).json()["visibility"] == "public"
    for bad in ({"name": "renamed"}, {"hardware": "cpu"}, {"visibility": None},
                {"visibility": "hidden"}, {"paper_url": "nope"}, {"readme": 7}):  # fmt: skip
        assert set(_fields(http.patch(url, json=bad))) == set(bad)
    assert http.get(url).json() == {**patched, "visibility": "public"}
    _problem(http.patch(f"/v1/models/{me}/none-such", json={}), 404)


def test_deleting_a_model_follows_replicates_rules(server: Server, http: httpx.Client) -> None:
    """Only a private model without versions is deleted (204, then 404, and its name is
    free); a public one or one with a version is 409 and stays."""
    me = _me(http)
    _create(http, "short-lived", visibility="public")
    url = f"/v1/models/{me}/short-lived"
    assert "private" in _problem(http.delete(url), 409)["detail"]
    http.patch(url, json={"visibility": "private"})
    version = _push(server, http, "short-lived")
    assert version in _problem(http.delete(url), 409)["detail"]
    assert http.delete(f"{url}/versions/{version}").status_code == 204
    response = http.delete(url)
    assert response.status_code == 204 and response.content == b""
    _problem(http.get(url), 404)
    _problem(http.delete(url), 404)
    _create(http, "short-lived")


def test_a_pushed_version_shows_runs_and_is_deleted_with_the_official_client(
    server: Server, http: httpx.Client, bob: httpx.Client
) -> None:
    """A ready pushed version is the model's latest_version and its one listed version;
    the owner runs it by owner/name:id (bob can't: it is private); versions.delete is
    True and the version is gone; a public model's versions can't be deleted (409)."""
    me = _me(http)
    _create(http, "pushed")
    version = _push(server, http, "pushed")
    with official_client(server) as client:
        model = client.models.get(f"{me}/pushed")
        assert model.latest_version is not None and model.latest_version.id == version
        assert (
            "text"
            in model.latest_version.openapi_schema["components"]["schemas"]["Input"]["properties"]
        )
        assert [v.id for v in model.versions.list().results] == [version]
        assert model.versions.get(version).id == version
        assert client.run(f"{me}/pushed:{version}", input={"text": "stored"}) == "stored"
        refused = bob.post("/v1/predictions", json={"version": version, "input": {"text": "x"}})
        assert _problem(refused, 422)["title"] == "Invalid version or not permitted"
        _problem(bob.post(f"/v1/models/{me}/pushed/predictions", json={"input": {}}), 404)
        http.patch(f"/v1/models/{me}/pushed", json={"visibility": "public"})
        assert (
            "private"
            in _problem(http.delete(f"/v1/models/{me}/pushed/versions/{version}"), 409)["detail"]
        )
        http.patch(f"/v1/models/{me}/pushed", json={"visibility": "private"})
        assert client.models.get(f"{me}/pushed").versions.delete(version) is True
        with pytest.raises(ReplicateError) as gone:
            model.versions.get(version)
        assert gone.value.status == 404
        assert client.models.get(f"{me}/pushed").latest_version is None
    _problem(http.delete(f"/v1/models/{me}/pushed/versions/{version}"), 404)
    _problem(http.delete(f"/v1/models/acme/echo/versions/{version}"), 403)


def _survives_restart(tmp_path: pathlib.Path, *database: str) -> None:
    model = f"acme/echo={fixture_model(tmp_path, 'echo')}"
    first = start_server(tmp_path / "data", [model], *database)
    try:
        with first.client() as http:
            me = _me(http)
            _create(http, "durable", visibility="public", description="kept")
            kept = http.patch(f"/v1/models/{me}/durable", json={"readme": "# Kept"}).json()
    finally:
        first.stop()
    second = start_server(tmp_path / "data", [model], *database, token=first.token)
    try:
        with second.client() as http:
            again = http.get(f"/v1/models/{me}/durable").json()
            assert again == {**kept, "url": f"{second.url}/v1/models/{me}/durable"}  # new port
            assert http.get(f"/v1/models/{me}/durable/readme").text == "# Kept"
            assert http.delete(f"/v1/models/{me}/durable").status_code == 409  # still public
    finally:
        second.stop()


def test_stored_models_survive_a_restart_on_sqlite(tmp_path: pathlib.Path) -> None:
    """A created and patched model is there, unchanged, after a restart (SQLite)."""
    _survives_restart(tmp_path)


def test_stored_models_survive_a_restart_on_postgresql(tmp_path: pathlib.Path) -> None:
    """The same on PostgreSQL (a scratch schema, migrated to the newest revision)."""
    with migrated_schema() as url:
        _survives_restart(tmp_path, "--database", url)
