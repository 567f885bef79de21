"""Engines chosen from URLs: the defaults under a data dir, the URLs accepted, the errors."""

from __future__ import annotations

import pathlib

import pytest

from foretell.engines import (
    BadEngineURL,
    EngineURLs,
    make_bus,
    make_files,
    make_queue,
    open_store,
    sqlite_path,
)
from foretell.files.local import LocalFiles
from foretell.queue.memory import MemoryQueue
from foretell.store.sqlite import SQLiteStore
from foretell.streaming.hub import StreamHub
from foretell.streaming.memory import MemoryBus


def test_a_data_dir_alone_means_the_embedded_engines_under_it(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same paths `foretell serve --data-dir` has always used, made absolute."""
    monkeypatch.chdir(tmp_path)
    urls = EngineURLs.parse(pathlib.Path("data"))
    assert urls == EngineURLs(
        database=f"sqlite://{tmp_path}/data/foretell.db",
        queue="memory://",
        files=f"file://{tmp_path}/data/files",
        bus="memory://",
    )


def test_given_urls_replace_the_defaults_with_absolute_paths(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sqlite:///abs stays; sqlite:///./rel is against the current directory; file:// too."""
    monkeypatch.chdir(tmp_path)
    urls = EngineURLs.parse(
        tmp_path / "unused",
        database="sqlite:///./db/x.db",
        queue="memory://",
        files="file:///srv/foretell%20files",
    )
    assert urls.database == f"sqlite://{tmp_path}/db/x.db"
    assert urls.files == "file:///srv/foretell%20files"
    assert urls.bus == "memory://"
    assert sqlite_path("sqlite:///tmp/x/foretell.db") == pathlib.Path("/tmp/x/foretell.db")
    assert sqlite_path("sqlite:////tmp/x/foretell.db") == pathlib.Path("/tmp/x/foretell.db")
    assert EngineURLs.parse(tmp_path, database="sqlite:///../up.db").database == (
        f"sqlite://{tmp_path.parent}/up.db"
    )


def test_cluster_urls_are_passed_on_as_given(tmp_path: pathlib.Path) -> None:
    """A server's URL (credentials, port, database, query) reaches its engine unchanged."""
    urls = EngineURLs.parse(
        tmp_path,
        database="postgresql://u:p@db:5433/foretell?sslmode=require",
        queue="redis://r:6379/2",
        files="s3://bucket/prefix",
    )
    assert urls.database == "postgresql://u:p@db:5433/foretell?sslmode=require"
    assert urls.queue == urls.bus == "redis://r:6379/2"
    assert urls.files == "s3://bucket/prefix"


@pytest.mark.parametrize(
    ("option", "url", "message"),
    [
        ("database", "postgresql:///foretell", "names no server; use sqlite:///"),
        ("queue", "redis://", "names no server; use memory:// or redis://HOST:6379/0"),
        ("files", "s3:///prefix", "names no bucket; use file:///"),
        ("database", "foretell.db", "not a URL; use sqlite:///"),
        ("database", "mysql://db", "unknown scheme mysql://; use sqlite:///"),
        ("database", "sqlite://relative/x.db", "'relative' is read as a host"),
        ("database", "sqlite://", "names no path"),
        ("database", "sqlite:///x.db?mode=ro", "takes no ?query"),
        ("queue", "memory://shared", "takes no name; use memory://"),
        ("files", "sqlite:///x", "unknown scheme sqlite://; use file:///"),
        ("bus", "mqtt://r", "unknown scheme mqtt://; use memory:// or redis://"),
    ],
)  # fmt: skip
def test_bad_urls_say_what_to_use(
    tmp_path: pathlib.Path, option: str, url: str, message: str
) -> None:
    """Each refusal names the option and the URL, and what to give instead."""
    with pytest.raises(BadEngineURL) as caught:
        EngineURLs.parse(tmp_path, **{option: url})
    assert str(caught.value).startswith(f"--{option} {url!r}: ")
    assert message in str(caught.value)


async def test_the_factories_build_the_embedded_engines(tmp_path: pathlib.Path) -> None:
    """Each URL opens its engine: a SQLite file, the in-process queue and bus, a directory."""
    urls = EngineURLs.parse(tmp_path / "data")
    store = open_store(urls.database)
    assert isinstance(store, SQLiteStore)
    await store.open()
    try:
        assert await store.count_tokens() == 0
    finally:
        await store.close()
    assert (tmp_path / "data" / "foretell.db").is_file()
    assert isinstance(make_queue(urls.queue), MemoryQueue)
    hub = StreamHub()
    bus = make_bus(urls.bus, hub)
    assert isinstance(bus, MemoryBus) and bus.hub is hub
    files = make_files(urls.files)
    assert isinstance(files, LocalFiles) and files.root == tmp_path / "data" / "files"
    assert (tmp_path / "data" / "files" / "uploads").is_dir()


def test_a_factory_refuses_another_engines_url() -> None:
    """A URL that isn't the factory's engine is a BadEngineURL, not a wrong engine."""
    with pytest.raises(BadEngineURL, match="unknown scheme redis://"):
        open_store("redis://db")
    with pytest.raises(BadEngineURL, match="unknown scheme file://"):
        make_queue("file:///tmp")
