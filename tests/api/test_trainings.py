"""Trainings through a real server: create (every bad request a clear 4xx that stores
nothing), get, list, cancel, Prefer: wait and webhooks, on the prediction machinery; a
succeeded training's weights become a new version of its destination."""

from __future__ import annotations

import pathlib
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.receiver import Receiver
from tests.server import Server, fixture_model, free_port, start_server, wait_done

TRAINABLE = 'predict: "predict.py:Predictor"\ntrain: "predict.py:Predictor"\n'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`foretell serve` with a trainable greeter, a trainer that sleeps and echo (no train:)."""
    tmp = tmp_path_factory.mktemp("trainings")
    models = [
        f"acme/greeter={fixture_model(tmp, 'trainable', TRAINABLE)}",
        f"acme/slow={fixture_model(tmp, 'train_slow', TRAINABLE)}",
        f"acme/echo={fixture_model(tmp, 'echo')}",
    ]
    server = start_server(tmp / "data", models, "--allow-private-urls")
    yield server
    server.stop()


@pytest.fixture
def http(server: Server) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


@pytest.fixture(scope="module")
def me(server: Server) -> str:
    """The caller's account, with two models of its own: `tuned` and `other` (private)."""
    with server.client() as http:
        username: str = http.get("/v1/account").json()["username"]
        for name in ("tuned", "other"):
            body = {"owner": username, "name": name, "visibility": "private", "hardware": "cpu"}
            assert http.post("/v1/models", json=body).status_code == 201
    return username


def _version(http: httpx.Client, model: str) -> str:
    version: str = http.get(f"/v1/models/{model}").json()["latest_version"]["id"]
    return version


def _train(http: httpx.Client, model: str, body: dict[str, Any], **headers: str) -> httpx.Response:
    url = f"/v1/models/{model}/versions/{_version(http, model)}/trainings"
    return http.post(url, json=body, headers=headers)


def _ids(http: httpx.Client, path: str) -> list[str]:
    return [item["id"] for item in http.get(path).json()["results"]]


def test_a_training_makes_a_version_of_its_destination(
    server: Server, http: httpx.Client, me: str
) -> None:
    """The training is created as Replicate's (201, urls under /v1/trainings, destination);
    once it succeeds its output names the new version of the destination and its weights,
    and that version runs with those weights."""
    created = _train(
        http, "acme/greeter", {"destination": f"{me}/tuned", "input": {"greeting": "Hi"}}
    )
    assert created.status_code == 201, created.text
    training = created.json()
    tid = training["id"]
    assert created.headers["location"] == f"{server.url}/v1/trainings/{tid}"
    assert training["urls"]["get"] == f"{server.url}/v1/trainings/{tid}"
    assert training["urls"]["cancel"] == f"{server.url}/v1/trainings/{tid}/cancel"
    assert (training["model"], training["destination"]) == ("acme/greeter", f"{me}/tuned")
    assert training["version"] == _version(http, "acme/greeter")
    done = wait_done(http, tid, 60)
    assert done["status"] == "succeeded", done
    assert http.get(f"/v1/trainings/{tid}").json() == done  # under both, as on Replicate
    model, _, version = done["output"]["version"].partition(":")
    assert model == f"{me}/tuned" and len(version) == 64
    assert httpx.get(done["output"]["weights"]).text == "Hi, from untrained"
    assert f"Created version {me}/tuned:{version}" in done["logs"]
    # ready at once (the trained version's schema): it runs the moment the training ended
    assert http.get(f"/v1/models/{me}/tuned/versions/{version}").status_code == 200
    ran = http.post(
        "/v1/predictions",
        json={"version": version, "input": {"name": "Ann"}},
        headers={"Prefer": "wait"},
    ).json()
    if ran["status"] not in ("succeeded", "failed"):
        ran = wait_done(http, ran["id"], 60)
    assert ran["output"] == "Hi, from untrained (Path) greets Ann", ran


def test_trainings_and_predictions_are_listed_and_found_apart(http: httpx.Client, me: str) -> None:
    """GET /v1/trainings lists trainings only, GET /v1/predictions predictions only; a
    prediction's id is no training's."""
    body = {"destination": f"{me}/tuned", "input": {"greeting": "Yo"}}
    training = _train(http, "acme/greeter", body, Prefer="wait").json()
    prediction = http.post("/v1/models/acme/echo/predictions", json={"input": {"text": "x"}})
    assert training["status"] == "succeeded", training
    assert training["id"] == _ids(http, "/v1/trainings")[0]
    assert training["id"] not in _ids(http, "/v1/predictions")
    assert prediction.json()["id"] in _ids(http, "/v1/predictions")
    assert prediction.json()["id"] not in _ids(http, "/v1/trainings")
    missing = http.get(f"/v1/trainings/{prediction.json()['id']}")
    assert missing.status_code == 404
    assert http.post(f"/v1/trainings/{prediction.json()['id']}/cancel").status_code == 404


