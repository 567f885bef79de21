"""Replicate's own MCP server (`replicate-mcp` from npm) pointed at foretell: its model,
prediction and file tools succeed against a real `foretell serve`."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPError

from tests.server import Server, start_server

JS = pathlib.Path(__file__).parents[1] / "e2e" / "js" / "node_modules" / "replicate-mcp"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not JS.is_dir(),
    reason="needs Node.js and `npm install` in tests/e2e/js (scripts/install --dev does both)",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("replicate-mcp")
    started = start_server(tmp / "data", ["foretell/hello"])
    yield started
    started.stop()


class Tools:
    """Calls replicate-mcp's tools; each must succeed (is_error false)."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def __call__(self, name: str, **arguments: Any) -> Any:
        result = await self.client.call_tool(name, arguments)
        text = "".join(getattr(block, "text", "") for block in result.content)
        assert not result.is_error, f"{name}: {text}"
        try:
            return json.loads(text)
        except ValueError:
            return text


async def test_models_predictions_and_files_tools_succeed(server: Server) -> None:
    """list/get/search models, readme, versions, examples; create (both ways), get, list and
    cancel predictions; create, list, get, download and delete files: all answer."""
    env = {
        **os.environ,
        "REPLICATE_API_TOKEN": server.token,
        "REPLICATE_BASE_URL": server.url + "/v1",  # replicate-stainless's default has /v1
    }
    params = StdioServerParameters(
        command="node", args=[str(JS / "index.js"), "--tools=all"], env=env
    )
    async with Client(params) as client:
        call = Tools(client)
        listed = await call("list_models")
        assert "foretell/hello" in json.dumps(listed)
        model = {"model_owner": "foretell", "model_name": "hello"}
        for tool in ("get_models", "list_models_examples", "list_models_versions"):
            await call(tool, **model)
        await call("search_models", body="greet")
        assert (await call("get_models_readme", **model)).startswith("# foretell/hello")
        made = await call("create_models_predictions", **model, input={"delay": 0}, Prefer="wait")
        assert made["status"] == "succeeded"
        await call("get_models_versions", **model, version_id=made["version"])
        pinned = await call("create_predictions", version=made["version"], input={"delay": 0})
        assert (await call("get_predictions", prediction_id=pinned["id"]))["id"] == pinned["id"]
        assert pinned["id"] in json.dumps(await call("list_predictions"))
        await call("cancel_predictions", prediction_id=pinned["id"])
        uploaded = await call(
            "create_files", content="hello file", filename="a.txt", type="text/plain"
        )
        assert uploaded["size"] == 10
        assert uploaded["id"] in json.dumps(await call("list_files"))
        assert (await call("get_files", file_id=uploaded["id"]))["name"] == "a.txt"
        await call(
            "download_files", file_id=uploaded["id"], owner="local", expiry=2**31, signature="-"
        )
        await call("delete_files", file_id=uploaded["id"])
        with pytest.raises(MCPError, match="404"):  # deleted: replicate-mcp relays the API's 404
            await client.call_tool("get_files", {"file_id": uploaded["id"]})
        await call("get_account")
