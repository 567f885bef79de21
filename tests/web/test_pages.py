"""The playground's pages and the markdown docs over real HTTP, on a real server."""

from __future__ import annotations

import html
import os
import pathlib
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from tests.server import Server, fixture_model, start_server

NODE_MODULES = pathlib.Path(__file__).parents[1] / "e2e" / "js" / "node_modules"
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
MARKDOWN = {"Accept": "text/markdown"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("pages")
    models = ["foretell/hello", f"acme/choices={fixture_model(tmp, 'schema_choices')}"]
    server = start_server(tmp / "data", models)
    yield server
    server.stop()


def test_the_api_keeps_its_paths(server: Server) -> None:
    """/predictions, /models/..., /files answer as the API (JSON), not as playground pages."""
    assert httpx.get(server.url + "/predictions/abc", headers=HTML).status_code == 401
    with server.client() as http:
        assert http.get("/models/foretell/hello").json()["name"] == "hello"
        assert http.get("/files").json()["results"] == []
        assert http.get("/predictions/nope").headers["content-type"] == "application/problem+json"
    missing = httpx.get(server.url + "/v1/nothing", headers={"Accept": "application/json"})
    assert missing.status_code == 404 and missing.json()["detail"]


def test_index_lists_models_as_html_or_markdown(server: Server) -> None:
    """/ lists every model; with Accept: text/markdown the same list as markdown."""
    page = httpx.get(server.url + "/", headers=HTML)
    assert page.status_code == 200 and 'href="/foretell/hello"' in page.text
    assert 'href="/acme/choices"' in page.text
    found = httpx.get(server.url + "/?q=greets", headers=HTML).text
    assert 'href="/foretell/hello"' in found and 'href="/acme/choices"' not in found
    md = httpx.get(server.url + "/", headers=MARKDOWN)
    assert md.headers["content-type"].startswith("text/markdown") and md.headers["vary"] == "Accept"
    assert f"- [foretell/hello]({server.url}/foretell/hello/llms.txt)" in md.text


def test_model_page_has_form_snippets_and_readme(server: Server) -> None:
    """The model page holds a labelled field per input, the three snippets and the README."""
    text = httpx.get(server.url + "/foretell/hello", headers=HTML).text
    for name in ("name", "language", "repeat", "delay"):
        assert f'<label for="in-{name}">' in text
    assert '<option value="&#34;fr&#34;" selected>fr</option>' in text  # the default example
    assert 'id="in-name" name="name"' in text and 'value="Ada"' in text
    assert 'type="range"' in text and 'min="1" max="20"' in text
    plain = html.unescape(text)
    assert 'client.stream("foretell/hello"' in plain and "replicate.stream" in plain
    assert f"curl -s -X POST {server.url}/v1/models/foretell/hello/predictions" in plain
    assert '<h2 id="readme-heading">README</h2>' in text and "<h3>foretell/hello</h3>" in text
    assert server.token not in text


def test_unknown_model_is_a_404_page_or_the_apis_json(server: Server) -> None:
    """A browser gets a 404 page for a model that isn't here; an API client gets JSON."""
    page = httpx.get(server.url + "/nobody/nothing", headers=HTML)
    assert page.status_code == 404 and "There is no model nobody/nothing" in page.text
    api = httpx.get(server.url + "/nobody/nothing")
    assert api.status_code == 404 and api.json()["detail"]
    assert httpx.get(server.url + "/nobody/nothing/llms.txt").status_code == 404


def test_model_llms_txt_documents_the_schema(server: Server) -> None:
    """A model's llms.txt has its inputs table (types, defaults, ranges, choices), output,
    example and code, with this server's URL; the model page says the same as markdown."""
    md = httpx.get(server.url + "/foretell/hello/llms.txt").text
    assert md.startswith("# foretell/hello\n")
    assert "| `repeat` | integer | no | `3` | ≥ 1; ≤ 20 | How many greetings |" in md
    assert "one of `en`, `fr`, `de`, `es`" in md
    assert "a text stream" in md
    assert '"language": "fr"' in md  # the default example
    assert f'base_url="{server.url}"' in md and f'baseUrl: "{server.url}/v1"' in md
    assert "## README" in md and "### foretell/hello" in md
    assert httpx.get(server.url + "/foretell/hello", headers=MARKDOWN).text == md
    choices = httpx.get(server.url + "/acme/choices/llms.txt").text
    assert "| `size` | string (choice) | yes |  | one of `small`, `medium`, `large` |" in choices


def test_server_llms_txt_is_the_api_workflow(server: Server) -> None:
    """/llms.txt walks through the workflow with the server's real base URL and lists models."""
    md = httpx.get(server.url + "/llms.txt").text
    for step in ("Choose a model", "Read its schema", "Create a prediction", "webhook", "stream",
                 "Chain models", "before they expire"):  # fmt: skip
        assert step in md
    assert f"GET {server.url}/v1/models" in md and "3600 s" in md
    assert f"{server.url}/mcp" in md and f"{server.url}/openapi.json" in md
    assert f"[acme/choices]({server.url}/acme/choices/llms.txt)" in md


def test_prediction_markdown_needs_your_token(server: Server) -> None:
    """/p/{id} as markdown shows the prediction to its owner only; the HTML shell shows nothing."""
    with server.client() as http:
        made = http.post(
            "/v1/models/foretell/hello/predictions",
            json={"input": {"name": "Ada", "delay": 0}},
            headers={"Prefer": "wait"},
        ).json()
    url = f"{server.url}/p/{made['id']}"
    assert made["urls"]["web"] == url
    assert httpx.get(url, headers=MARKDOWN).status_code == 401
    md = httpx.get(url, headers={**MARKDOWN, "Authorization": f"Bearer {server.token}"}).text
    assert md.startswith(f"# Prediction {made['id']}") and "Hello Ada!" in md
    assert "**succeeded**" in md and "predict_time" in md
    shell = httpx.get(url, headers=HTML).text
    assert made["id"] in shell and "Hello Ada!" not in shell
    assert httpx.get(server.url + "/p", headers=MARKDOWN).status_code == 401
    history = httpx.get(
        server.url + "/p", headers={**MARKDOWN, "Authorization": f"Bearer {server.token}"}
    )
    assert f"| [{made['id']}]({url}) | `foretell/hello` | succeeded |" in history.text


def _snippet(server: Server, language: str) -> str:
    md = httpx.get(server.url + "/foretell/hello/llms.txt").text
    fence = {"python": "python", "javascript": "javascript", "curl": "bash"}[language]
    match = re.search(rf"```{fence}\n(.*?)```", md, re.S)
    assert match
    return match.group(1)


def test_the_python_snippet_runs_as_written(server: Server) -> None:
    """The Python snippet, pasted as is, streams the greeting through the official client."""
    env = {**os.environ, "REPLICATE_API_TOKEN": server.token}
    code = _snippet(server, "python")
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["Bonjour", "Ada!"] * 2


def test_the_curl_snippet_runs_as_written(server: Server) -> None:
    """The curl snippet, pasted into bash, waits for one run and streams another over SSE."""
    if not shutil.which("curl"):
        pytest.skip("curl is not installed")
    env = {**os.environ, "REPLICATE_API_TOKEN": server.token}
    code = _snippet(server, "curl")
    done = subprocess.run(["bash", "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert '"status":"succeeded"' in done.stdout.replace(" ", ""), done.stdout + done.stderr
    assert re.search(r"event: output\nid: \d+\ndata: Bonjour", done.stdout)
    assert (
        done.stdout.rstrip().endswith("event: done\nid: 4\ndata: {}")
        or "event: done" in done.stdout
    )


def test_the_javascript_snippet_runs_as_written(server: Server, tmp_path: pathlib.Path) -> None:
    """The JavaScript snippet, saved as a module, streams the greeting through the npm client."""
    if not shutil.which("node") or not (NODE_MODULES / "replicate").exists():
        pytest.skip("node and the replicate npm package come with scripts/install --dev")
    (tmp_path / "node_modules").symlink_to(NODE_MODULES)
    script = tmp_path / "run.mjs"
    script.write_text(_snippet(server, "javascript"))
    env = {**os.environ, "REPLICATE_API_TOKEN": server.token}
    done = subprocess.run(
        ["node", str(script)], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["Bonjour", "Ada!"] * 2


def test_no_auth_pages_need_no_token(tmp_path: pathlib.Path) -> None:
    """With --no-auth the pages ask for no token and the snippets send none."""
    server = start_server(tmp_path / "data", ["foretell/hello"], "--no-auth", token="none")
    try:
        page = httpx.get(server.url + "/foretell/hello", headers=HTML).text
        assert 'data-auth="off"' in page and "Authorization: Bearer" not in page
        assert "no token is needed" in httpx.get(server.url + "/llms.txt").text
        made = httpx.post(
            server.url + "/v1/models/foretell/hello/predictions",
            json={"input": {"delay": 0}},
            headers={"Prefer": "wait"},
        ).json()
        assert "Hello World!" in httpx.get(made["urls"]["web"], headers=MARKDOWN).text
    finally:
        server.stop()
