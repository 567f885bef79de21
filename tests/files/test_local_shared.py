"""LocalFiles on a directory several processes (machines, on a shared mount) use at once:
`--files file:///shared/dir`. Writes are renames into place, each process keeps no state
of its own, and a folder another process prunes away under a write is made again."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

from foretell.files.local import LocalFiles
from foretell.files.protocol import MissingFile

#: past LocalFiles' inline limit: written in a thread, long enough to be read mid-write
SIZE = 2 * 1024 * 1024
ROUNDS = 80

#: the other process: replaces one key over and over with all-"a" or all-"b" files, and
#: stores and deletes files in a folder this one uses too (each delete prunes it if empty)
WRITER = """
import asyncio, pathlib, sys
from foretell.files.local import LocalFiles

async def main(root: str, rounds: int, size: int) -> None:
    files = LocalFiles(pathlib.Path(root))
    for n in range(rounds):
        await files.put("uploads/f1/data.bin", (b"ab"[n % 2 : n % 2 + 1]) * size)
        await files.put(f"uploads/shared/writer-{n}.txt", b"w")
        await files.delete(f"uploads/shared/writer-{n}.txt")

asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
"""


async def _pruned_under_put(
    files: LocalFiles, other: LocalFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Make `files`' next put find its folder gone after making it: `other` deletes the
    folder's last file then (pruning the folder), as another machine may."""
    await other.put("uploads/f1/other.txt", b"x")
    made = files._mkdir
    calls = 0

    def mkdir_then_other_deletes(folder: pathlib.Path) -> None:
        nonlocal calls
        made(folder)
        calls += 1
        if calls == 1:
            (other.root / "uploads/f1/other.txt").unlink()
            other._prune(other.root / "uploads/f1")
            assert not folder.exists()

    monkeypatch.setattr(files, "_mkdir", mkdir_then_other_deletes)


@pytest.mark.parametrize("source", ["bytes", "path"])
async def test_a_put_whose_folder_is_pruned_away_still_lands(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    """Another instance deleting the last file of the folder a put is writing into, just
    after the put made it, doesn't fail the put: the folder is made again."""
    files, other = LocalFiles(tmp_path / "files"), LocalFiles(tmp_path / "files")
    await _pruned_under_put(files, other, monkeypatch)
    data = b"hello" * 1000
    if source == "bytes":
        await files.put("uploads/f1/a.txt", data)
    else:
        path = tmp_path / "out.txt"
        path.write_bytes(data)
        await files.put("uploads/f1/a.txt", path)
        assert not path.exists()
    assert await other.read("uploads/f1/a.txt") == data


async def test_a_missing_source_is_still_an_error(tmp_path: pathlib.Path) -> None:
    """The retry is for a folder gone away, never for a source file that isn't there."""
    files = LocalFiles(tmp_path / "files")
    with pytest.raises(FileNotFoundError):
        await files.put("uploads/f1/a.txt", tmp_path / "gone.txt")


async def test_two_processes_on_one_directory(tmp_path: pathlib.Path) -> None:
    """While another process replaces a file over and over, every read here sees one whole
    version (renames are atomic), and puts and deletes in a folder both use never fail
    (each process's delete prunes the folder the other is writing into)."""
    root = tmp_path / "files"
    files = LocalFiles(root)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(root), str(ROUNDS), str(SIZE)],
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(pathlib.Path(__file__).parents[2] / "src")},
    )
    try:
        seen = await _read_while_it_writes(files, writer)
    finally:
        if writer.poll() is None:  # a failed check: don't leave it running
            writer.kill()
        _, errors = writer.communicate()
    assert writer.returncode == 0, errors.decode()
    last = b"ab"[(ROUNDS - 1) % 2 : (ROUNDS - 1) % 2 + 1]
    assert await files.read("uploads/f1/data.bin") == last * SIZE
    assert seen  # it was read while being replaced


async def _read_while_it_writes(files: LocalFiles, writer: subprocess.Popen[bytes]) -> set[bytes]:
    """Read the replaced file, and put and delete in the shared folder, until the writer
    is done (no timing assumed); which versions were seen."""
    seen: set[bytes] = set()
    n = 0
    while writer.poll() is None:
        try:
            data = await files.read("uploads/f1/data.bin")
        except MissingFile:  # not written yet
            data = None
        if data is not None:
            assert len(data) == SIZE and data.count(data[:1]) == SIZE, "a partial file"
            seen.add(data[:1])
        await files.put(f"uploads/shared/reader-{n}.txt", b"r")
        await files.delete(f"uploads/shared/reader-{n}.txt")
        n += 1
    return seen
