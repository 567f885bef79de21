"""foretell's MCP tools through the official `mcp` SDK client, over stdio and streamable HTTP."""

from __future__ import annotations

import base64
import json
import os
import pathlib
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.server import Server, fixture_model, start_server

FORETELL = pathlib.Path(sys.executable).parent / "foretell"
TOOLS = {
    "search_models", "get_model", "create_prediction", "get_prediction", "cancel_prediction",
    "list_predictions", "upload_file",
}  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("mcp")
    sleep = fixture_model(
        tmp, "sleep", 'predict: "predict.py:Predictor"\nimage: r8.im/test/sleep\n'
    )
    started = start_server(tmp / "data", ["foretell/hello", "foretell/wordcount", str(sleep)])
    yield started
    started.stop()


@asynccontextmanager
async def stdio(server: Server) -> AsyncIterator[Client]:
    """`foretell mcp` as an MCP client launches it: a subprocess on stdin/stdout."""
    env = {**os.environ, "FORETELL_BASE_URL": server.url, "REPLICATE_API_TOKEN": server.token}
    params = StdioServerParameters(command=str(FORETELL), args=["mcp"], env=env)
    async with Client(params) as client:
        yield client


@asynccontextmanager
async def http(server: Server, token: str | None = None) -> AsyncIterator[Client]:
    """The server's own /mcp endpoint with a bearer token."""
    headers = {"Authorization": f"Bearer {token or server.token}"}
    async with httpx2.AsyncClient(headers=headers, timeout=120) as http_client:
        transport = streamable_http_client(server.url + "/mcp", http_client=http_client)
        async with Client(transport) as client:
            yield client


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """A tool's structured result; a failed call raises with its message."""
    result = await client.call_tool(tool, arguments)
    text = "".join(getattr(block, "text", "") for block in result.content)
    if result.is_error:
        raise ToolFailed(text)
    return dict(result.structured_content or json.loads(text))


class ToolFailed(Exception):
    """A tool call came back with is_error."""


@pytest.mark.parametrize("transport", [stdio, http])
async def test_find_a_model_read_its_schema_and_run_its_example(
    server: Server, transport: Any
) -> None:
    """search -> get_model's example input -> create_prediction returns the finished output."""
    async with transport(server) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert TOOLS <= names
        found = await call(client, "search_models", query="greet")
        assert [m["model"] for m in found["models"]] == ["foretell/hello"]
        model = await call(client, "get_model", model="foretell/hello")
        assert {f["name"] for f in model["inputs"]} >= {"name", "repeat", "delay"}
        example = {**model["example_input"], "delay": 0}
        done = await call(client, "create_prediction", model="foretell/hello", input=example)
        assert done["status"] == "succeeded"
        assert done["text"].startswith("Bonjour Ada")
        listed = await call(client, "list_predictions")
        assert done["id"] in [p["id"] for p in listed["predictions"]]


@pytest.mark.parametrize("transport", [stdio, http])
async def test_invalid_input_fails_the_call_with_the_apis_message(
    server: Server, transport: Any
) -> None:
    """A bad input is a tool error carrying the 422's field message."""
    async with transport(server) as client:
        with pytest.raises(ToolFailed, match=r"input\.repeat: must be <= 20 \(got 99\)"):
            await call(client, "create_prediction", model="foretell/hello", input={"repeat": 99})
        with pytest.raises(ToolFailed, match="not a model reference"):
            await call(client, "get_model", model="no slash")


async def test_a_long_prediction_returns_its_id_then_can_be_cancelled(server: Server) -> None:
    """With wait_seconds=0 the call returns the running prediction's id; cancel ends it."""
    async with http(server) as client:
        created = await call(
            client, "create_prediction", model="test/sleep", input={"seconds": 30}, wait_seconds=0
        )
        assert created["status"] in ("starting", "processing") and "hint" in created
        await call(client, "cancel_prediction", id=created["id"])
        deadline = time.monotonic() + 20
        status = ""
        while time.monotonic() < deadline and status != "canceled":
            status = (await call(client, "get_prediction", id=created["id"]))["status"]
        assert status == "canceled"


async def test_upload_then_run_on_the_file_and_get_its_output_url(server: Server) -> None:
    """upload_file (base64) gives a URL a model takes; the result lists its output file's URL."""
    async with http(server) as client:
        content = base64.b64encode(b"to be or not to be\n").decode()
        uploaded = await call(client, "upload_file", filename="hamlet.txt", content_base64=content)
        done = await call(
            client, "create_prediction", model="foretell/wordcount", input={"text": uploaded["url"]}
        )
        assert done["output"]["words"] == 6
        [report] = done["output_urls"]
        assert "be\t2" in httpx.get(report).text  # signed: no token needed


async def test_paths_are_read_only_by_a_local_stdio_server(
    server: Server, tmp_path: pathlib.Path
) -> None:
    """upload_file's path works over stdio; over HTTP it is refused (it would be the server's disk)."""
    local = tmp_path / "words.txt"
    local.write_text("a b\n")
    async with stdio(server) as client:
        uploaded = await call(client, "upload_file", path=str(local))
        assert uploaded["size"] == 4
    async with http(server) as client:
        with pytest.raises(ToolFailed, match="content_base64"):
            await call(client, "upload_file", path=str(local))


async def test_http_endpoint_needs_a_token_and_isolates_accounts(server: Server) -> None:
    """/mcp without a valid bearer token is 401; another account can't read a prediction."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    for headers in ({}, {"Authorization": "Bearer r8_wrong"}):
        response = httpx.post(server.url + "/mcp", json=body, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
    import subprocess

    created = subprocess.run(
        [str(FORETELL), "tokens", "create", "--data-dir", str(server.data_dir), "--account", "eve"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    other = created.stdout.split()[-1]
    async with http(server) as client:
        mine = await call(client, "create_prediction", model="foretell/hello", input={"delay": 0})
    async with http(server, other) as client:
        with pytest.raises(ToolFailed, match="404"):
            await call(client, "get_prediction", id=mine["id"])
        assert (await call(client, "list_predictions"))["predictions"] == []
