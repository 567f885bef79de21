"""The Deployments API through a real `foretell serve`: plain HTTP for every route and error,
restart survival, and the official Python client's deployment calls, unchanged."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from replicate.exceptions import ReplicateError

from tests.cluster.cluster import Cluster, cluster, wait_for_model
from tests.server import Server, fixture_model, official_client, start_server

__all__ = ["cluster"]  # the fixture


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`foretell serve` with the echo and sleep fixtures."""
    tmp = tmp_path_factory.mktemp("deployments")
    models = [f"acme/{name}={fixture_model(tmp, name)}" for name in ("echo", "sleep")]
    server = start_server(tmp / "data", models)
    yield server
    server.stop()


@pytest.fixture
def http(server: Server) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def _version(http: httpx.Client, model: str = "acme/echo") -> str:
    version: str = http.get(f"/v1/models/{model}").json()["latest_version"]["id"]
    return version


def _account(http: httpx.Client) -> str:
    username: str = http.get("/v1/account").json()["username"]
    return username


def _body(http: httpx.Client, name: str, **changes: Any) -> dict[str, Any]:
    body = {
        "name": name, "model": "acme/echo", "hardware": "cpu", "min_instances": 0,
        "max_instances": 2,
    }  # fmt: skip
    if "version" not in changes:
        body["version"] = _version(http)
    return {**body, **changes}


def _create(http: httpx.Client, name: str, **changes: Any) -> dict[str, Any]:
    response = http.post("/v1/deployments", json=_body(http, name, **changes))
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body


def _fields(response: httpx.Response) -> dict[str, str]:
    problem = _problem(response, 422)
    return {f["field"]: f["description"] for f in problem["invalid_fields"]}


def test_create_returns_the_deployment_in_replicates_shape(http: httpx.Client) -> None:
    """POST /v1/deployments answers 200 with owner, name and release 1 with its model,
    version, creator and configuration; GET returns the same."""
    me = _account(http)
    created = _create(http, "shape")
    release = created["current_release"]
    assert created["owner"] == me and created["name"] == "shape"
    assert release["number"] == 1
    assert release["model"] == "acme/echo" and release["version"] == _version(http)
    assert release["created_at"].endswith("Z")
    assert release["created_by"] == {"type": "user", "username": me, "name": me}
    assert release["configuration"] == {"hardware": "cpu", "min_instances": 0, "max_instances": 2}
    assert http.get(f"/v1/deployments/{me}/shape").json() == created
    assert http.get(f"/deployments/{me}/shape").json() == created  # without /v1 too


def test_update_makes_the_next_release_and_keeps_what_it_does_not_name(
    http: httpx.Client,
) -> None:
    """Each PATCH is release n+1 with the fields it names changed and the others kept."""
    me = _account(http)
    _create(http, "patched")
    first = http.patch(f"/v1/deployments/{me}/patched", json={"max_instances": 5})
    assert first.status_code == 200, first.text
    release = first.json()["current_release"]
    assert release["number"] == 2
    assert release["configuration"] == {"hardware": "cpu", "min_instances": 0, "max_instances": 5}
    second = http.patch(
        f"/v1/deployments/{me}/patched",
        json={"min_instances": 1, "version": _version(http), "hardware": "cpu"},
    ).json()["current_release"]
    assert second["number"] == 3
    assert second["configuration"] == {"hardware": "cpu", "min_instances": 1, "max_instances": 5}
    assert http.get(f"/v1/deployments/{me}/patched").json()["current_release"] == second


def test_list_is_the_callers_newest_first_with_pages(http: httpx.Client) -> None:
    """GET /v1/deployments pages newest first; `next` is an absolute URL to the rest."""
    for n in range(3):
        _create(http, f"listed-{n}")
    page = http.get("/v1/deployments", params={"limit": 2}).json()
    assert [d["name"] for d in page["results"]] == ["listed-2", "listed-1"]
    assert page["previous"] is None and page["next"].startswith("http://127.0.0.1")
    rest = http.get(page["next"]).json()
    assert rest["results"][0]["name"] == "listed-0"
    _problem(http.get("/v1/deployments", params={"cursor": "nope"}), 400)
    assert _fields(http.get("/v1/deployments", params={"limit": 0})) == {
        "limit": "must be from 1 to 100 (got 0)"
    }


