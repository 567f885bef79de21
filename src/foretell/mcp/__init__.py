"""MCP front end: foretell's tools over stdio (`foretell mcp`) and the server's `/mcp`."""

from __future__ import annotations

from foretell.mcp.server import create_server

__all__ = ["create_server"]
