"""The MCP server: foretell's tools (official `mcp` SDK) over any Replicate-compatible API.

The same tools serve `foretell mcp` (stdio, one API and token from flags/environment) and
the server's `/mcp` endpoint (each call made with the caller's own bearer token, so auth and
account isolation are exactly the HTTP API's).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from foretell import __version__
from foretell.client import ApiError, Client, ConnectError
from foretell.mcp import tools

#: gives each tool call the client to use, from that call's context
ClientSource = Callable[[Context], AbstractAsyncContextManager[Client]]

INSTRUCTIONS = (
    "Run AI models on a Replicate-compatible API (foretell or Replicate). Typical flow: "
    "search_models, get_model (its inputs and an example input), upload_file for local files, "
    "create_prediction (waits for the result), then get_prediction for one still running."
)


def create_server(source: ClientSource, allow_paths: bool) -> MCPServer:
    """An MCPServer whose tools call the API through the client `source` gives them.

    `allow_paths`: upload_file may read a local path (stdio only, never over HTTP, where the
    path would be the server's file system).
    """
    server: MCPServer = MCPServer(
        "foretell", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING"
    )

    async def call(
        ctx: Context, work: Callable[[Client], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        try:
            async with source(ctx) as client:
                return await work(client)
        except ApiError as exc:
            raise ToolError(f"{exc.title} ({exc.status}): {exc.detail.strip()}") from exc
        except (ConnectError, tools.ToolInputError) as exc:
            raise ToolError(str(exc)) from exc

    @server.tool()
    async def search_models(
        ctx: Context,
        query: Annotated[str, Field(description="Words to look for; empty: every model.")] = "",
    ) -> dict[str, Any]:
        """Find models by name or description."""
        return await call(ctx, lambda c: tools.search_models(c, query))

    @server.tool()
    async def get_model(
        ctx: Context, model: Annotated[str, Field(description="owner/name")]
    ) -> dict[str, Any]:
        """A model's description, its inputs (type, default, limits) and a valid example input."""
        return await call(ctx, lambda c: tools.get_model(c, model))

    @server.tool()
    async def create_prediction(
        ctx: Context,
        model: Annotated[str, Field(description="owner/name, or owner/name:version")],
        input: Annotated[dict[str, Any], Field(description="The model's inputs (see get_model).")],
        wait_seconds: Annotated[
            float, Field(ge=0, le=tools.MAX_WAIT_S, description="How long to wait for the result.")
        ] = 60,
        webhook: Annotated[
            str | None, Field(description="An https URL to POST the prediction to as it runs.")
        ] = None,
    ) -> dict[str, Any]:
        """Run a model: returns its output (and output file URLs), or its id if still running."""
        return await call(
            ctx, lambda c: tools.create_prediction(c, model, input, wait_seconds, webhook)
        )

    @server.tool()
    async def get_prediction(
        ctx: Context,
        id: Annotated[str, Field(description="The prediction's id.")],
    ) -> dict[str, Any]:
        """A prediction's status, output, output file URLs, error and the end of its logs."""
        return await call(ctx, lambda c: tools.get_prediction(c, id))

    @server.tool()
    async def cancel_prediction(
        ctx: Context,
        id: Annotated[str, Field(description="The prediction's id.")],
    ) -> dict[str, Any]:
        """Cancel a running prediction."""
        return await call(ctx, lambda c: tools.cancel_prediction(c, id))

    @server.tool()
    async def list_predictions(
        ctx: Context,
        cursor: Annotated[
            str | None, Field(description="next_cursor of the previous page; none: the first.")
        ] = None,
    ) -> dict[str, Any]:
        """Your predictions, newest first."""
        return await call(ctx, lambda c: tools.list_predictions(c, cursor))

    @server.tool()
    async def upload_file(
        ctx: Context,
        filename: Annotated[
            str, Field(description="The file's name (its type is guessed from it).")
        ] = "",
        content_base64: Annotated[
            str | None, Field(description="The file's bytes, base64.")
        ] = None,
        path: Annotated[
            str | None, Field(description="A local file to send (local stdio server only).")
        ] = None,
    ) -> dict[str, Any]:
        """Upload a file; returns the URL to pass as a model's file input."""
        return await call(
            ctx, lambda c: tools.upload_file(c, filename, content_base64, path, allow_paths)
        )

    return server