def test_delete_answers_204_and_then_404(http: httpx.Client) -> None:
    """DELETE removes the deployment: 204, then 404 for it and its predictions; the name
    can be used again."""
    me = _account(http)
    _create(http, "doomed")
    deleted = http.delete(f"/v1/deployments/{me}/doomed")
    assert deleted.status_code == 204 and deleted.content == b""
    _problem(http.get(f"/v1/deployments/{me}/doomed"), 404)
    _problem(http.delete(f"/v1/deployments/{me}/doomed"), 404)
    _problem(http.patch(f"/v1/deployments/{me}/doomed", json={}), 404)
    _problem(http.post(f"/v1/deployments/{me}/doomed/predictions", json={"input": {}}), 404)
    assert _create(http, "doomed")["current_release"]["number"] == 1


def test_a_taken_name_is_409(http: httpx.Client) -> None:
    """Creating a deployment of a name the account has already is 409 Conflict."""
    _create(http, "twice")
    problem = _problem(http.post("/v1/deployments", json=_body(http, "twice")), 409)
    assert "already have a deployment" in problem["detail"]


def test_invalid_create_bodies_are_422_naming_each_field(http: httpx.Client) -> None:
    """Missing, unknown, mistyped and out-of-range fields are 422 with invalid_fields."""
    assert set(_fields(http.post("/v1/deployments", json={}))) == {
        "name", "model", "version", "hardware", "min_instances", "max_instances",
    }  # fmt: skip
    unknown = _fields(http.post("/v1/deployments", json=_body(http, "x", colour="red")))
    assert unknown == {"colour": "Additional property colour is not allowed"}
    typed = _fields(
        http.post("/v1/deployments", json={**_body(http, "x", min_instances="1"), "name": 3})
    )
    assert set(typed) == {"min_instances", "name"}
    assert set(_fields(http.post("/v1/deployments", json=_body(http, "x", max_instances=True))))
    cases = {
        "model": _body(http, "x", model="acme/missing"),
        "version": _body(http, "x", version="0" * 64),
        "hardware": _body(http, "x", hardware="gpu-h100"),
        "name": _body(http, "Bad Name"),
    }
    for field, body in cases.items():
        assert field in _fields(http.post("/v1/deployments", json=body)), field
    assert (
        "GET /v1/hardware"
        in _fields(http.post("/v1/deployments", json=cases["hardware"]))["hardware"]
    )
    backwards = _fields(http.post("/v1/deployments", json=_body(http, "x", min_instances=3)))
    assert backwards == {"min_instances": "must be <= max_instances (3 > 2)"}
    negative = _fields(http.post("/v1/deployments", json=_body(http, "x", min_instances=-1)))
    assert negative == {"min_instances": "must be between 0 and 1000 (got -1)"}
    huge = _fields(http.post("/v1/deployments", json=_body(http, "x", max_instances=10**30)))
    assert "max_instances" in huge
    _problem(http.post("/v1/deployments", content=b"[1, 2]"), 400)
    assert http.get(f"/v1/deployments/{_account(http)}/x").status_code == 404  # none made


def test_a_name_may_carry_the_callers_own_prefix_only(http: httpx.Client) -> None:
    """`me/name` creates `name`; another owner's prefix is 422 (a deployment is the
    caller's)."""
    me = _account(http)
    assert _create(http, f"{me}/prefixed")["name"] == "prefixed"
    fields = _fields(http.post("/v1/deployments", json=_body(http, "someone-else/x")))
    assert "your account" in fields["name"]


