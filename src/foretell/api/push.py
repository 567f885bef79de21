"""Pushing a model version: `POST /v1/models/{owner}/{name}/versions` with the model
directory as a .tar.gz body (what `foretell push` sends; Replicate's counterpart is `cog
push` to its registry), and `GET …/versions/{id}/build` to follow its build.

The archive is checked (safe names, files only, within the size limits) and stored in the
FileStore before the version exists; a runner that hosts pushed versions builds it, and it
becomes the model's latest version only once it has described itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import pathlib
import tempfile
from collections.abc import Iterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from foretell.api import library_openapi  # noqa: F401  (describes these routes at import)
from foretell.api.auth import authenticate
from foretell.api.library import own_model
from foretell.api.state import ApiState, api_state
from foretell.core.accounts import Account
from foretell.core.times import utcnow
from foretell.core.versions import StoredModel, StoredVersion, VersionStatus
from foretell.errors import BadRequest, InvalidField, InvalidRequest, NotFound, TooLarge
from foretell.packaging import ArchiveError, check_archive, version_id
from foretell.predictor.config import CONFIG_FILES

#: an archive may expand to this many times the pushed bytes (weights compress little,
#: code a lot; a bomb past this is refused before anything is written)
EXPANSION_LIMIT = 20
_GZIP_MAGIC = b"\x1f\x8b"


def source_key(version: str) -> str:
    """The FileStore key of a pushed version's archive."""
    return f"versions/{version}/model.tar.gz"


async def push_version(request: Request) -> Response:
    """POST /v1/models/{owner}/{name}/versions: a new version from a .tar.gz body (202 while
    it builds; 200 if that exact version is already there)."""
    who = await authenticate(request)
    state = api_state(request)
    model = await _own_model(state, who, request)
    limit = state.settings.max_push_bytes
    with _spooled() as path:
        digest = await _receive(request, path, limit)
        try:
            names = check_archive(path, max_bytes=limit * EXPANSION_LIMIT)
        except ArchiveError as exc:
            raise InvalidRequest([InvalidField("archive", "body", str(exc))]) from None
        if not any(name in names for name in (*CONFIG_FILES, "predict.py")):
            raise InvalidRequest([InvalidField("archive", "body", _NO_MODEL)])
        new_id = version_id(model.full_name, digest)
        existing = await state.store.get_version(new_id)
        if existing is not None and existing.status != VersionStatus.FAILED:
            return JSONResponse(build_view(existing), status_code=200)
        stored = await state.files.put(source_key(new_id), path)
    version = StoredVersion(
        new_id, model.full_name, utcnow(), stored.key,
        build_log=f"Received {stored.size:,} bytes; waiting for a runner to build it\n",
    )  # fmt: skip
    if existing is not None:  # a failed build pushed again: built again
        await state.store.save_version(version)
    else:
        await state.store.add_version(version)
    return JSONResponse(build_view(version), status_code=202)


_NO_MODEL = (
    "the archive holds no cog.yaml, foretell.yaml or predict.py at its top level: pack the "
    "model's directory itself (foretell push DIR does)"
)


async def get_build(request: Request) -> Response:
    """GET /v1/models/{owner}/{name}/versions/{id}/build: how far a pushed version's build
    has come (`status` building, ready or failed; `logs`; `error`)."""
    who = await authenticate(request)
    state = api_state(request)
    model = await _own_model(state, who, request)
    version = await state.store.get_version(request.path_params["id"])
    if version is None or version.model != model.full_name:
        raise NotFound(f"Version {request.path_params['id']} of {model.full_name} not found")
    return JSONResponse(build_view(version))


def build_view(version: StoredVersion) -> dict[str, Any]:
    """A pushed version and its build, as `foretell push` follows it."""
    return {
        "id": version.id,
        "model": version.model,
        "created_at": version.created_at.isoformat().replace("+00:00", "Z"),
        "status": version.status,
        "error": version.error,
        "logs": version.build_log,
        "cog_version": version.cog_version,
        "openapi_schema": version.openapi_schema or None,
    }


async def _own_model(state: ApiState, who: Account, request: Request) -> StoredModel:
    owner, name = request.path_params["owner"], request.path_params["name"]
    try:
        return await own_model(state, who, owner, name)
    except NotFound:
        raise NotFound(
            f"Model {owner}/{name} not found. Create it first (POST /v1/models), or let "
            "`foretell push` create it."
        ) from None


async def _receive(request: Request, path: pathlib.Path, limit: int) -> str:
    """Write the body to `path` (413 past `limit`); its SHA-256."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared[:20]) > limit:
        raise TooLarge(_too_large(limit))
    digest, size = hashlib.sha256(), 0
    with path.open("wb") as out:
        async for chunk in request.stream():
            if size == 0 and chunk and not chunk.startswith(_GZIP_MAGIC[: len(chunk)]):
                raise BadRequest("Send the model directory as a .tar.gz body (foretell push).")
            size += len(chunk)
            if size > limit:
                raise TooLarge(_too_large(limit))
            digest.update(chunk)
            out.write(chunk)
    if size == 0:
        raise BadRequest("The request body is empty; send the model directory as a .tar.gz.")
    return digest.hexdigest()


def _too_large(limit: int) -> str:
    return (
        f"The pushed archive is larger than this server's limit of {limit // 2**20} MiB "
        "(foretell serve --max-push-mb); leave large files out with .dockerignore."
    )


@contextlib.contextmanager
def _spooled() -> Iterator[pathlib.Path]:
    with tempfile.TemporaryDirectory(prefix="foretell-push-") as folder:
        yield pathlib.Path(folder) / "model.tar.gz"