def _token(server: Server, account: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "foretell", "tokens", "create", "--data-dir",
         str(server.data_dir), "--account", account],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return out.split()[-1]


def test_bad_trainings_are_clear_4xx_and_store_nothing(
    server: Server, http: httpx.Client, me: str
) -> None:
    """Unknown, malformed or someone else's destinations, versions without train:, unknown
    versions and bad input are refused before anything is stored."""
    with server.client(_token(server, "bob")) as bob:
        for name, visibility in (("secret", "private"), ("open", "public")):
            body = {"owner": "bob", "name": name, "visibility": visibility, "hardware": "cpu"}
            assert bob.post("/v1/models", json=body).status_code == 201
    before = _ids(http, "/v1/trainings")
    greet = {"greeting": "Hi"}
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        ("acme/greeter", {"destination": f"{me}/nope", "input": greet}, 404, "does not exist"),
        ("acme/greeter", {"destination": "bob/secret", "input": greet}, 404, "does not exist"),
        ("acme/greeter", {"destination": "bob/open", "input": greet}, 403, "another account"),
        ("acme/greeter", {"destination": "acme/echo", "input": greet}, 403, "command line"),
        ("acme/greeter", {"input": greet}, 422, "destination is required"),
        ("acme/greeter", {"destination": "tuned", "input": greet}, 422, "owner/name"),
        ("acme/greeter", {"destination": f"{me}/tuned", "input": {}}, 422, "greeting"),
        ("acme/greeter", {"destination": f"{me}/tuned", "input": greet, "x": 1}, 422, "x is not"),
        ("acme/echo", {"destination": f"{me}/tuned", "input": greet}, 422, "no `train:`"),
    ]
    for model, body, status, words in cases:
        response = _train(http, model, body)
        assert response.status_code == status, (body, response.text)
        assert words in response.text, (body, response.text)
    unknown = http.post(
        f"/v1/models/acme/greeter/versions/{'0' * 64}/trainings",
        json={"destination": f"{me}/tuned", "input": greet},
    )
    assert unknown.status_code == 404 and "not found" in unknown.text
    assert _ids(http, "/v1/trainings") == before


def test_a_canceled_training_makes_no_version(http: httpx.Client, me: str) -> None:
    """Cancel ends a running training as canceled (its logs kept); the destination gets
    no version; canceling again changes nothing."""
    versions = http.get(f"/v1/models/{me}/other/versions").json()["results"]
    training = _train(http, "acme/slow", {"destination": f"{me}/other", "input": {}}).json()
    stream_logs = []
    with httpx.stream("GET", training["urls"]["stream"], timeout=30) as events:
        for line in events.iter_lines():
            if line.startswith("data: ") and "training started" in line:
                stream_logs.append(line)
                break
    assert stream_logs  # its logs stream as a prediction's do
    canceled = http.post(f"/v1/trainings/{training['id']}/cancel").json()
    assert canceled["status"] == "canceled", canceled
    assert "training started" in canceled["logs"]
    assert canceled["output"] is None
    assert http.post(f"/v1/trainings/{training['id']}/cancel").json() == canceled
    assert http.get(f"/v1/models/{me}/other/versions").json()["results"] == versions


def test_webhooks_and_cancel_after_work_as_for_predictions(
    http: httpx.Client, me: str, tmp_path: pathlib.Path
) -> None:
    """A training's webhook gets the training (urls, destination, the new version); its
    Cancel-After deadline cancels it."""
    receiver = Receiver(tmp_path / "hooks.jsonl", free_port()).start()
    try:
        body = {
            "destination": f"{me}/tuned", "input": {"greeting": "Hey"}, "webhook": receiver.url,
            "webhook_events_filter": ["completed"],
        }  # fmt: skip
        training = _train(http, "acme/greeter", body).json()
        hook = receiver.completed(training["id"])
    finally:
        receiver.stop()
    assert hook["status"] == "succeeded" and hook["destination"] == f"{me}/tuned"
    assert hook["urls"]["get"].endswith(f"/v1/trainings/{training['id']}")
    assert hook["output"]["version"].startswith(f"{me}/tuned:")
    response = _train(
        http, "acme/slow", {"destination": f"{me}/other", "input": {}}, **{"Cancel-After": "5s"}
    )
    assert response.status_code == 201, response.text
    slow = response.json()
    ended = wait_done(http, slow["id"], 30)
    assert ended["status"] == "canceled", ended
