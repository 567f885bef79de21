"""The official `replicate` npm client, unchanged, against a real foretell server."""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from foretell.models import builtin_models
from tests.server import Server, start_server

JS = pathlib.Path(__file__).parent / "js"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    light = ("foretell/hello", "foretell/wordcount")  # the others build environments first
    models = [f"{name}={path}" for name, path in builtin_models().items() if name in light]
    server = start_server(tmp_path_factory.mktemp("js") / "data", models)
    yield server
    server.stop()


def test_js_client_runs_waits_cancels_paginates_and_uploads(server: Server) -> None:
    """run, create + wait, cancel, paginate, errors, file upload, stream and the deployment
    calls (create, update, list, get, predictions.create, delete) all work."""
    node = shutil.which("node")
    assert node, "Node.js is needed for the JS client test (scripts/install installs the client)"
    assert (JS / "node_modules" / "replicate").is_dir(), "run scripts/install to npm-install it"
    result = subprocess.run(
        [node, "client.mjs", server.url, server.token],
        cwd=JS, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    results = json.loads(result.stdout)
    assert results["run"] == "Hello Js! "
    assert results["waited"] == {"status": "succeeded", "output": "Hello Wait! "}
    assert results["canceled"] == "canceled"
    assert sum(results["pages"]) >= 3
    assert results["invalid"] == 422
    assert results["wordcount"] == ["b", "a"]
    assert results["report"] == "b\t2\na\t1\n"
    assert results["streamed"] == ["Hello ", "Stream! ", "\n", "Hello ", "Stream! "]
    assert results["deployment"] == {
        "created": [True, 1],
        "updated": [2, 2],
        "listed": ["js-app"],
        "got": 2,
        "prediction": ["succeeded", "Hello Deployed! ", True],
        "deleted": True,
    }
