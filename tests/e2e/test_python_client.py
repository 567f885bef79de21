"""The official `replicate` Python client, unchanged, against a real foretell server."""

from __future__ import annotations

import pathlib
import time
from collections.abc import Iterator

import httpx
import pytest
from replicate.client import Client
from replicate.exceptions import ReplicateError

from tests.server import Server, fixture_model, official_client, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Two light built-in models plus a slow fixture."""
    tmp = tmp_path_factory.mktemp("e2e")
    from foretell.models import builtin_models

    light = ("foretell/hello", "foretell/wordcount")  # the others build environments first
    models = [f"{name}={path}" for name, path in builtin_models().items() if name in light]
    models.append(f"acme/sleep={fixture_model(tmp, 'sleep')}")
    server = start_server(tmp / "data", models)
    yield server
    server.stop()


@pytest.fixture
def client(server: Server) -> Iterator[Client]:
    with official_client(server) as client:
        yield client


def _latest_version(client: Client, name: str) -> str:
    """The id of a model's latest version, as the client reads it."""
    latest = client.models.get(name).latest_version
    assert latest is not None, name
    return latest.id


def test_run_by_model_name(client: Client) -> None:
    """replicate.run("owner/name") returns the model's output."""
    output = client.run("foretell/hello", input={"name": "Ada", "delay": 0})
    assert "".join(output) == "Hello Ada! \nHello Ada! \nHello Ada! "


def test_run_by_version_returns_an_iterator_for_iterator_models(client: Client) -> None:
    """With owner/name:version the client reads the schema and yields tokens."""
    version = _latest_version(client, "foretell/hello")
    output = client.run(f"foretell/hello:{version}", input={"name": "Bo", "delay": 0, "repeat": 1})
    assert "".join(output) == "Hello Bo! "


def test_file_input_is_uploaded_and_output_file_downloads(
    client: Client, tmp_path: pathlib.Path
) -> None:
    """A local file goes up through /v1/files; the output file URL downloads without auth."""
    text = tmp_path / "words.txt"
    text.write_text("one two two\n")
    with text.open("rb") as handle:
        output = client.run("foretell/wordcount", input={"text": handle})
    assert isinstance(output, dict)  # an object output, not an iterator
    assert output["top_words"] == ["two", "one"]
    # The client wraps only https: URLs as FileOutput; over plain http it's the URL string.
    report = output["report"]
    url = report if isinstance(report, str) else report.url
    assert httpx.get(url).text == "two\t2\none\t1\n"


def test_create_wait_and_cancel(client: Client) -> None:
    """predictions.create, wait, cancel and reload behave as on Replicate."""
    version = _latest_version(client, "acme/sleep")
    prediction = client.predictions.create(version=version, input={"seconds": 0.2})
    created = prediction.status  # apart: mypy would keep `== "starting"` past wait()
    prediction.wait()
    assert created == "starting"
    assert prediction.status == "succeeded" and prediction.output == "woke up"
    slow = client.predictions.create(version=version, input={"seconds": 30})
    time.sleep(0.5)
    slow.cancel()
    slow.reload()
    assert slow.status == "canceled"


def test_validation_error_is_a_replicate_error(client: Client) -> None:
    """A 422 surfaces as ReplicateError with Replicate's title and status."""
    with pytest.raises(ReplicateError) as info:
        client.run("foretell/hello", input={"repeat": 99})
    assert info.value.status == 422
    assert info.value.title == "Input validation failed"


def test_models_files_account_and_pagination(client: Client, tmp_path: pathlib.Path) -> None:
    """Models, versions, files, account, hardware and paginated listings parse in the client."""
    model = client.models.get("foretell/hello")
    assert model.owner == "foretell"
    assert [v.id for v in model.versions.list()] == [_latest_version(client, "foretell/hello")]
    assert {m.name for m in client.models.list().results} >= {"hello", "wordcount"}
    upload = tmp_path / "a.txt"
    upload.write_text("x")
    created = client.files.create(upload)
    assert client.files.get(created.id).name == "a.txt"
    client.files.delete(created.id)
    assert client.accounts.current().username == "local"
    assert client.hardware.list()[0].sku == "cpu"
    assert client.predictions.list().results
    assert client.webhooks.default.secret().key.startswith("whsec_")
