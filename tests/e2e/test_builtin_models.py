"""Built-in models: each default example is served by the models API and runs as is."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from foretell.models import builtin_models
from tests.server import Server, official_client, start_server, wait_done, wait_for_models

#: a fresh machine builds every built-in model's environment (llama.cpp compiles) first
BUILD_TIMEOUT_S = 1200
pytestmark = pytest.mark.timeout(BUILD_TIMEOUT_S + 300)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`foretell serve` with no model arguments: the built-in models."""
    server = start_server(tmp_path_factory.mktemp("builtins") / "data", [], wait_models=False)
    yield server
    server.stop()


@pytest.mark.parametrize("name", sorted(builtin_models()))
def test_default_example_runs_as_is(server: Server, name: str) -> None:
    """The models API serves a default_example whose input succeeds unchanged."""
    wait_for_models(server, timeout=BUILD_TIMEOUT_S)  # the first start builds environments
    with official_client(server) as client:
        model = client.models.get(name)
    example = model.default_example
    assert example is not None and example.input
    with server.client() as http:
        created = http.post(f"/v1/models/{name}/predictions", json={"input": example.input})
        result = wait_done(http, created.json()["id"])
    assert result["status"] == "succeeded", result


def test_image_tool_resizes_and_converts(server: Server) -> None:
    """The Pillow model, running in its own environment, returns a WebP of the asked width."""
    import io

    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (400, 200), (10, 200, 30)).save(png, "PNG")
    uri = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()
    with server.client() as http:
        result = http.post(
            "/v1/models/foretell/image-tool/predictions",
            json={"input": {"image": uri, "width": 100, "output_format": "webp"}},
            headers={"Prefer": "wait"},
        ).json()
    assert result["status"] == "succeeded", result
    with Image.open(io.BytesIO(httpx.get(result["output"]).content)) as out:
        assert (out.format, out.size) == ("WEBP", (100, 50))
    assert "PNG (400, 200) -> WEBP (100, 50)" in result["logs"]


def test_readme_and_examples(server: Server) -> None:
    """GET .../readme serves the model's README.md; .../examples lists its default example;
    the model's description is the README's first paragraph."""
    wait_for_models(server, timeout=BUILD_TIMEOUT_S)
    with server.client() as http:
        readme = http.get("/v1/models/foretell/ocr/readme")
        assert readme.status_code == 200
        assert readme.headers["content-type"].startswith("text/plain")
        assert readme.text.startswith("# foretell/ocr")
        examples = http.get("/v1/models/foretell/ocr/examples").json()["results"]
        assert [e["input"]["image"][:22] for e in examples] == ["data:image/png;base64,"]
        description = http.get("/v1/models/foretell/ocr").json()["description"]
        assert description.startswith("Reads printed text out of an image")
