"""The local-directory FileStore: each key is a file under one root folder.

Also the shared-directory engine: processes on several machines may use one directory
(`--files file:///shared/dir` on a mount they all have). Each write goes to a temporary
file of a random name beside its target and is renamed over it (atomic on POSIX file
systems and NFS), an instance keeps no state but the root, and a folder another process
prunes away under a write is made again. On NFS, mount with `lookupcache=positive` (or
none) so a file another machine has just stored is seen at once, not after the client's
cached "no such file" expires.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import pathlib
import shutil
import uuid
from collections.abc import AsyncGenerator, Callable

from foretell.files.protocol import (
    OUTPUTS,
    UPLOADS,
    FileInfo,
    MissingFile,
    StoredFile,
    check_key,
    check_prefix,
)

#: writes and reads up to this size run on the event loop: a thread hand-off costs more
INLINE_BYTES = 1024 * 1024
CHUNK_BYTES = 256 * 1024
#: tries of a write whose folder a concurrent delete keeps pruning away
_WRITE_ATTEMPTS = 5


class LocalFiles:
    """Keeps the file of key `k` at `root/k`; `uploads/` and `outputs/` always exist."""

    def __init__(self, root: pathlib.Path) -> None:
        # absolute once, here: these paths are handed to workers whose cwd is their model's
        self.root = root.resolve()
        for top in (UPLOADS, OUTPUTS):
            (self.root / top).mkdir(parents=True, exist_ok=True)

    # ---- FileStore -----------------------------------------------------------------------

    async def put(self, key: str, source: bytes | pathlib.Path) -> StoredFile:
        """Store bytes (small ones inline) or move a file in (in a thread)."""
        target = self._path(key)
        if isinstance(source, bytes) and len(source) <= INLINE_BYTES:
            return self._put_sync(key, target, source)
        return await asyncio.to_thread(self._put_sync, key, target, source)

    def open(self, key: str) -> AsyncGenerator[bytes, None]:
        """Chunks read in a thread each, so a large download never blocks the loop."""
        return self._chunks(key, self._path(key))

    async def read(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise MissingFile(key) from None

    async def stat(self, key: str) -> FileInfo | None:
        path = self._path(key)
        try:
            size = path.stat().st_size if path.is_file() else None
        except OSError:  # a name too long or otherwise unusable here: no such file
            size = None
        return None if size is None else FileInfo(key, size)

    async def exists(self, key: str) -> bool:
        return await self.stat(key) is not None

    async def delete(self, key: str) -> bool:
        path = self._path(key)
        try:
            path.unlink()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return False
        self._prune(path.parent)
        return True

    async def delete_prefix(self, prefix: str) -> None:
        folder = self._path(check_prefix(prefix).removesuffix("/"))
        await asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True)
        self._prune(folder.parent)

    def local_path(self, key: str) -> pathlib.Path | None:
        """The file itself, if it exists and (symlinks followed) is inside the root."""
        path = self._path(key).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        return path

    async def copy_to(self, key: str, path: pathlib.Path) -> pathlib.Path:
        source = self._path(key)

        def copy() -> pathlib.Path:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                shutil.copyfile(source, path)
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                if source.is_file():  # the target's side failed: say so
                    raise
                raise MissingFile(key) from None
            return path

        return await asyncio.to_thread(copy)

    async def signed_url(self, key: str, ttl_s: float) -> str | None:
        """None: a directory signs nothing; the API serves these files itself."""
        check_key(key)
        return None

    # ---- internals -----------------------------------------------------------------------

    def _path(self, key: str) -> pathlib.Path:
        return self.root / check_key(key)

    def _put_sync(self, key: str, target: pathlib.Path, source: bytes | pathlib.Path) -> StoredFile:
        if isinstance(source, pathlib.Path) and not source.is_file():
            raise FileNotFoundError(errno.ENOENT, "not a file", str(source))
        # digests of the source, before it is in: once it is, another process may already
        # have replaced it with a file of its own
        stored = _stored(key, source) if isinstance(source, bytes) else _digests(key, source)
        try:
            self._write(target, source)
        except BaseException:  # disk full, a name the file system refuses: leave nothing
            self._prune(target.parent)
            raise
        return stored

    def _write(self, target: pathlib.Path, source: bytes | pathlib.Path) -> None:
        """Put `source` at `target`, its folder made. Another process deleting the last
        other file of that folder (a shared directory), or this one in another thread,
        prunes the folder: if it is gone between making it and writing, make it again."""
        for attempt in range(_WRITE_ATTEMPTS):
            last = attempt + 1 == _WRITE_ATTEMPTS
            try:
                self._mkdir(target.parent)
            except FileExistsError:  # there, then pruned before mkdir saw it was a folder
                if last:
                    raise
                continue
            try:
                if isinstance(source, bytes):
                    _replace_with(target, lambda temp: temp.write_bytes(source))
                else:
                    _move(source, target)
                return
            except FileNotFoundError:
                # bytes have no source to lose: the folder was pruned (and maybe made again
                # by the other process since, so its being there now proves nothing)
                if last or (isinstance(source, pathlib.Path) and not source.exists()):
                    raise

    def _mkdir(self, folder: pathlib.Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)

    def _prune(self, folder: pathlib.Path) -> None:
        """Remove now-empty folders above a removed file, up to (not including) the top
        folders (`uploads/`, `outputs/`), which always exist."""
        while folder.parent != self.root and folder != self.root:
            try:
                folder.rmdir()
            except OSError:  # not empty (or already gone): stop here
                return
            folder = folder.parent

    async def _chunks(self, key: str, path: pathlib.Path) -> AsyncGenerator[bytes, None]:
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise MissingFile(key) from None
        try:
            while chunk := await asyncio.to_thread(handle.read, CHUNK_BYTES):
                yield chunk
        finally:
            handle.close()


def _replace_with(target: pathlib.Path, write: Callable[[pathlib.Path], object]) -> None:
    """Write into a temporary file beside `target`, then rename it over `target`: readers
    see one whole file or the other. The temporary name is short, so a 255-byte file name
    still fits."""
    temp = target.with_name(f".{uuid.uuid4().hex}.part")
    try:
        write(temp)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _move(source: pathlib.Path, target: pathlib.Path) -> None:
    """Rename `source` over `target` (atomic on one file system); across file systems,
    copy it beside `target` first, then remove `source`."""
    try:
        os.replace(source, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        _replace_with(target, lambda temp: shutil.copyfile(source, temp))
        source.unlink()


def _stored(key: str, data: bytes) -> StoredFile:
    md5 = hashlib.md5(data).hexdigest()  # noqa: S324 — md5 is the etag format clients expect
    return StoredFile(key, len(data), md5, hashlib.sha256(data).hexdigest())


def _digests(key: str, path: pathlib.Path) -> StoredFile:
    """The size and digests of the file at `path`, read in chunks."""
    md5, sha256, size = hashlib.md5(), hashlib.sha256(), 0  # noqa: S324 — the etag format
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            md5.update(chunk)
            sha256.update(chunk)
            size += len(chunk)
    return StoredFile(key, size, md5.hexdigest(), sha256.hexdigest())
