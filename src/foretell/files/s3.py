"""The S3 FileStore: the file of key `k` is the object `prefix/k` in one bucket (AWS S3 or
any S3-compatible server: MinIO, R2, moto), through obstore.

`S3Files("s3://bucket[/prefix][?endpoint=…&region=…&presign=false]")`; what the URL and the
environment say is in foretell.files.s3_config. S3 writes are atomic (a PUT, or a multipart
upload's completion), so readers see the old file or the new one. md5 and sha256 are
computed here while the bytes go up, never taken from the server's ETag (a multipart ETag
is no md5).
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import math
import pathlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, BinaryIO, NoReturn

import obstore
from obstore.exceptions import BaseError, NotFoundError
from obstore.store import S3Store

from foretell.errors import StoreError
from foretell.files.protocol import FileInfo, MissingFile, StoredFile, check_key, check_prefix
from foretell.files.s3_config import S3Location, parse_s3_url

if TYPE_CHECKING:
    from obstore import GetResult
    from obstore.store import S3Config

#: S3's smallest part but the last: a file over this goes up as a multipart upload
PART_BYTES = 5 * 1024 * 1024
#: the chunks `open` hands out (obstore gathers at least this much per chunk)
CHUNK_BYTES = 256 * 1024
#: hashing up to this size runs on the event loop: a thread hand-off costs more
INLINE_BYTES = 1024 * 1024
#: keys listed per batch by delete_prefix (S3's own page and bulk-delete limit)
LIST_BATCH = 1000
#: the longest a presigned S3 URL may live (SigV4: 7 days)
MAX_PRESIGN_S = 7 * 24 * 3600
#: obstore raises the built-in FileNotFoundError for a missing object (NotFoundError too)
_NOT_FOUND = (FileNotFoundError, NotFoundError)
#: a failure, where not-found names no missing file (a write to a bucket that isn't there)
_FAILED = (BaseError, FileNotFoundError)


class S3Error(StoreError):
    """The S3 file store failed or could not be reached: the message names the operation,
    the bucket and the endpoint, and what the server (or the connection) said."""


class S3Files:
    """Files as objects of one bucket, under the URL's prefix."""

    def __init__(self, url: str, *, retries: int = 3) -> None:
        """`retries`: how often a failed request is tried again (with backoff, for at most
        10 s) before S3Error; 0 for tests of a server that is down."""
        self.location = parse_s3_url(url)
        self._store = _store(self.location, retries)

    # ---- FileStore -----------------------------------------------------------------------

    async def put(self, key: str, source: bytes | pathlib.Path) -> StoredFile:
        """Bytes go up in one PUT (multipart past PART_BYTES); a Path is streamed up, then
        removed."""
        check_key(key)
        if isinstance(source, pathlib.Path):
            return await self._put_path(key, source)
        digests = _Digests()
        await _run(digests.update, source)
        await self._upload(key, source)
        return digests.stored(key)

    def open(self, key: str) -> AsyncGenerator[bytes, None]:
        return self._chunks(check_key(key))

    async def read(self, key: str) -> bytes:
        result = await self._get(check_key(key))
        try:
            return (await result.bytes_async()).to_bytes()
        except _FAILED as exc:
            self._failed("read", key, exc)

    async def stat(self, key: str) -> FileInfo | None:
        check_key(key)
        try:
            meta = await obstore.head_async(self._store, key)
        except _NOT_FOUND:
            return None
        except _FAILED as exc:
            self._failed("look up", key, exc)
        return FileInfo(key, meta["size"])

    async def exists(self, key: str) -> bool:
        return await self.stat(key) is not None

    async def delete(self, key: str) -> bool:
        """S3 deletes a missing object without complaint: a HEAD first says whether there
        was one."""
        if await self.stat(key) is None:
            return False
        try:
            await obstore.delete_async(self._store, key)
        except _FAILED as exc:
            self._failed("delete", key, exc)
        return True

    async def delete_prefix(self, prefix: str) -> None:
        """Every key under the prefix listed, then deleted (a bulk delete per 1,000 keys):
        all listed first, so no deletion runs under a listing still paging."""
        check_prefix(prefix)
        try:
            listing = obstore.list(self._store, prefix, chunk_size=LIST_BATCH)
            keys = [meta["path"] async for batch in listing for meta in batch]
            if keys:
                await obstore.delete_async(self._store, keys)
        except _FAILED as exc:
            self._failed("delete the files under", prefix, exc)

    def local_path(self, key: str) -> pathlib.Path | None:
        """None: no file of this store is on this disk."""
        check_key(key)
        return None

    async def copy_to(self, key: str, path: pathlib.Path) -> pathlib.Path:
        """The object streamed into `path`; no partial file is left if that fails."""
        result = await self._get(check_key(key))
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        handle = await asyncio.to_thread(path.open, "wb")
        try:
            with handle:
                async for chunk in self._stream(key, result, PART_BYTES):
                    await asyncio.to_thread(handle.write, chunk)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path

    async def signed_url(self, key: str, ttl_s: float) -> str | None:
        """A presigned GET URL, valid for `ttl_s` rounded up to whole seconds; None (the
        API signs its own) when presigning is off or `ttl_s` is past S3's 7 days."""
        check_key(key)
        if not self.location.presign or not ttl_s <= MAX_PRESIGN_S:  # NaN too
            return None
        seconds = max(1, math.ceil(ttl_s))
        try:
            return await obstore.sign_async(self._store, "GET", key, timedelta(seconds=seconds))
        except _FAILED as exc:
            self._failed("sign a URL for", key, exc)

    # ---- internals -----------------------------------------------------------------------

    async def _put_path(self, key: str, source: pathlib.Path) -> StoredFile:
        size = await asyncio.to_thread(_file_size, source)
        digests = _Digests()
        if size <= PART_BYTES:  # one PUT: a multipart upload costs three requests
            data = await asyncio.to_thread(source.read_bytes)
            await _run(digests.update, data)
            await self._upload(key, data)
        else:
            await self._upload(key, _read_hashing(source, digests))
        await asyncio.to_thread(source.unlink, missing_ok=True)
        return digests.stored(key)

    async def _upload(self, key: str, data: bytes | AsyncIterator[bytes]) -> None:
        try:
            await obstore.put_async(self._store, key, data, chunk_size=PART_BYTES)
        except _FAILED as exc:
            self._failed("store", key, exc)

    async def _get(self, key: str) -> GetResult:
        try:
            return await obstore.get_async(self._store, key)
        except _NOT_FOUND:
            raise MissingFile(key) from None
        except _FAILED as exc:
            self._failed("read", key, exc)

    async def _chunks(self, key: str) -> AsyncGenerator[bytes, None]:
        result = await self._get(key)
        async for chunk in self._stream(key, result, CHUNK_BYTES):
            yield chunk

    async def _stream(
        self, key: str, result: GetResult, chunk_bytes: int
    ) -> AsyncGenerator[bytes, None]:
        try:
            async for chunk in result.stream(min_chunk_size=chunk_bytes):
                yield chunk
        except _FAILED as exc:
            self._failed("read", key, exc)

    def _failed(self, doing: str, key: str, exc: Exception) -> NoReturn:
        # obstore's message is one line, then a multi-line "Debug source" dump
        said = str(exc).split("\n\n", 1)[0].strip()
        raise S3Error(f"could not {doing} {key!r} in {self.location.describe()}: {said}") from exc


