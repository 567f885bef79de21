"""A model directory as one archive: packed by `foretell push`, unpacked by the runners.

The archive is deterministic (sorted names, no times, owners or modes but the executable
bit), so the same files always make the same bytes and so the same version id. Unpacking
trusts nothing in it: no absolute names, no `..`, no links, no devices, and a cap on what it
may write.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import pathlib
import stat
import tarfile
import zlib
from collections.abc import Iterator

import pathspec

#: files a model's authors list to leave out, as Docker's and Cog's builds read them
IGNORE_FILES = (".dockerignore", ".cogignore")
#: never packed: version control, caches and virtualenvs
ALWAYS_IGNORED = (".git/", "__pycache__/", "*.pyc", ".venv/", ".cog/", ".foretell/")
#: the most entries an archive may hold (a tarball of many tiny files is a cheap attack)
MAX_MEMBERS = 20_000


class ArchiveError(ValueError):
    """The archive is unsafe, broken or too large; the message says which."""


def pack_directory(root: pathlib.Path | str) -> bytes:
    """The model directory as a deterministic .tar.gz, without the files its ignore files
    (and ALWAYS_IGNORED) leave out."""
    root = pathlib.Path(root).resolve()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in _included(root):
            relative = path.relative_to(root).as_posix()
            info = tarfile.TarInfo(relative)
            info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.size = path.stat().st_size
            with path.open("rb") as data:
                tar.addfile(info, data)
    return gzip.compress(raw.getvalue(), compresslevel=6, mtime=0)


def _included(root: pathlib.Path) -> Iterator[pathlib.Path]:
    lines = list(ALWAYS_IGNORED)
    for name in IGNORE_FILES:
        if (root / name).is_file():
            lines += (root / name).read_text(encoding="utf-8").splitlines()
    ignored = pathspec.GitIgnoreSpec.from_lines(lines)
    for dirpath, dirnames, filenames in os.walk(root):
        here = pathlib.Path(dirpath)
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not ignored.match_file((here / d).relative_to(root).as_posix() + "/")
            and not (here / d).is_symlink()
        )
        for name in sorted(filenames):
            path = here / name
            relative = path.relative_to(root).as_posix()
            # a link could point anywhere on the pusher's machine: files only
            if not ignored.match_file(relative) and path.is_file() and not path.is_symlink():
                yield path


def archive_id(model: str, data: bytes, weights_digest: str | None = None) -> str:
    """A version's id from its model's `owner/name`, its archive's bytes and a trained
    version's weights digest."""
    return version_id(model, hashlib.sha256(data).hexdigest(), weights_digest)


def version_id(model: str, archive_sha256: str, weights_digest: str | None = None) -> str:
    """A version's id: a digest of its model's name, its archive's SHA-256 and its weights'
    digest if it has any (ids are unique across models, as Replicate's are)."""
    parts = [model, archive_sha256, weights_digest or ""]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def check_archive(source: bytes | pathlib.Path, *, max_bytes: int) -> list[str]:
    """The names of the files in a .tar.gz, once every member is known safe (ArchiveError
    otherwise); nothing is written."""
    with _opened(source) as tar:
        return [member.name for member in _checked(tar, max_bytes) if member.isfile()]


def unpack(source: bytes | pathlib.Path, dest: pathlib.Path, *, max_bytes: int) -> None:
    """Unpack a .tar.gz into `dest` (created; must not exist or be empty).

    Raises ArchiveError, having written nothing outside `dest`, for any member that is not a
    plain file or directory below `dest`, or when the archive expands past `max_bytes`.
    """
    with _opened(source) as tar:
        members = _checked(tar, max_bytes)
        dest.mkdir(parents=True, exist_ok=True)
        try:
            for member in members:
                tar.extract(member, dest, filter="data")
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise ArchiveError(f"the archive can't be unpacked ({exc})") from exc


@contextlib.contextmanager
def _opened(source: bytes | pathlib.Path) -> Iterator[tarfile.TarFile]:
    try:
        if isinstance(source, bytes):
            tar = tarfile.open(fileobj=io.BytesIO(source), mode="r:gz")
        else:
            tar = tarfile.open(source, mode="r:gz")
    except (tarfile.TarError, EOFError, OSError, gzip.BadGzipFile) as exc:
        raise ArchiveError(f"not a readable .tar.gz archive ({exc})") from exc
    with tar:
        try:
            yield tar
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise ArchiveError(f"not a readable .tar.gz archive ({exc})") from exc


def _checked(tar: tarfile.TarFile, max_bytes: int) -> list[tarfile.TarInfo]:
    members: list[tarfile.TarInfo] = []
    total = 0
    for member in tar:
        name = member.name
        if name.startswith(("/", "\\")) or pathlib.PurePosixPath(name).is_absolute():
            raise ArchiveError(f"{name!r}: an absolute path (the archive must be relative)")
        if ".." in pathlib.PurePosixPath(name).parts:
            raise ArchiveError(f"{name!r}: a path that leaves the model's directory")
        if not (member.isfile() or member.isdir()):
            kind = "link" if member.issym() or member.islnk() else "special file"
            raise ArchiveError(f"{name!r}: a {kind} (an archive holds files and folders only)")
        total += member.size
        if total > max_bytes:
            raise ArchiveError(f"the archive expands past {max_bytes:,} bytes")
        if len(members) >= MAX_MEMBERS:
            raise ArchiveError(f"more than {MAX_MEMBERS:,} entries")
        member.mode = stat.S_IMODE(member.mode) & 0o755 | (0o755 if member.isdir() else 0o644)
        members.append(member)
    return members
