"""The official Python client's trainings against a real server: create (both spellings of
the version), get, list, cancel, then the trained version run with its weights."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from replicate.client import Client
from replicate.exceptions import ReplicateError
from replicate.training import Training

from tests.server import Server, official_client, start_trainings_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`foretell serve` with a trainable greeter and a trainer that runs until canceled."""
    server = start_trainings_server(tmp_path_factory.mktemp("e2e-trainings"))
    yield server
    server.stop()


@pytest.fixture
def client(server: Server) -> Iterator[Client]:
    with official_client(server) as made:
        yield made


def _finished(training: Training, timeout: float = 60) -> Training:
    deadline = time.monotonic() + timeout
    while training.status not in ("succeeded", "failed", "canceled"):
        assert time.monotonic() < deadline, f"training {training.id} still {training.status}"
        time.sleep(0.1)
        training.reload()
    return training


def test_train_then_run_the_trained_version(client: Client) -> None:
    """trainings.create into a model created with models.create; get, list and the
    output's version (owner/name:id, which the client reads as the destination); the
    trained version runs with its weights."""
    owner = client.accounts.current().username
    client.models.create(owner=owner, name="greeter-tuned", visibility="private", hardware="cpu")
    base = client.models.get("acme/greeter").latest_version
    assert base is not None
    training = client.trainings.create(
        version=f"acme/greeter:{base.id}",
        destination=f"{owner}/greeter-tuned",
        input={"greeting": "Howdy"},
    )
    assert training.status == "starting" and training.destination == f"{owner}/greeter-tuned"
    assert client.trainings.get(training.id).id == training.id
    assert training.id in [t.id for t in client.trainings.list().results]
    done = _finished(training)
    assert done.status == "succeeded", done.error
    assert done.destination == f"{owner}/greeter-tuned"
    made: dict[str, str] = done.output or {}
    assert httpx.get(made["weights"]).text == "Howdy, from untrained"
    output = client.run(made["version"], input={"name": "Bo"})  # at once: it is ready
    assert output == "Howdy, from untrained (Path) greets Bo"
    # the model and version given apart: the same URL
    again = client.trainings.create(
        model="acme/greeter", version=base.id, input={"greeting": "Howdy"},
        destination=f"{owner}/greeter-tuned",
    )  # fmt: skip
    assert (_finished(again).output or {})["version"] == made["version"]  # same code, weights


def test_cancel_a_training(client: Client) -> None:
    """trainings.cancel and Training.cancel end a running training as canceled."""
    owner = client.accounts.current().username
    client.models.create(owner=owner, name="slow-tuned", visibility="private", hardware="cpu")
    base = client.models.get("acme/slow").latest_version
    assert base is not None
    first = client.trainings.create(
        version=f"acme/slow:{base.id}", destination=f"{owner}/slow-tuned", input={}
    )
    assert client.trainings.cancel(first.id).status == "canceled"
    second = client.trainings.create(
        version=f"acme/slow:{base.id}", destination=f"{owner}/slow-tuned", input={}
    )
    second.cancel()
    assert second.status == "canceled"
    with pytest.raises(ReplicateError) as refused:
        client.trainings.create(
            version=f"acme/slow:{base.id}", destination=f"{owner}/nowhere", input={}
        )
    assert refused.value.status == 404
