"""Files API (upload, list, get, delete, download) and signed output-file downloads."""

from __future__ import annotations

import datetime
import mimetypes
import re
import urllib.parse
from typing import Any

import orjson
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse

from foretell.api import render
from foretell.api.auth import authenticate
from foretell.api.params import page_limit
from foretell.api.protocols import FileStore
from foretell.api.responses import JSONResponse
from foretell.api.state import api_state
from foretell.core.ids import file_id
from foretell.core.times import utcnow
from foretell.errors import BadRequest, InvalidField, InvalidRequest, NotFound, TooLarge
from foretell.files.protocol import InvalidKey, upload_key
from foretell.store.protocol import FileRecord

FILE_TTL = datetime.timedelta(hours=24)
#: what one path segment may hold on the file systems we store on
MAX_FILE_NAME_BYTES = 255
_NOT_FOUND = "File not found"


async def create_file(request: Request) -> Response:
    """POST /v1/files (multipart: `content`, optional `filename`, `type`, `metadata`).

    `content` is a file part (every client) or a plain text field (Replicate's MCP server);
    `metadata` is one JSON field or part, or `metadata[key]` fields (Python client 2.x).
    """
    who = await authenticate(request)
    state = api_state(request)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise BadRequest("Upload files as multipart/form-data with a `content` part.")
    limit = state.settings.max_upload_bytes
    async with request.form(max_part_size=limit) as form:
        data, part_name, part_type = await _content(form.get("content"), limit)
        name = check_file_name(_text(form.get("filename")) or part_name or "file")
        content_type = (
            _text(form.get("type"))
            or part_type
            or mimetypes.guess_type(name)[0]
            or "application/octet-stream"
        )
        metadata = await _metadata(form)
    new_id = file_id()
    stored = await state.files.put(upload_key(new_id, name), data)
    now = utcnow()
    record = FileRecord(
        new_id, who.username, name, content_type, stored.size, stored.md5, stored.sha256,
        metadata, now, now + FILE_TTL, stored.key,
    )  # fmt: skip
    try:
        await state.store.add_file(record)
    except BaseException:  # no record, no bytes: nothing would ever delete them
        await state.files.delete(stored.key)
        raise
    return JSONResponse(render.file(request, record), status_code=201)


async def _content(value: Any, limit: int) -> tuple[bytes, str | None, str | None]:
    """The upload's bytes, with the part's own file name and type where it has them."""
    if isinstance(value, str):  # a text field: its bytes are the file
        data, name, part_type = value.encode(), None, None
    elif isinstance(value, UploadFile):
        data, name = await value.read(), value.filename
        part_type = value.content_type if value.content_type != "application/octet-stream" else None
    else:
        raise InvalidRequest([InvalidField("required", "content", "content is required")])
    if len(data) > limit:
        raise TooLarge(f"Files must be less than {limit // (1024 * 1024)}MB in size")
    return data, name, part_type


def check_file_name(name: str) -> str:
    """`name` if a file can be stored under it (the last path segment is what is kept);
    422 on `filename` otherwise, before anything is written."""
    kept = name.replace("\\", "/").rsplit("/", 1)[-1]
    problem = None
    if "\x00" in name:
        problem = "must not contain a NUL character"
    elif len(name.encode(errors="surrogateescape")) > MAX_FILE_NAME_BYTES:
        problem = f"must be at most {MAX_FILE_NAME_BYTES} bytes long in UTF-8"
    elif kept in ("", ".", ".."):
        problem = "must end in a file name, not a folder"
    if problem is not None:
        raise InvalidRequest([InvalidField("format", "filename", problem)])
    return name


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


