"""The FileStore protocol: uploads' and outputs' bytes, addressed by key only.

A key is a relative, `/`-separated name (`uploads/<file id>/<name>`,
`outputs/<prediction id>/<random>/<name>`); records and queued work hold keys, never a
path, so the API and a runner on another machine name the same file the same way.
"""

from __future__ import annotations

import pathlib
import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Protocol

UPLOADS = "uploads"
OUTPUTS = "outputs"
#: the name a file gets when the one it was sent with names no file ("", ".", "..")
DEFAULT_NAME = "file"


class InvalidKey(ValueError):
    """A key that could name something outside the store (absolute, `..`, empty parts)."""


class MissingFile(LookupError):
    """No file is stored under this key (never stored, deleted or expired)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no file is stored under {key!r}")
        self.key = key


@dataclass(frozen=True)
class StoredFile:
    """What `put` stored: the key and the digests clients see (`etag` is the md5)."""

    key: str
    size: int
    md5: str
    sha256: str


@dataclass(frozen=True)
class FileInfo:
    """What `stat` knows of a stored file without reading it."""

    key: str
    size: int


def check_key(key: str) -> str:
    """`key` if it is safe to store under; InvalidKey otherwise. The one place keys are
    checked: every engine calls it before touching anything."""
    parts = key.split("/")
    if not key or "\x00" in key or any(part in ("", ".", "..") for part in parts):
        raise InvalidKey(f"not a valid file key: {key[:200]!r}")
    return key


def check_prefix(prefix: str) -> str:
    """A key prefix for `delete_prefix`: whole folders only (`outputs/<id>/`), so that
    `outputs/p1/` can never also match `outputs/p10/...`."""
    if not prefix.endswith("/"):
        raise InvalidKey(f"a key prefix must end with '/': {prefix[:200]!r}")
    check_key(prefix.removesuffix("/"))
    return prefix


def file_name(name: str) -> str:
    """The last segment of a sent file name, the part a key keeps."""
    last = name.replace("\\", "/").rsplit("/", 1)[-1]
    return DEFAULT_NAME if last in ("", ".", "..") else last


def upload_key(file_id: str, name: str) -> str:
    """Where an upload's bytes are kept."""
    return check_key(f"{UPLOADS}/{file_id}/{file_name(name)}")


def output_key(prediction_id: str, name: str) -> str:
    """A new, unguessable key for one of a prediction's output files (the random part
    keeps two outputs of the same name apart)."""
    return check_key(f"{OUTPUTS}/{prediction_id}/{uuid.uuid4().hex}/{file_name(name)}")


def outputs_prefix(prediction_id: str) -> str:
    """The prefix of every output file of a prediction."""
    return check_prefix(f"{OUTPUTS}/{prediction_id}/")


class FileStore(Protocol):
    """Files' bytes by key. Every method checks its key (InvalidKey) before anything else.

    Signed download URLs: `signed_url` is the engine's own (an object store's presigned
    URL). An engine that has none answers None, and the API signs a `/v1/outputs/<key>`
    URL of its own (`foretell.files.urls.UrlSigner`) and serves the bytes itself.
    """

    async def put(self, key: str, source: bytes | pathlib.Path) -> StoredFile:
        """Store `source` under `key`, replacing what was there; readers see the old file or
        the new one, never part of one. A Path source is moved in (it is gone afterwards,
        or copied then removed across file systems)."""

    def open(self, key: str) -> AsyncGenerator[bytes, None]:
        """The file's bytes in chunks, read as they are consumed; MissingFile from the
        first iteration if there is none. Close it (`aclose`) when stopping early."""

    async def read(self, key: str) -> bytes:
        """The whole file (for small files); MissingFile if there is none."""

    async def stat(self, key: str) -> FileInfo | None:
        """The file's size, or None if there is no file under `key`."""

    async def exists(self, key: str) -> bool:
        """Whether a file is stored under `key`."""

    async def delete(self, key: str) -> bool:
        """Remove the file; False if there was none (so deleting twice is harmless)."""

    async def delete_prefix(self, prefix: str) -> None:
        """Remove every file whose key starts with `prefix` (which must end with `/`):
        all outputs of a prediction. Idempotent."""

    def local_path(self, key: str) -> pathlib.Path | None:
        """The file's absolute path on this machine, for engines that keep files on this
        disk (a fast path: no copy); None for other engines, or if there is no such file.
        The caller must not modify or move it."""

    async def copy_to(self, key: str, path: pathlib.Path) -> pathlib.Path:
        """A copy of the file at `path` (its folder made if needed), for a worker on this
        machine when `local_path` is None; MissingFile if there is none."""

    async def signed_url(self, key: str, ttl_s: float) -> str | None:
        """A URL anyone can read the file at for `ttl_s` seconds, or None if the engine
        signs none (the API then signs one of its own)."""