class _Digests:
    """The size, md5 and sha256 of the bytes that went up."""

    def __init__(self) -> None:
        self.md5 = hashlib.md5()  # noqa: S324 — md5 is the etag format clients expect
        self.sha256 = hashlib.sha256()
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self.md5.update(chunk)
        self.sha256.update(chunk)
        self.size += len(chunk)

    def stored(self, key: str) -> StoredFile:
        return StoredFile(key, self.size, self.md5.hexdigest(), self.sha256.hexdigest())


async def _run(update: Callable[[bytes], None], data: bytes) -> None:
    """`update(data)`, in a thread when `data` is large (hashlib lets go of the GIL)."""
    if len(data) <= INLINE_BYTES:
        update(data)
    else:
        await asyncio.to_thread(update, data)


async def _read_hashing(path: pathlib.Path, digests: _Digests) -> AsyncGenerator[bytes, None]:
    """The file's parts, each read and hashed in a thread, as the multipart upload asks."""

    def read_part(handle: BinaryIO) -> bytes:
        part = handle.read(PART_BYTES)
        digests.update(part)
        return part

    handle = await asyncio.to_thread(path.open, "rb")
    with handle:
        while part := await asyncio.to_thread(read_part, handle):
            yield part


def _file_size(source: pathlib.Path) -> int:
    if not source.is_file():
        raise FileNotFoundError(errno.ENOENT, "not a file", str(source))
    return source.stat().st_size


def _store(location: S3Location, retries: int) -> S3Store:
    """obstore's client: the URL's endpoint and region over the environment's (obstore
    reads the rest, credentials included); plain http only where the endpoint says so."""
    config: S3Config = {}
    if location.endpoint:
        config["endpoint"] = location.endpoint
    if location.region:
        config["region"] = location.region
    return S3Store(
        location.bucket,
        prefix=location.prefix,
        config=config,
        client_options={
            "allow_http": bool(location.endpoint and location.endpoint.startswith("http://")),
            "connect_timeout": timedelta(seconds=5),
        },
        retry_config={"max_retries": retries, "retry_timeout": timedelta(seconds=10)},
    )
