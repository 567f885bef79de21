"""What each MCP tool does, over a Client: search, describe, run, get, cancel, list, upload.

The results are small JSON objects shaped for a language model to read: the fields that
matter first, output file URLs pulled out, long logs cut to their end.
"""

from __future__ import annotations

import asyncio
import base64
import time
from pathlib import Path
from typing import Any

from foretell.client import TERMINAL, Client, example_input, input_fields
from foretell.core.refs import InvalidModelRef, ModelRef

#: the longest a create_prediction call waits for its result before returning the id
MAX_WAIT_S = 300
#: how much of a prediction's logs a result carries (their end)
LOG_TAIL = 2000
POLL_S = 0.5


class ToolInputError(ValueError):
    """An argument a tool can't use; its message says what to send instead."""


async def search_models(client: Client, query: str) -> dict[str, Any]:
    """Models whose name or description match `query` (all of them for an empty one)."""
    page = await (client.search(query) if query.strip() else client.models())
    models = [_model_summary(m) for m in page.get("results", [])]
    return {"models": models, "count": len(models)}


async def get_model(client: Client, model: str) -> dict[str, Any]:
    """A model with its inputs and a valid example input."""
    ref = _ref(model)
    found = await client.model(ref.owner or "", ref.name or "")
    version = found.get("latest_version") or {}
    openapi = version.get("openapi_schema") or {}
    output = openapi.get("components", {}).get("schemas", {}).get("Output", {})
    return {
        **_model_summary(found),
        "version": version.get("id"),
        "inputs": input_fields(openapi),
        "example_input": example_input(found),
        "output_schema": output,
        "schema_ready": bool(openapi),
    }


async def create_prediction(
    client: Client,
    model: str,
    inputs: dict[str, Any],
    wait_seconds: float,
    webhook: str | None = None,
) -> dict[str, Any]:
    """Create a prediction and wait for it up to `wait_seconds` (then return its id)."""
    ref = _ref(model)
    limit = max(0.0, min(float(wait_seconds), MAX_WAIT_S))
    deadline = time.monotonic() + limit
    prefer = int(min(limit, 60)) or None
    prediction = await client.create_prediction(ref, inputs, wait_s=prefer, webhook=webhook)
    while prediction["status"] not in TERMINAL and time.monotonic() < deadline:
        await asyncio.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))
        prediction = await client.prediction(prediction["id"])
    return prediction_summary(prediction)


async def get_prediction(client: Client, prediction_id: str) -> dict[str, Any]:
    """A prediction's state and, once finished, its output."""
    return prediction_summary(await client.prediction(prediction_id))


async def cancel_prediction(client: Client, prediction_id: str) -> dict[str, Any]:
    """Cancel a prediction; a finished one stays as it is."""
    return prediction_summary(await client.cancel(prediction_id))


async def list_predictions(client: Client, cursor: str | None = None) -> dict[str, Any]:
    """A page of the caller's predictions, newest first, and the cursor of the next page."""
    page = await client.predictions(cursor or None)
    results = [
        {key: p.get(key) for key in ("id", "model", "status", "created_at", "error")}
        for p in page.get("results", [])
    ]
    return {"predictions": results, "next_cursor": page.get("next")}


async def upload_file(
    client: Client,
    filename: str,
    content_base64: str | None,
    path: str | None,
    allow_paths: bool,
) -> dict[str, Any]:
    """Upload a file (base64 content, or a local path where the server runs locally)."""
    if path and not allow_paths:
        raise ToolInputError("path is only read by a local (stdio) server: send content_base64")
    if path:
        local = Path(path).expanduser()
        if not local.is_file():
            raise ToolInputError(f"{path}: no such file")
        content, filename = local.read_bytes(), filename or local.name
    elif content_base64 is not None:
        try:
            content = base64.b64decode(content_base64, validate=True)
        except ValueError as exc:
            raise ToolInputError(f"content_base64 is not valid base64: {exc}") from exc
    else:
        raise ToolInputError("send content_base64 (or path, to a local server)")
    if not filename:
        raise ToolInputError("filename is required with content_base64")
    uploaded = await client.upload(content, filename)
    return {
        "url": uploaded["urls"]["get"],
        "id": uploaded.get("id"),
        "size": uploaded.get("size"),
        "content_type": uploaded.get("content_type"),
        "hint": "pass url as the file input of create_prediction",
    }


def prediction_summary(p: dict[str, Any]) -> dict[str, Any]:
    """The fields an assistant needs; output file URLs listed apart from the output."""
    logs = p.get("logs") or ""
    summary = {
        "id": p.get("id"),
        "model": p.get("model"),
        "status": p.get("status"),
        "output": p.get("output"),
        "output_urls": _urls(p.get("output")),
        "error": p.get("error"),
        "logs": logs[-LOG_TAIL:],
        "metrics": p.get("metrics"),
        "urls": p.get("urls"),
        "created_at": p.get("created_at"),
        "completed_at": p.get("completed_at"),
    }
    output = p.get("output")
    if isinstance(output, list) and output and all(isinstance(x, str) for x in output):
        summary["text"] = "".join(output)  # a streamed text model's pieces, joined
    if p.get("status") not in TERMINAL:
        summary["hint"] = "still running: call get_prediction with this id later"
    return summary


def _model_summary(m: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": f"{m.get('owner')}/{m.get('name')}",
        "description": m.get("description"),
        "status": (m.get("setup") or {}).get("status"),
        "url": m.get("url"),
    }


def _urls(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value.startswith(("http://", "https://")) else []
    if isinstance(value, list):
        return [url for item in value for url in _urls(item)]
    if isinstance(value, dict):
        return [url for item in value.values() for url in _urls(item)]
    return []


def _ref(model: str) -> ModelRef:
    try:
        ref = ModelRef.parse(model)
    except InvalidModelRef as exc:
        raise ToolInputError(str(exc)) from exc
    if ref.model is None:
        raise ToolInputError("name the model as owner/name or owner/name:version")
    return ref
