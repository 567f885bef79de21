"""`foretell mcp`: an MCP server on stdio for any Replicate-compatible API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from foretell.cli.remote import BaseUrlOption, TokenOption


def mcp_command(base_url: BaseUrlOption = None, token: TokenOption = None) -> None:
    """Serve MCP tools on stdin/stdout (search models, read schemas, run, cancel, upload).

    Point an MCP client at `foretell mcp --base-url URL` with REPLICATE_API_TOKEN set.
    """
    from foretell.client import Client, ClientConfig
    from foretell.mcp import create_server

    config = ClientConfig.from_env(base_url, token)

    @asynccontextmanager
    async def client(_ctx: object) -> AsyncIterator[Client]:
        async with Client(config) as made:
            yield made

    create_server(client, allow_paths=True).run("stdio")
