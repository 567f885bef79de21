"""How the CLI addresses Replicate itself (outside this machine, so a mock transport plays it)."""

from __future__ import annotations

import json
from typing import Any

import httpx

from foretell.cli.remote import resolve
from foretell.client import Client, ClientConfig
from foretell.core.refs import ModelRef

VERSION = "a" * 64
SCHEMA: dict[str, Any] = {"components": {"schemas": {"Input": {"properties": {}}}}}


def replicate_like(official: bool, seen: list[tuple[str, str, str]]) -> httpx.MockTransport:
    """GET a model like api.replicate.com answers it; record each request."""

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path, request.content.decode()))
        if request.method == "GET":
            latest = {"id": VERSION, "openapi_schema": SCHEMA}
            return httpx.Response(200, json={"is_official": official, "latest_version": latest})
        return httpx.Response(201, json={"id": "p1", "status": "starting", "urls": {}})

    return httpx.MockTransport(handle)


async def test_a_community_model_runs_by_its_latest_version() -> None:
    """Replicate runs a non-official model only by version: the CLI pins the latest one."""
    seen: list[tuple[str, str, str]] = []
    config = ClientConfig(base_url="https://api.replicate.com", token="r8_x")
    async with Client(config, transport=replicate_like(False, seen)) as client:
        ref, schema = await resolve(client, ModelRef.parse("acme/upscaler"))
        assert ref.version == VERSION and schema == SCHEMA
        await client.create_prediction(ref, {})
    assert seen[-1][:2] == ("POST", "/v1/predictions")
    assert json.loads(seen[-1][2])["version"] == VERSION


async def test_an_official_model_runs_through_its_model_endpoint() -> None:
    """An official model (every foretell model) is run by name, so its latest version is used."""
    seen: list[tuple[str, str, str]] = []
    config = ClientConfig(base_url="https://api.replicate.com/v1", token="r8_x")
    async with Client(config, transport=replicate_like(True, seen)) as client:
        ref, _ = await resolve(client, ModelRef.parse("acme/official"))
        assert ref.version is None
        await client.create_prediction(ref, {"a": 1})
    assert seen[-1][:2] == ("POST", "/v1/models/acme/official/predictions")