async def _metadata(form: FormData) -> dict[str, Any]:
    """`metadata` as a JSON text field (Python 1.x) or JSON file part (JS), merged with
    `metadata[key]` (and `metadata[a][b]`) fields, the nested form Python 2.x sends."""
    value = form.get("metadata")
    metadata: dict[str, Any] = {}
    if value is not None:
        raw = await value.read() if isinstance(value, UploadFile) else value
        try:
            parsed = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError as exc:
            raise InvalidRequest(
                [InvalidField("invalid_type", "metadata", "must be JSON")]
            ) from exc
        if not isinstance(parsed, dict):
            raise InvalidRequest(
                [InvalidField("invalid_type", "metadata", "must be a JSON object")]
            )
        metadata = parsed
    for key, item in form.multi_items():
        if key.startswith("metadata["):
            text = (
                (await item.read()).decode(errors="replace")
                if isinstance(item, UploadFile)
                else item
            )
            _set_nested(metadata, key, text)
    return metadata


def _set_nested(target: dict[str, Any], key: str, value: str) -> None:
    """metadata[a][b]=v -> target["a"]["b"] = "v"; `[]` appends to a list."""
    path = key.removeprefix("metadata")
    if not re.fullmatch(r"(\[[^\[\]]*\])+", path):
        raise InvalidRequest(
            [InvalidField("format", key, "metadata fields are named metadata[key]")]
        )
    keys = re.findall(r"\[([^\[\]]*)\]", path)
    node: Any = target
    for index, name in enumerate(keys):
        last = index == len(keys) - 1
        if isinstance(node, list):  # metadata[tags][]=a
            node.append(value if last else {})
            node = node[-1]
            continue
        if not isinstance(node, dict) or name == "":
            raise InvalidRequest([InvalidField("format", key, "conflicts with another field")])
        if last:
            node[name] = value
        else:
            node = node.setdefault(name, [] if keys[index + 1] == "" else {})


async def list_files(request: Request) -> Response:
    """GET /v1/files — newest first."""
    who = await authenticate(request)
    page = await api_state(request).store.list_files(  # a bad cursor raises InvalidCursor
        who.username,
        limit=page_limit(request.query_params.get("limit")),
        cursor=request.query_params.get("cursor"),
    )
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
    await state.files.delete(record.key)
    return Response(status_code=204)


async def download_file(request: Request) -> Response:
    """GET /v1/files/{id}/download — the bytes, with a token."""
    record = await _own_file(request)
    return await _bytes(api_state(request).files, record.key, record.content_type, record.name)


async def download_output(request: Request) -> Response:
    """GET /v1/outputs/... — an output file, by signed URL (no auth header needed)."""
    state = api_state(request)
    path = request.url.path
    key = path[path.index("/outputs/") + 1 :]
    params = request.query_params
    signed_path = f"/v1/{key}"
    if not state.signer.verify(signed_path, params.get("expiry", ""), params.get("signature", "")):
        raise NotFound("This file URL is invalid or has expired.")
    name = key.rsplit("/", 1)[-1]
    return await _bytes(state.files, key, mimetypes.guess_type(name)[0], None)


async def _bytes(
    files: FileStore, key: str, media_type: str | None, filename: str | None
) -> Response:
    """A stored file's bytes: sent from disk where the store has a local path (ranges,
    sendfile), else streamed from the store; 404 if it is gone."""
    try:
        local = files.local_path(key)
        info = None if local is not None else await files.stat(key)
    except InvalidKey:
        raise NotFound(_NOT_FOUND) from None
    if local is not None:
        return FileResponse(local, media_type=media_type, filename=filename)
    if info is None:
        raise NotFound(_NOT_FOUND)
    headers = {"content-length": str(info.size)}
    if filename is not None:  # as FileResponse says it
        headers["content-disposition"] = _disposition(filename)
    return StreamingResponse(files.open(key), media_type=media_type, headers=headers)


def _disposition(filename: str) -> str:
    quoted = urllib.parse.quote(filename)
    if quoted != filename:
        return f"attachment; filename*=utf-8''{quoted}"
    return f'attachment; filename="{filename}"'
