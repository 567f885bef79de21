"""A small async client for any Replicate-compatible HTTP API (foretell's or Replicate's own).

Used by `foretell run`/`predictions`/`models` and by the MCP server. It speaks the public API
only (no foretell internals), so whatever it does against foretell also works against
api.replicate.com, and the other way round.
"""

from __future__ import annotations

import mimetypes
import os
import urllib.parse
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from foretell import __version__
from foretell.core.refs import ModelRef

#: `foretell serve`'s default address
DEFAULT_BASE_URL = "http://127.0.0.1:5000"
TERMINAL = ("succeeded", "failed", "canceled", "aborted")


class ApiError(Exception):
    """The API answered with an error status; `detail` is its message, verbatim."""

    def __init__(self, status: int, title: str, detail: str, body: Mapping[str, Any]) -> None:
        self.status = status
        self.title = title
        self.detail = detail
        self.body = body
        super().__init__(f"{title} ({status}): {detail}")

    @property
    def invalid_fields(self) -> list[dict[str, Any]]:
        """A 422's `invalid_fields` (empty for other errors)."""
        fields = self.body.get("invalid_fields")
        return list(fields) if isinstance(fields, list) else []


class ConnectError(Exception):
    """The API could not be reached at all (wrong `--base-url`, server not running)."""


@dataclass(frozen=True)
class StreamEvent:
    """One Server-Sent Event of a prediction's stream: `output`, `logs`, `error` or `done`."""

    event: str
    data: str
    id: str | None = None


@dataclass
class ClientConfig:
    """Where the API is and who calls it: flags first, then the environment, then defaults."""

    base_url: str = DEFAULT_BASE_URL
    token: str | None = None
    timeout_s: float = 30.0
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, base_url: str | None = None, token: str | None = None) -> ClientConfig:
        """`--base-url`/`FORETELL_BASE_URL`, `--token`/`REPLICATE_API_TOKEN`."""
        return cls(
            base_url=base_url or os.environ.get("FORETELL_BASE_URL") or DEFAULT_BASE_URL,
            token=token or os.environ.get("REPLICATE_API_TOKEN") or None,
        )


def api_root(base_url: str) -> str:
    """`http://host:port/v1` from `http://host:port`, `.../v1` or `.../v1/`."""
    base = base_url.rstrip("/")
    return base if base.endswith("/v1") else base + "/v1"


