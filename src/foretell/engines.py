"""Where engines are chosen: the database, queue, bus and files of a server, each from a URL.

`--data-dir DIR` alone means the embedded engines under DIR (`sqlite:///DIR/foretell.db`,
`memory://`, `file:///DIR/files`); `--database`, `--queue` and `--files` replace one of them.
The cluster engines: `postgresql://…` (the store), `redis://…` (queue and bus), `s3://bucket`
(files; a shared directory is `file:///shared/dir`). Each engine's module loads only when its
URL is chosen, so the embedded shape never imports psycopg, redis or obstore.
"""

from __future__ import annotations

import pathlib
import urllib.parse
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the engines load only for the one that is opened
    from foretell.api.limits import Limits
    from foretell.api.ratelimit import RateLimiter
    from foretell.files.protocol import FileStore
    from foretell.queue.protocol import WorkQueue
    from foretell.store.protocol import Store
    from foretell.streaming.bus import EventBus
    from foretell.streaming.hub import StreamHub

#: the file names under a data dir, as `foretell serve` has always used them
DATABASE_FILE = "foretell.db"
FILES_DIR = "files"
MEMORY = "memory://"

#: option -> the schemes it takes
_SCHEMES: dict[str, tuple[str, ...]] = {
    "--database": ("sqlite", "postgresql", "postgres"),
    "--queue": ("memory", "redis", "rediss"),
    "--files": ("file", "s3"),
}
_SCHEMES["--bus"] = _SCHEMES["--queue"]
_EXAMPLES = {
    "--database": "sqlite:///ABSOLUTE/PATH/foretell.db, sqlite:///./RELATIVE/PATH or "
    "postgresql://USER@HOST:5432/DB",
    "--queue": "memory:// or redis://HOST:6379/0",
    "--files": "file:///ABSOLUTE/DIR, file:///./RELATIVE/DIR or s3://BUCKET[/PREFIX]",
    "--bus": "memory:// or redis://HOST:6379/0",
}
#: the schemes whose URLs name a server, passed on as given
_SERVERS = ("postgresql", "postgres", "redis", "rediss", "s3")


class BadEngineURL(ValueError):
    """An engine URL that can't be used; the message names the option and what to give."""

    def __init__(self, option: str, url: str, problem: str) -> None:
        super().__init__(f"{option} {url!r}: {problem}")
        self.option = option
        self.url = url


@dataclass(frozen=True)
class EngineURLs:
    """The engines of one server, each a URL with its path absolute (resolved once, here)."""

    database: str
    queue: str
    files: str
    #: the event bus; the queue's engine unless given (memory:// → the in-process bus)
    bus: str

    @classmethod
    def parse(
        cls,
        data_dir: pathlib.Path,
        database: str | None = None,
        queue: str | None = None,
        files: str | None = None,
        bus: str | None = None,
    ) -> EngineURLs:
        """The URLs given, checked, with paths made absolute; what isn't given is the embedded
        engine under `data_dir`. Raises BadEngineURL."""
        root = data_dir.resolve()
        queue_url = _check("--queue", queue) if queue else MEMORY
        return cls(
            database=_check("--database", database)
            if database
            else _url("sqlite", root / DATABASE_FILE),
            queue=queue_url,
            files=_check("--files", files) if files else _url("file", root / FILES_DIR),
            bus=_check("--bus", bus) if bus else queue_url,
        )


def sqlite_path(url: str) -> pathlib.Path:
    """The database file of a `sqlite:///…` URL (relative ones against the current directory)."""
    return _path("--database", url)


def files_path(url: str) -> pathlib.Path:
    """The directory of a `file:///…` URL (relative ones against the current directory)."""
    return _path("--files", url)


def open_store(url: str) -> Store:
    """The store a URL names, not yet opened (`await store.open()`)."""
    if _require("--database", url) in ("postgresql", "postgres"):
        from foretell.store.postgres import PostgresStore

        return PostgresStore(url)
    from foretell.store.sqlite import SQLiteStore

    return SQLiteStore(sqlite_path(url))


def make_queue(url: str) -> WorkQueue:
    """The work queue a URL names."""
    if _require("--queue", url) in ("redis", "rediss"):
        from foretell.queue.redis import RedisQueue

        return RedisQueue(url)
    from foretell.queue.memory import MemoryQueue

    return MemoryQueue()


