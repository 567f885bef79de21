"""Reading request bodies: JSON whatever the content type, within the size limit."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from foretell.api.state import api_state
from foretell.errors import BadRequest, TooLarge


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body; 413 as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isascii() and declared.isdigit() and int(declared[:20]) > limit:
        raise TooLarge(f"The request body is larger than the limit of {limit} bytes.")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"The request body is larger than the limit of {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object. Any content type is read as JSON, as Replicate's docs
    post with curl's default form type."""
    state = api_state(request)
    raw = await read_body(request, state.settings.max_body_bytes)
    if not raw.strip():
        raise BadRequest("The request body is empty; send a JSON object.")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    return data