class Client:
    """The API's resources as coroutines returning its JSON; errors raise ApiError."""

    def __init__(self, config: ClientConfig, transport: httpx.AsyncBaseTransport | None = None):
        headers = {"User-Agent": f"foretell/{__version__}", **config.headers}
        if config.token:
            headers["Authorization"] = f"Bearer {config.token}"
        self.root = api_root(config.base_url)
        self._http = httpx.AsyncClient(
            headers=headers, timeout=config.timeout_s, transport=transport, follow_redirects=True
        )

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    # ---- models ------------------------------------------------------------------------

    async def model(self, owner: str, name: str) -> dict[str, Any]:
        """A model with its latest version (and its `openapi_schema`)."""
        return await self._json("GET", f"/models/{owner}/{name}")

    async def version(self, owner: str, name: str, version: str) -> dict[str, Any]:
        """One version of a model."""
        return await self._json("GET", f"/models/{owner}/{name}/versions/{version}")

    async def create_model(self, owner: str, name: str, **fields: Any) -> dict[str, Any]:
        """Create a model (POST /models: visibility, hardware, description...)."""
        return await self._json("POST", "/models", json={"owner": owner, "name": name, **fields})

    async def push_version(self, owner: str, name: str, archive: bytes) -> dict[str, Any]:
        """Push a model directory's .tar.gz as a new version (foretell's extension); the
        version's build as `build()` shows it."""
        path = f"/models/{owner}/{name}/versions"
        return await self._json("POST", path, content=archive, media="application/gzip")

    async def build(self, owner: str, name: str, version: str) -> dict[str, Any]:
        """How far a pushed version's build has come (status, logs, error)."""
        return await self._json("GET", f"/models/{owner}/{name}/versions/{version}/build")

    async def models(self, cursor: str | None = None) -> dict[str, Any]:
        """A page of models (`results`, `next`)."""
        return await self._json("GET", cursor or "/models")

    async def search(self, query: str) -> dict[str, Any]:
        """Models matching a query (Replicate's `QUERY /models`, which foretell serves too)."""
        return await self._json("QUERY", "/models", content=query, media="text/plain")

    async def schema(self, ref: ModelRef) -> dict[str, Any]:
        """The OpenAPI schema of a model's latest version, or of the version `ref` names."""
        owner, name = _owner_name(ref)
        if ref.version:
            found = await self.version(owner, name, ref.version)
        else:
            found = (await self.model(owner, name)).get("latest_version") or {}
        schema = found.get("openapi_schema") or {}
        return dict(schema)

    # ---- predictions -------------------------------------------------------------------

    async def create_prediction(
        self,
        ref: ModelRef,
        inputs: Mapping[str, Any],
        *,
        wait_s: int | None = None,
        webhook: str | None = None,
        webhook_events: list[str] | None = None,
    ) -> dict[str, Any]:
        """Create a prediction on a model (its latest version) or a given version."""
        body: dict[str, Any] = {"input": dict(inputs)}
        if webhook:
            body["webhook"] = webhook
        if webhook_events:
            body["webhook_events_filter"] = webhook_events
        headers = {"Prefer": f"wait={wait_s}"} if wait_s else {}
        if ref.version:
            path = "/predictions"
            body["version"] = ref.version
        else:
            owner, name = _owner_name(ref)
            path = f"/models/{owner}/{name}/predictions"
        return await self._json("POST", path, json=body, headers=headers)

    async def prediction(self, prediction_id: str) -> dict[str, Any]:
        """A prediction's current state."""
        return await self._json("GET", f"/predictions/{_segment(prediction_id)}")

    async def cancel(self, prediction_id: str) -> dict[str, Any]:
        """Cancel a prediction (a no-op on a finished one)."""
        return await self._json("POST", f"/predictions/{_segment(prediction_id)}/cancel")

    async def predictions(self, cursor: str | None = None) -> dict[str, Any]:
        """A page of the caller's predictions, newest first."""
        return await self._json("GET", cursor or "/predictions")

    async def stream(self, prediction: Mapping[str, Any]) -> AsyncIterator[StreamEvent]:
        """The prediction's Server-Sent Events, from the start, until `done`."""
        url = (prediction.get("urls") or {}).get("stream")
        if not url:
            raise ApiError(400, "No stream", "this prediction has no urls.stream", {})
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-store"}
        try:
            async with self._http.stream("GET", url, headers=headers, timeout=None) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise _error(response)
                async for event in _sse_events(response.aiter_lines()):
                    yield event
                    if event.event == "done":
                        return
        except httpx.TransportError as exc:
            raise ConnectError(f"{url}: {exc}") from exc

    # ---- files -------------------------------------------------------------------------

    async def upload(
        self, content: bytes, filename: str, content_type: str | None = None
    ) -> dict[str, Any]:
        """Upload a file with the Files API; pass its `urls.get` as a prediction input."""
        kind = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        files = {"content": (filename, content, kind)}
        return await self._json("POST", "/files", files=files)

    async def download(self, url: str, target: Path) -> Path:
        """Save an output file (signed URLs need no token, but sending it is harmless)."""
        try:
            async with self._http.stream("GET", url, timeout=None) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise _error(response)
                with target.open("wb") as out:
                    async for chunk in response.aiter_bytes():
                        out.write(chunk)
        except httpx.TransportError as exc:
            raise ConnectError(f"{url}: {exc}") from exc
        return target

    # ---- plumbing ----------------------------------------------------------------------

    async def _json(
        self,
        method: str,
        path: str,
        *,
        media: str | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        url = path if path.startswith(("http://", "https://")) else self.root + path
        sent = dict(headers or {})
        if media:
            sent["Content-Type"] = media
        try:
            response = await self._http.request(method, url, headers=sent, **kwargs)
        except httpx.TransportError as exc:
            raise ConnectError(f"could not reach {self.root}: {exc}") from exc
        if response.status_code >= 400:
            raise _error(response)
        body = response.json()
        return body if isinstance(body, dict) else {"results": body}


def input_fields(openapi: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The model's inputs in order: name, type, required, default, description, limits."""
    components: dict[str, Any] = dict(openapi.get("components", {}).get("schemas", {}))
    schema = components.get("Input", {})
    required = set(schema.get("required", []))
    fields = []
    for name, prop in schema.get("properties", {}).items():
        prop = _resolved(prop, components)
        kind = prop.get("type", "any")
        if prop.get("format") == "uri":
            kind = "file (URL)"
        elif kind == "array":
            item = _resolved(prop.get("items", {}), components)
            kind = f"list of {'file (URL)' if item.get('format') == 'uri' else item.get('type', 'any')}"
        entry: dict[str, Any] = {"name": name, "type": kind, "required": name in required}
        for key in (
            "default",
            "description",
            "enum",
            "minimum",
            "maximum",
            "minLength",
            "maxLength",
            "pattern",
        ):
            if key in prop:
                entry[key] = prop[key]
        fields.append((prop.get("x-order", 1_000_000), entry))
    return [entry for _, entry in sorted(fields, key=lambda pair: pair[0])]


def example_input(model: Mapping[str, Any]) -> dict[str, Any]:
    """A valid input: the model's default example's, else every required field's default
    (or a placeholder of its type)."""
    example = (model.get("default_example") or {}).get("input")
    if isinstance(example, dict) and example:
        return dict(example)
    openapi = (model.get("latest_version") or {}).get("openapi_schema") or {}
    placeholders = {"string": "text", "integer": 1, "number": 1.0, "boolean": True}
    found: dict[str, Any] = {}
    for field_ in input_fields(openapi):
        if "default" in field_:
            found[field_["name"]] = field_["default"]
        elif field_["required"]:
            enum = field_.get("enum")
            kind = field_["type"]
            base = kind.removeprefix("list of ")
            value: Any = (
                enum[0] if enum else placeholders.get(base, "https://example.com/input.png")
            )
            found[field_["name"]] = [value] if kind.startswith("list") else value
    return found


def _resolved(prop: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """Follow `allOf: [{$ref}]` (how Cog writes `choices`) to the enum it names."""
    for part in prop.get("allOf", []):
        if isinstance(part, dict) and "$ref" in part:
            return {**prop, **components.get(part["$ref"].rsplit("/", 1)[-1], {})}
    return prop


def _owner_name(ref: ModelRef) -> tuple[str, str]:
    if not (ref.owner and ref.name):
        raise ValueError("name the model as OWNER/NAME or OWNER/NAME:VERSION, not a bare version")
    return ref.owner, ref.name


def _segment(text: str) -> str:
    """A path segment; a prediction id can't smuggle `/` or `..` into the URL."""
    return urllib.parse.quote(text, safe="")


def _error(response: httpx.Response) -> ApiError:
    """Replicate's problem details (`title`, `detail`), or whatever text came back."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    title = str(body.get("title") or response.reason_phrase or "Error")
    detail = body.get("detail") or response.text.strip() or f"HTTP {response.status_code}"
    return ApiError(response.status_code, title, str(detail), body)


async def _sse_events(lines: AsyncIterator[str]) -> AsyncIterator[StreamEvent]:
    """Parse `event:`/`data:`/`id:` lines into events (the text/event-stream format)."""
    event, data, last_id = "message", list[str](), None
    async for line in lines:
        if not line:
            if data:
                yield StreamEvent(event, "\n".join(data), last_id)
            event, data = "message", []
            continue
        if line.startswith(":"):
            continue  # a keep-alive comment
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
        elif name == "id":
            last_id = value
    if data:
        yield StreamEvent(event, "\n".join(data), last_id)


__all__ = [
    "DEFAULT_BASE_URL",
    "TERMINAL",
    "ApiError",
    "Client",
    "ClientConfig",
    "ConnectError",
    "StreamEvent",
    "api_root",
    "example_input",
    "input_fields",
]