def make_bus(url: str, hub: StreamHub | None = None) -> EventBus:
    """The event bus a URL names; the in-process one keeps its logs in `hub` when given."""
    if _require("--bus", url) in ("redis", "rediss"):
        from foretell.streaming.redis import RedisBus

        return RedisBus(url)
    from foretell.streaming.memory import MemoryBus

    return MemoryBus(hub)


def make_rate_limiter(queue: WorkQueue, rate: float, burst: float) -> RateLimiter:
    """Per-token counts where the queue keeps its work: a Redis queue's Redis, so that the
    API nodes of a cluster share one limit; else this process's memory."""
    from foretell.api.ratelimit import TokenBuckets
    from foretell.queue.memory import MemoryQueue

    if not isinstance(queue, MemoryQueue):
        from foretell.queue.redis import RedisQueue
        from foretell.queue.redis_rates import RedisRateLimiter

        if isinstance(queue, RedisQueue):
            return RedisRateLimiter(queue.connection, queue.keys.prefix, rate, burst)
    return TokenBuckets(rate, burst)


def shared_limits(limits: Limits, queue: WorkQueue) -> Limits:
    """`limits` with its rate limit (if any) counted where `queue` keeps its work."""
    if limits.buckets is None:
        return limits
    buckets = make_rate_limiter(queue, limits.buckets.rate, limits.buckets.burst)
    return replace(limits, buckets=buckets)


def make_files(url: str) -> FileStore:
    """The file store a URL names (a directory is created)."""
    if _require("--files", url) == "s3":
        from foretell.files.s3 import S3Files

        try:
            return S3Files(url)
        except ValueError as exc:  # its options, said in the URL's own terms
            raise BadEngineURL("--files", url, str(exc)) from exc
    from foretell.files.local import LocalFiles

    return LocalFiles(files_path(url))


def _check(option: str, url: str) -> str:
    """`url` if it is usable for `option`, its path made absolute; else BadEngineURL."""
    scheme = _scheme(option, url)
    if scheme not in _SCHEMES[option]:
        raise BadEngineURL(option, url, f"unknown scheme {scheme}://; use {_EXAMPLES[option]}")
    if scheme in _SERVERS:
        if not urllib.parse.urlsplit(url).netloc:
            what = "bucket" if scheme == "s3" else "server"
            raise BadEngineURL(option, url, f"names no {what}; use {_EXAMPLES[option]}")
        return url
    if scheme == "memory":
        if url.lower().rstrip("/") not in ("memory:", "memory:/"):
            raise BadEngineURL(option, url, "the in-process queue takes no name; use memory://")
        return MEMORY
    return _url(scheme, _path(option, url).resolve())


def _scheme(option: str, url: str) -> str:
    scheme, sep, _ = url.partition(":")
    if not sep or not scheme.isascii() or not scheme.replace("+", "").isalnum():
        raise BadEngineURL(option, url, f"not a URL; use {_EXAMPLES[option]}")
    return scheme.lower()


def _path(option: str, url: str) -> pathlib.Path:
    """The local path of a sqlite:// or file:// URL. `scheme:///abs` is absolute (as is
    SQLAlchemy's `sqlite:////abs`); `scheme:///./rel` and `scheme:///../rel` are relative."""
    parts = urllib.parse.urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise BadEngineURL(
            option, url, f"{parts.netloc!r} is read as a host; use {_EXAMPLES[option]}"
        )
    if parts.query or parts.fragment:
        raise BadEngineURL(option, url, f"takes no ?query or #fragment; use {_EXAMPLES[option]}")
    path = urllib.parse.unquote(parts.path)
    if path.startswith(("/./", "/../")) or path in ("/.", "/.."):
        path = path[1:]
    elif path.startswith("//"):
        path = "/" + path.lstrip("/")
    if path in ("", "/"):
        raise BadEngineURL(option, url, f"names no path; use {_EXAMPLES[option]}")
    return pathlib.Path(path)


def _require(option: str, url: str) -> str:
    """The scheme of a URL this option takes (BadEngineURL saying what is wrong if not)."""
    _check(option, url)
    return _scheme(option, url)


def _url(scheme: str, path: pathlib.Path) -> str:
    """`scheme:///abs/path`, the form parse() hands on (percent-encoded where needed)."""
    return f"{scheme}://{urllib.parse.quote(str(path))}"
