"""The FileStore contract: one suite, run against every engine (a local directory, and S3 on
moto's real S3 server, tests/files/s3_server.py)."""

from __future__ import annotations

import hashlib
import pathlib
from collections.abc import Callable

import pytest

from foretell.files.local import LocalFiles
from foretell.files.protocol import (
    FileInfo,
    FileStore,
    InvalidKey,
    MissingFile,
    StoredFile,
    output_key,
    outputs_prefix,
    upload_key,
)
from foretell.files.s3 import S3Files
from tests.files.s3_server import S3Server, s3_server  # noqa: F401 — the fixture, by name


def _s3(request: pytest.FixtureRequest, tmp: pathlib.Path) -> FileStore:
    """S3Files on moto, under a prefix of this test's own (named after its tmp_path, so a
    second instance in the same test shares it)."""
    server: S3Server = request.getfixturevalue("s3_server")
    monkeypatch: pytest.MonkeyPatch = request.getfixturevalue("monkeypatch")
    for name, value in server.credentials().items():
        monkeypatch.setenv(name, value)
    return S3Files(server.files_url(f"contract/{tmp.name}"))


#: each engine, made for one test: a second call in the same test gives a second instance
#: on the same files (another process, or another machine, using the same store)
ENGINES: dict[str, Callable[[pytest.FixtureRequest, pathlib.Path], FileStore]] = {
    "local": lambda request, tmp: LocalFiles(tmp / "files"),
    "s3": _s3,
}
#: past every engine's inline limit and read chunk, so the threaded paths run too
LARGE = bytes(range(256)) * (12 * 1024)
BAD_KEYS = ["", "/etc/passwd", "a/../b", "..", "a//b", "a/./b", "a/", "a\x00b"]