def test_invalid_updates_are_422_and_change_nothing(http: httpx.Client) -> None:
    """A PATCH with a bad field is 422 and leaves the release as it was."""
    me = _account(http)
    _create(http, "strict")
    url = f"/v1/deployments/{me}/strict"
    assert "min_instances" in _fields(http.patch(url, json={"min_instances": 9}))
    assert "version" in _fields(http.patch(url, json={"version": "nope"}))
    assert "hardware" in _fields(http.patch(url, json={"hardware": "gpu-t4"}))
    assert "model" in _fields(http.patch(url, json={"model": "acme/sleep"}))
    assert http.get(url).json()["current_release"]["number"] == 1


def test_another_accounts_deployments_are_invisible(server: Server, http: httpx.Client) -> None:
    """Another account gets 404 for this account's deployments, lists none of them, and
    can use the same name for its own."""
    me = _account(http)
    _create(http, "private")
    out = subprocess.run(
        [sys.executable, "-m", "foretell", "tokens", "create", "--data-dir",
         str(server.data_dir), "--account", "bob"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    with server.client(out.split()[-1]) as bob:
        for method in ("GET", "PATCH", "DELETE"):
            _problem(bob.request(method, f"/v1/deployments/{me}/private", json={}), 404)
        _problem(bob.post(f"/v1/deployments/{me}/private/predictions", json={}), 404)
        assert bob.get("/v1/deployments").json()["results"] == []
        theirs = _create(bob, "private")
        assert theirs["owner"] == "bob"
    assert http.get(f"/v1/deployments/{me}/private").json()["owner"] == me


def test_a_prediction_through_a_deployment_runs_its_release(http: httpx.Client) -> None:
    """POST .../predictions runs the release's model version as the models endpoint does
    (Prefer: wait, 201, Location) and says which deployment made it."""
    me = _account(http)
    _create(http, "runner")
    response = http.post(
        f"/v1/deployments/{me}/runner/predictions",
        json={"input": {"text": "through"}},
        headers={"Prefer": "wait"},
    )
    assert response.status_code == 201, response.text
    prediction = response.json()
    assert prediction["status"] == "succeeded" and prediction["output"] == "through"
    assert prediction["model"] == "acme/echo" and prediction["version"] == _version(http)
    assert prediction["deployment"] == f"{me}/runner"
    assert response.headers["location"].endswith(f"/v1/predictions/{prediction['id']}")
    got = http.get(f"/v1/predictions/{prediction['id']}").json()
    assert got["output"] == "through" and got["deployment"] == f"{me}/runner"  # it is stored


def test_deployment_predictions_validate_like_model_predictions(http: httpx.Client) -> None:
    """Bad inputs, unknown body fields and bad headers are the same 4xx as on the models
    endpoint."""
    me = _account(http)
    _create(http, "checked")
    url = f"/v1/deployments/{me}/checked/predictions"
    assert "input.text" in _fields(http.post(url, json={"input": {"text": 5}}))
    assert "version" not in _fields(http.post(url, json={"version": "x", "input": {}}))
    bad = {"Cancel-After": "soon"}
    model = http.post("/v1/models/acme/echo/predictions", json={"input": {}}, headers=bad)
    assert model.status_code >= 400
    assert _problem(http.post(url, json={"input": {}}, headers=bad), model.status_code) == (
        model.json()
    )


def test_restart_keeps_deployments(tmp_path: pathlib.Path) -> None:
    """Deployments and their releases survive a restart on the same data directory, and
    run predictions after it."""
    model = f"acme/echo={fixture_model(tmp_path, 'echo')}"
    first = start_server(tmp_path / "data", [model])
    try:
        with first.client() as http:
            me = _account(http)
            _create(http, "durable")
            kept = http.patch(f"/v1/deployments/{me}/durable", json={"max_instances": 4}).json()
    finally:
        first.stop()
    second = start_server(tmp_path / "data", [model], token=first.token)
    try:
        with second.client() as http:
            assert http.get(f"/v1/deployments/{me}/durable").json() == kept
            assert [d["name"] for d in http.get("/v1/deployments").json()["results"]] == ["durable"]
            ran = http.post(
                f"/v1/deployments/{me}/durable/predictions",
                json={"input": {"text": "again"}}, headers={"Prefer": "wait"},
            ).json()  # fmt: skip
            assert ran["status"] == "succeeded" and ran["output"] == "again"
    finally:
        second.stop()


def test_the_official_python_client_manages_and_runs_deployments(server: Server) -> None:
    """replicate 1.0.7's deployments.create/get/list/update/delete and both spellings of
    predictions.create work unchanged."""
    with official_client(server) as client:
        version = client.models.get("acme/echo").latest_version
        assert version is not None
        made = client.deployments.create(
            name="official", model="acme/echo", version=version.id, hardware="cpu",
            min_instances=0, max_instances=1,
        )  # fmt: skip
        assert made.current_release is not None and made.current_release.number == 1
        assert made.current_release.configuration.hardware == "cpu"
        assert made.current_release.created_by is not None
        got = client.deployments.get(made.id)
        assert got.id == made.id and got.current_release == made.current_release
        assert made.id in [d.id for d in client.deployments.list().results]
        updated = client.deployments.update(made.owner, made.name, max_instances=3)
        assert updated.current_release is not None
        assert updated.current_release.number == 2
        assert updated.current_release.configuration.max_instances == 3
        through = got.predictions.create(input={"text": "a"}, wait=True)
        assert through.output == "a"
        by_name = client.deployments.predictions.create(made.id, input={"text": "b"})
        by_name.wait()
        assert by_name.status == "succeeded" and by_name.output == "b"
        with pytest.raises(ReplicateError) as taken:
            client.deployments.create(
                name="official", model="acme/echo", version=version.id, hardware="cpu",
                min_instances=0, max_instances=1,
            )  # fmt: skip
        assert taken.value.status == 409
        assert client.deployments.delete(made.owner, made.name) is True
        with pytest.raises(ReplicateError) as gone:
            client.deployments.get(made.id)
        assert gone.value.status == 404


_MODULE_LEVEL = """
import json, replicate
deployment = replicate.deployments.get("{name}")
prediction = deployment.predictions.create(input={{"text": "module"}}, wait=True)
print(json.dumps({{"id": deployment.id, "output": prediction.output}}))
"""


def test_the_module_level_client_runs_a_deployment(server: Server, http: httpx.Client) -> None:
    """`replicate.deployments.get(...).predictions.create(...)`, configured only by
    REPLICATE_API_TOKEN and REPLICATE_BASE_URL, runs the deployment."""
    me = _account(http)
    _create(http, "module")
    env = {**os.environ, "REPLICATE_API_TOKEN": server.token, "REPLICATE_BASE_URL": server.url}
    result = subprocess.run(
        [sys.executable, "-c", _MODULE_LEVEL.format(name=f"{me}/module")],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"id": f"{me}/module", "output": "module"}


def test_the_cluster_shape_shares_deployments_between_api_nodes(cluster: Cluster) -> None:
    """On PostgreSQL + Redis, a deployment made on one API node is read, updated and run
    through the other (on a worker), and is still there after both nodes restart."""
    node_a, node_b = cluster.start_api(), cluster.start_api()
    cluster.start_worker(cluster.model("echo"))
    wait_for_model(node_a, "test/echo")
    wait_for_model(node_b, "test/echo")
    with node_a.client() as a, node_b.client() as b:
        me = _account(a)
        _create(a, "shared", model="test/echo", version=_version(a, "test/echo"))
        assert b.get(f"/v1/deployments/{me}/shared").json()["current_release"]["number"] == 1
        patched = b.patch(f"/v1/deployments/{me}/shared", json={"max_instances": 3}).json()
        assert a.get(f"/v1/deployments/{me}/shared").json() == patched
        ran = b.post(
            f"/v1/deployments/{me}/shared/predictions",
            json={"input": {"text": "clustered"}}, headers={"Prefer": "wait"},
        ).json()  # fmt: skip
        assert ran["status"] == "succeeded" and ran["output"] == "clustered"
        assert ran["deployment"] == f"{me}/shared"
    node_a.stop()
    node_b.stop()
    again = cluster.start_api()  # the first node's token, which the database keeps
    with again.client() as http:
        assert http.get(f"/v1/deployments/{me}/shared").json() == patched
