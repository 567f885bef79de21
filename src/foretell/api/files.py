"""Files API (upload, list, get, delete, download) and signed output-file downloads."""

from __future__ import annotations

import datetime
import mimetypes
from typing import Any

import orjson
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from foretell.api import render
from foretell.api.auth import authenticate
from foretell.api.state import api_state
from foretell.core.prediction import utcnow
from foretell.errors import BadRequest, InvalidField, InvalidRequest, NotFound, TooLarge
from foretell.store.protocol import FileRecord

FILE_TTL = datetime.timedelta(hours=24)
_NOT_FOUND = "File not found"


async def create_file(request: Request) -> Response:
    """POST /v1/files (multipart: `content`, optional `filename`, `type`, `metadata`)."""
    who = await authenticate(request)
    state = api_state(request)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise BadRequest("Upload files as multipart/form-data with a `content` part.")
    limit = state.settings.max_upload_bytes
    async with request.form(max_part_size=limit) as form:
        content = form.get("content")
        if not isinstance(content, UploadFile):
            raise InvalidRequest([InvalidField("required", "content", "content is required")])
        data = await content.read()
        if len(data) > limit:
            raise TooLarge(f"Files must be less than {limit // (1024 * 1024)}MB in size")
        name = _text(form.get("filename")) or content.filename or "file"
        content_type = (
            _text(form.get("type"))
            or (
                content.content_type if content.content_type != "application/octet-stream" else None
            )
            or mimetypes.guess_type(name)[0]
            or "application/octet-stream"
        )
        metadata = await _metadata(form.get("metadata"))
    file_id, path, md5, sha256 = state.files.save_upload(name, data)
    now = utcnow()
    record = FileRecord(
        file_id, who.username, name, content_type, len(data), md5, sha256, metadata,
        now, now + FILE_TTL, str(path),
    )  # fmt: skip
    await state.store.add_file(record)
    return JSONResponse(render.file(request, record), status_code=201)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


async def _metadata(value: Any) -> dict[str, Any]:
    """`metadata` arrives as a text field (Python client) or a JSON file part (JS client)."""
    if value is None:
        return {}
    raw = await value.read() if isinstance(value, UploadFile) else value
    try:
        parsed = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest([InvalidField("invalid_type", "metadata", "must be JSON")]) from exc
    if not isinstance(parsed, dict):
        raise InvalidRequest([InvalidField("invalid_type", "metadata", "must be a JSON object")])
    return parsed


async def list_files(request: Request) -> Response:
    """GET /v1/files — newest first."""
    who = await authenticate(request)
    try:
        page = await api_state(request).store.list_files(
            who.username, limit=100, cursor=request.query_params.get("cursor")
        )
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc
    results = [render.file(request, record) for record in page.items]
    return JSONResponse(render.page(request, results, page.next_cursor, page.previous_cursor))


async def _own_file(request: Request) -> FileRecord:
    who = await authenticate(request)
    record = await api_state(request).store.get_file(who.username, request.path_params["id"])
    if record is None:
        raise NotFound(_NOT_FOUND)
    return record


async def get_file(request: Request) -> Response:
    """GET /v1/files/{id} — the metadata."""
    return JSONResponse(render.file(request, await _own_file(request)))


async def delete_file(request: Request) -> Response:
    """DELETE /v1/files/{id}."""
    record = await _own_file(request)
    state = api_state(request)
    await state.store.delete_file(record.account, record.id)
    state.files.delete_upload(record.id)
    return Response(status_code=204)


async def download_file(request: Request) -> Response:
    """GET /v1/files/{id}/download — the bytes, with a token."""
    record = await _own_file(request)
    return FileResponse(record.path, media_type=record.content_type, filename=record.name)


async def download_output(request: Request) -> Response:
    """GET /v1/outputs/... — an output file, by signed URL (no auth header needed)."""
    state = api_state(request)
    path = request.url.path
    key = path[path.index("/outputs/") + 1 :]
    params = request.query_params
    signed_path = f"/v1/{key}"
    if not state.signer.verify(signed_path, params.get("expiry", ""), params.get("signature", "")):
        raise NotFound("This file URL is invalid or has expired.")
    file_path = state.files.path_of(key)
    if file_path is None:
        raise NotFound(_NOT_FOUND)
    return FileResponse(file_path, media_type=mimetypes.guess_type(file_path.name)[0])