@pytest.fixture(params=sorted(ENGINES))
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def files(engine: str, request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> FileStore:
    return ENGINES[engine](request, tmp_path)


@pytest.fixture
def other(engine: str, request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> FileStore:
    """A second instance on the same files, as another process or machine has it (a
    shared directory every machine mounts, the same bucket)."""
    return ENGINES[engine](request, tmp_path)


def _digests(key: str, data: bytes) -> StoredFile:
    return StoredFile(
        key, len(data), hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()
    )


async def _chunks(files: FileStore, key: str) -> bytes:
    return b"".join([chunk async for chunk in files.open(key)])


@pytest.mark.parametrize("data", [b"", b"hello", LARGE], ids=["empty", "small", "large"])
async def test_put_bytes_then_read_them_back(files: FileStore, data: bytes) -> None:
    """Stored bytes come back whole, by read and by open, with their size and digests."""
    key = upload_key("f1", "hello.txt")
    assert await files.put(key, data) == _digests(key, data)
    assert await files.read(key) == data
    assert await _chunks(files, key) == data
    assert await files.stat(key) == FileInfo(key, len(data))
    assert await files.exists(key)


async def test_put_a_path_moves_the_file_in(files: FileStore, tmp_path: pathlib.Path) -> None:
    """A Path source is taken in (gone from where it was), and reads back the same."""
    source = tmp_path / "out.bin"
    source.write_bytes(LARGE)
    key = output_key("p1", source.name)
    assert await files.put(key, source) == _digests(key, LARGE)
    assert not source.exists()
    assert await files.read(key) == LARGE


async def test_put_a_missing_path_fails_and_stores_nothing(
    files: FileStore, tmp_path: pathlib.Path
) -> None:
    """Putting a file that isn't there raises, and no file appears under the key."""
    key = output_key("p1", "gone.png")
    with pytest.raises(OSError):
        await files.put(key, tmp_path / "gone.png")
    assert not await files.exists(key)


async def test_put_replaces_what_was_under_the_key(files: FileStore) -> None:
    """A second put under a key replaces the first file."""
    await files.put("uploads/f1/a.txt", b"first version")
    await files.put("uploads/f1/a.txt", b"second")
    assert await files.read("uploads/f1/a.txt") == b"second"


async def test_a_missing_file(files: FileStore, tmp_path: pathlib.Path) -> None:
    """A key with nothing under it: MissingFile on reading, None/False on asking."""
    key = "uploads/nothing/here.txt"
    with pytest.raises(MissingFile):
        await files.read(key)
    with pytest.raises(MissingFile):
        await _chunks(files, key)
    with pytest.raises(MissingFile):
        await files.copy_to(key, tmp_path / "copy.txt")
    assert await files.stat(key) is None
    assert not await files.exists(key)
    assert files.local_path(key) is None
    assert await files.delete(key) is False


async def test_delete_removes_the_file_once(files: FileStore) -> None:
    """A deleted file is gone; deleting it again says there was nothing."""
    await files.put("uploads/f1/a.txt", b"x")
    assert await files.delete("uploads/f1/a.txt") is True
    assert not await files.exists("uploads/f1/a.txt")
    assert await files.delete("uploads/f1/a.txt") is False


async def test_delete_prefix_removes_one_predictions_outputs(files: FileStore) -> None:
    """Every output of a prediction goes; another prediction's stay, even one whose id
    starts with the same characters."""
    mine = [output_key("p1", "a.png"), output_key("p1", "a.png"), output_key("p1", "b.txt")]
    theirs = output_key("p10", "c.txt")
    for key in [*mine, theirs]:
        await files.put(key, b"x")
    assert len(set(mine)) == 3  # same name, different keys
    await files.delete_prefix(outputs_prefix("p1"))
    assert [await files.exists(key) for key in mine] == [False, False, False]
    assert await files.read(theirs) == b"x"
    await files.delete_prefix(outputs_prefix("p1"))  # again: nothing left, no error


async def test_delete_prefix_takes_whole_folders_only(files: FileStore) -> None:
    """A prefix that doesn't end with `/` (`outputs/p1` would match `outputs/p10/...`) is
    refused."""
    await files.put("outputs/p10/r/c.txt", b"x")
    with pytest.raises(InvalidKey):
        await files.delete_prefix("outputs/p1")
    assert await files.exists("outputs/p10/r/c.txt")


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_keys_that_could_escape_are_refused_everywhere(
    files: FileStore, key: str, tmp_path: pathlib.Path
) -> None:
    """An absolute key, `..`, `.` or an empty part is refused by every method, before it
    touches anything."""
    with pytest.raises(InvalidKey):
        await files.put(key, b"x")
    with pytest.raises(InvalidKey):
        await files.read(key)
    with pytest.raises(InvalidKey):
        await _chunks(files, key)
    with pytest.raises(InvalidKey):
        await files.stat(key)
    with pytest.raises(InvalidKey):
        await files.delete(key)
    with pytest.raises(InvalidKey):
        files.local_path(key)
    with pytest.raises(InvalidKey):
        await files.copy_to(key, tmp_path / "copy")
    with pytest.raises(InvalidKey):
        await files.signed_url(key, 60)
    assert not (tmp_path / "copy").exists()


async def test_open_can_stop_early(files: FileStore) -> None:
    """A reader that stops after the first chunk closes the stream without error."""
    await files.put("uploads/f1/big.bin", LARGE)
    stream = files.open("uploads/f1/big.bin")
    first = await anext(stream)
    assert LARGE.startswith(first) and first
    await stream.aclose()


async def test_local_path_is_the_file_or_none(files: FileStore) -> None:
    """A local path, where an engine gives one, is an absolute path holding the bytes."""
    await files.put("uploads/f1/a.txt", b"hello")
    path = files.local_path("uploads/f1/a.txt")
    if path is not None:
        assert path.is_absolute() and path.read_bytes() == b"hello"


async def test_copy_to_makes_a_local_copy(files: FileStore, tmp_path: pathlib.Path) -> None:
    """copy_to writes the bytes at the path (its folders made), leaving the stored file."""
    await files.put("uploads/f1/a.txt", LARGE)
    target = tmp_path / "scratch" / "p1" / "a.txt"
    assert await files.copy_to("uploads/f1/a.txt", target) == target
    assert target.read_bytes() == LARGE
    assert await files.read("uploads/f1/a.txt") == LARGE


async def test_signed_url_is_a_url_or_none(files: FileStore) -> None:
    """An engine signs its own URL or says None (the API then signs one of its own)."""
    await files.put("outputs/p1/r/a.txt", b"x")
    url = await files.signed_url("outputs/p1/r/a.txt", 60)
    assert url is None or url.startswith(("http://", "https://"))


async def test_a_second_instance_sees_the_same_files(files: FileStore, other: FileStore) -> None:
    """What one instance stores, replaces or deletes, another on the same files sees at
    once: no instance keeps state of its own (a cache would go stale)."""
    key = upload_key("f1", "a.txt")
    await files.put(key, b"first")
    assert await other.read(key) == b"first"
    assert await other.stat(key) == FileInfo(key, 5)
    await other.put(key, LARGE)
    assert await files.read(key) == LARGE
    assert await _chunks(files, key) == LARGE
    assert await other.delete(key) is True
    assert not await files.exists(key)
    assert await files.delete(key) is False
    with pytest.raises(MissingFile):
        await files.read(key)


async def test_a_second_instance_deletes_the_first_ones_outputs(
    files: FileStore, other: FileStore
) -> None:
    """A prediction's outputs stored by one instance (a runner) are all deleted by another
    (the API node's retention), while a file stored meanwhile in another folder stays."""
    mine = [output_key("p1", "a.png"), output_key("p1", "b.png")]
    for key in mine:
        await files.put(key, b"x")
    await other.put(upload_key("f2", "kept.txt"), b"kept")
    await other.delete_prefix(outputs_prefix("p1"))
    assert [await files.exists(key) for key in mine] == [False, False]
    assert await files.read(upload_key("f2", "kept.txt")) == b"kept"
