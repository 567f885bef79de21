"""The official `replicate` npm client's trainings, unchanged, against a real server:
create, get, list, wait, the trained version run, cancel, and an unknown destination."""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from tests.server import Server, start_trainings_server

JS = pathlib.Path(__file__).parent / "js"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`foretell serve` with a trainable greeter and a trainer that runs until canceled."""
    server = start_trainings_server(tmp_path_factory.mktemp("js-trainings"))
    yield server
    server.stop()


def test_js_client_trains_runs_the_trained_version_and_cancels(server: Server) -> None:
    node = shutil.which("node")
    assert node, "Node.js is needed for the JS client test (scripts/install installs the client)"
    assert (JS / "node_modules" / "replicate").is_dir(), "run scripts/install to npm-install it"
    result = subprocess.run(
        [node, "trainings.mjs", server.url, server.token],
        cwd=JS, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    results = json.loads(result.stdout)
    owner = "local"
    assert results["created"] == ["starting", f"{owner}/greeter-js"]
    assert results["got"] and results["listed"]
    assert results["done"] == ["succeeded", None]
    assert results["weights"] == "Hola, from untrained"
    assert results["trained"] == "Hola, from untrained (Path) greets Js"
    assert results["canceled"] == "canceled"
    assert results["unknownDestination"] == 404
