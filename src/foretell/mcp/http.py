"""The server's `/mcp` endpoint: MCP over streamable HTTP, `Authorization: Bearer` required.

Each tool call goes to the HTTP API in-process (an ASGI transport to the same app) with the
caller's own token and Host, so auth, account isolation and the URLs in results are exactly
what the API gives that caller.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
from mcp.server.mcpserver import Context
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from foretell.api.auth import authenticate
from foretell.api.errors import problem
from foretell.client import Client, ClientConfig
from foretell.errors import ForetellError
from foretell.mcp.server import create_server


class McpEndpoint:
    """An ASGI app for `/mcp`; `running()` must be entered while the server serves."""

    def __init__(self) -> None:
        self.api: ASGIApp | None = None
        server = create_server(self._client, allow_paths=False)
        # Stateless, JSON responses: each POST is one exchange, nothing to keep per session.
        # No DNS-rebinding Host check: every request must carry a valid token anyway.
        server.streamable_http_app(
            stateless_http=True,
            json_response=True,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        self.sessions: StreamableHTTPSessionManager = server.session_manager
        self._running = False

    def bind(self, api: ASGIApp) -> None:
        """The API app the tools call (the app this endpoint is mounted in)."""
        self.api = api

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The MCP session manager's task group, for the life of the server."""
        async with self.sessions.run():
            self._running = True
            try:
                yield
            finally:
                self._running = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            await authenticate(request)
        except ForetellError as exc:
            response = problem(exc.status, exc.title, exc.detail)
            response.headers["WWW-Authenticate"] = "Bearer"
            await response(scope, receive, send)
            return
        if not self._running:
            detail = "the MCP endpoint is not running (serve it with `foretell serve`)"
            await problem(503, "Unavailable", detail)(scope, receive, send)
            return
        await self.sessions.handle_request(scope, receive, send)

    def _client(self, ctx: Context) -> AbstractAsyncContextManager[Client]:
        headers: Any = ctx.headers or {}
        host = headers.get("host") or "127.0.0.1"
        auth = headers.get("authorization")
        assert self.api is not None, "McpEndpoint.bind() was not called"
        # the scheme the caller used (https behind a proxy uvicorn trusts), for the result URLs
        request = getattr(ctx.request_context, "request", None)
        scheme = getattr(getattr(request, "url", None), "scheme", None) or "http"
        config = ClientConfig(
            base_url=f"{scheme}://{host}", headers={"Authorization": auth} if auth else {}
        )
        return Client(config, transport=httpx.ASGITransport(app=self.api))
