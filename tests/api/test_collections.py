"""Collections through a real server and the official clients: the built-in collection, a
user's collections file, pages, 404s, search, and who sees which models."""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import replicate
from replicate.exceptions import ReplicateError

from tests.server import Server, fixture_model, free_port, official_client, start_server

JS = pathlib.Path(__file__).parents[1] / "e2e" / "js"

COLLECTIONS_YAML = """\
collections:
  - slug: text-tools
    name: Text tools
    description: Models that read and write text.
    full_description: |
      # Text tools
      Echo and greet.
    models:
      - acme/echo
      - acme/not-hosted
      - foretell/hello
      - local/private-notes
  - slug: empty
    name: Nothing yet
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """foretell/hello and acme/echo, with collections.yaml in the data dir (read by default)
    and a private stored model of the first account's (local/private-notes)."""
    tmp = tmp_path_factory.mktemp("collections")
    (tmp / "data").mkdir()
    (tmp / "data" / "collections.yaml").write_text(COLLECTIONS_YAML)
    echo = fixture_model(tmp, "echo")
    server = start_server(tmp / "data", ["foretell/hello", f"acme/echo={echo}"])
    with server.client() as http:
        body = {"owner": "local", "name": "private-notes", "visibility": "private"}
        created = http.post("/v1/models", json={**body, "hardware": "cpu"})
        assert created.status_code == 201, created.text
    yield server
    server.stop()


@pytest.fixture
def http(server: Server) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def _name(model: dict[str, Any]) -> str:
    return f"{model['owner']}/{model['name']}"


def _without_setup(model: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in model.items() if key != "setup"}


def test_the_official_python_client_lists_and_gets_collections(server: Server) -> None:
    """collections.list() shows the built-in collection first, then the file's in order;
    collections.get() holds the models it lists that this server knows, in its order."""
    with official_client(server) as client:
        page = client.collections.list()
        assert [(c.slug, c.name) for c in page.results] == [
            ("built-in", "Built-in models"),
            ("text-tools", "Text tools"),
            ("empty", "Nothing yet"),
        ]
        assert page.next is None and page.results[1].models is None
        text_tools = client.collections.get("text-tools")
        builtin = client.collections.get("built-in")
        empty = client.collections.get("empty")
    assert text_tools.description == "Models that read and write text."
    names = [f"{m.owner}/{m.name}" for m in text_tools]
    assert names == ["acme/echo", "foretell/hello", "local/private-notes"]
    assert text_tools[0] is not None and text_tools[0].latest_version is not None
    assert [f"{m.owner}/{m.name}" for m in builtin] == ["foretell/hello"]  # the hosted one
    assert len(empty) == 0


def test_a_collections_models_are_rendered_as_get_v1_models_renders_them(
    http: httpx.Client,
) -> None:
    """Each entry of `models` is what GET /v1/models shows for that model; the collection
    has Replicate's full_description (Markdown)."""
    listed = {_name(m): m for m in http.get("/v1/models").json()["results"]}
    collection = http.get("/v1/collections/text-tools").json()
    assert set(collection) == {"name", "slug", "description", "full_description", "models"}
    assert collection["full_description"] == "# Text tools\nEcho and greet."
    for model in collection["models"]:
        assert _without_setup(model) == _without_setup(listed[_name(model)])


def test_an_unknown_slug_is_a_404_naming_the_known_ones(server: Server, http: httpx.Client) -> None:
    """A slug no collection has: 404, with the slugs there are."""
    response = http.get("/v1/collections/imaging")
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert "no collection 'imaging'" in detail and "built-in, text-tools, empty" in detail
    with official_client(server) as client, pytest.raises(ReplicateError) as caught:
        client.collections.get("imaging")
    assert caught.value.status == 404


def test_pages_follow_next_and_previous(server: Server, http: httpx.Client) -> None:
    """?limit=N pages through the collections; a made-up cursor is a 400."""
    first = http.get("/v1/collections", params={"limit": 2}).json()
    assert [c["slug"] for c in first["results"]] == ["built-in", "text-tools"]
    assert first["previous"] is None
    second = httpx.get(first["next"], headers=http.headers).json()
    assert [c["slug"] for c in second["results"]] == ["empty"]
    assert second["next"] is None
    back = httpx.get(second["previous"], headers=http.headers).json()
    assert back["results"] == first["results"]
    with official_client(server) as client:
        slugs = [c.slug for page in replicate.paginate(client.collections.list) for c in page]
    assert slugs == ["built-in", "text-tools", "empty"]
    bad = http.get("/v1/collections", params={"cursor": "abc"})
    assert bad.status_code == 400 and "cursor" in bad.json()["detail"]


def test_another_accounts_private_model_is_left_out(server: Server, http: httpx.Client) -> None:
    """A private stored model shows in a collection to its owner only."""
    out = subprocess.run(
        [sys.executable, "-m", "foretell", "tokens", "create", "--data-dir",
         str(server.data_dir), "--account", "bob"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    with server.client(out.split()[-1]) as bob:
        seen = [_name(m) for m in bob.get("/v1/collections/text-tools").json()["models"]]
        found = bob.get("/v1/search", params={"query": "text"}).json()["collections"]
    assert seen == ["acme/echo", "foretell/hello"]
    assert found[0]["models"] == ["acme/echo", "foretell/hello"]


def test_search_answers_collections_in_replicates_shape(http: httpx.Client) -> None:
    """GET /v1/search lists the collections whose slug, name or description match, each
    with the names of its models; QUERY /v1/models still answers models only."""
    found = http.get("/v1/search", params={"query": "read text"}).json()
    assert found["collections"] == [
        {
            "name": "Text tools",
            "slug": "text-tools",
            "description": "Models that read and write text.",
            "models": ["acme/echo", "foretell/hello", "local/private-notes"],
        }
    ]
    built_in = http.get("/v1/search", params={"query": "hello"}).json()
    assert [c["slug"] for c in built_in["collections"]] == []  # "hello" names no collection
    assert [m["model"]["name"] for m in built_in["models"]] == ["hello"]
    searched = http.request("QUERY", "/v1/models", content="hello").json()
    assert set(searched) == {"next", "previous", "results"}
    assert [m["name"] for m in searched["results"]] == ["hello"]


def test_the_official_js_client_lists_and_gets_collections(server: Server) -> None:
    """The npm client's collections.list() and collections.get(slug) work unchanged."""
    node = shutil.which("node")
    assert node, "Node.js is needed for the JS client test (scripts/install installs the client)"
    script = """
import Replicate from "replicate";
const [baseUrl, auth] = process.argv.slice(1);
const replicate = new Replicate({ auth, baseUrl: `${baseUrl}/v1` });
const page = await replicate.collections.list();
const got = await replicate.collections.get("text-tools");
let missing = null;
try { await replicate.collections.get("imaging"); } catch (error) { missing = error.response.status; }
console.log(JSON.stringify({
  slugs: page.results.map((c) => c.slug),
  models: got.models.map((m) => `${m.owner}/${m.name}`),
  missing,
}));
"""
    result = subprocess.run(
        [node, "--input-type=module", "-e", script, server.url, server.token],
        cwd=JS, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "slugs": ["built-in", "text-tools", "empty"],
        "models": ["acme/echo", "foretell/hello", "local/private-notes"],
        "missing": 404,
    }


def test_collections_option_reads_a_toml_file(tmp_path: pathlib.Path) -> None:
    """--collections FILE names the file (TOML here); one redefining `built-in` replaces it."""
    path = tmp_path / "mine.toml"
    path.write_text(
        '[[collections]]\nslug = "built-in"\nname = "Ours"\nmodels = ["foretell/hello"]\n'
        '[[collections]]\nslug = "greeters"\nname = "Greeters"\ndescription = "Hi."\n'
    )
    server = start_server(tmp_path / "data", ["foretell/hello", "--collections", str(path)])
    try:
        with server.client() as http:
            listed = http.get("/v1/collections").json()["results"]
            builtin = http.get("/v1/collections/built-in").json()
    finally:
        server.stop()
    assert listed == [
        {"name": "Ours", "slug": "built-in", "description": ""},
        {"name": "Greeters", "slug": "greeters", "description": "Hi."},
    ]
    assert [_name(m) for m in builtin["models"]] == ["foretell/hello"]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.yaml", "collections:\n  - slug: Bad Slug\n    name: X\n", "is not a slug"),
        ("bad.yaml", "collections: [\n", "not valid YAML"),
        ("bad.toml", "[[collections]\n", "not valid TOML"),
        ("bad.json", "{}", "name a .yaml, .yml or .toml file"),
        ("absent.yaml", None, "can't read it"),
    ],
)
def test_a_bad_collections_file_stops_serve_with_its_mistake(
    tmp_path: pathlib.Path, name: str, text: str | None, message: str
) -> None:
    """serve exits 2 before it starts, naming the file and what is wrong in it."""
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "foretell", "serve", "--collections", str(path),
         "--data-dir", str(tmp_path / "data"), "--port", str(free_port())],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "300"},
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr and name in result.stderr


def test_the_readme_example_runs_as_written(tmp_path: pathlib.Path) -> None:
    """README's Collections section: its YAML file in the data dir, then its Python snippet,
    which prints what the README says it prints."""
    readme = (pathlib.Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("#### Collections", 1)[1].split("\n#### ", 1)[0]
    yaml_text = re.findall(r"```yaml\n(.*?)```", section, flags=re.DOTALL)[0]
    snippet = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)[0]
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "collections.yaml").write_text(yaml_text)
    server = start_server(tmp_path / "data", ["foretell/hello", "foretell/wordcount"])
    try:
        env = {**os.environ, "REPLICATE_API_TOKEN": server.token, "REPLICATE_BASE_URL": server.url}
        result = subprocess.run(
            [sys.executable, "-c", snippet], capture_output=True, text=True, timeout=60, env=env
        )
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    promised = [line[2:] for line in snippet.splitlines() if line.startswith("# ")]
    assert result.stdout.splitlines() == promised
