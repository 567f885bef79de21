"""The local-directory engine: where files lie, what it leaves behind, and its old calls."""

from __future__ import annotations

import errno
import os
import pathlib

import pytest

from foretell.files.local import LocalFiles
from foretell.files.protocol import upload_key


@pytest.fixture
def files(tmp_path: pathlib.Path) -> LocalFiles:
    return LocalFiles(tmp_path / "files")


def _tree(root: pathlib.Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


async def test_a_key_is_a_file_under_the_root(files: LocalFiles) -> None:
    """The file of `uploads/f1/a.txt` is `root/uploads/f1/a.txt`: its local path, no copy."""
    await files.put("uploads/f1/a.txt", b"hello")
    path = files.root / "uploads" / "f1" / "a.txt"
    assert path.read_bytes() == b"hello"
    assert files.local_path("uploads/f1/a.txt") == path


def test_the_root_is_absolute_with_its_top_folders(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative root is made absolute once (workers run elsewhere), with uploads/ and
    outputs/ made."""
    monkeypatch.chdir(tmp_path)
    files = LocalFiles(pathlib.Path("data/files"))
    assert files.root == tmp_path / "data" / "files"
    assert _tree(files.root) == ["outputs", "uploads"]


async def test_deleting_leaves_no_empty_folders(files: LocalFiles) -> None:
    """Deleting an upload or a prediction's outputs removes their folders too, but never
    the top folders."""
    await files.put("uploads/f1/a.txt", b"x")
    await files.put("outputs/p1/r1/a.png", b"x")
    await files.put("outputs/p1/r2/b.png", b"x")
    await files.delete("uploads/f1/a.txt")
    await files.delete_prefix("outputs/p1/")
    assert _tree(files.root) == ["outputs", "uploads"]


async def test_a_failed_write_leaves_nothing(files: LocalFiles) -> None:
    """A name the file system refuses (too long) fails the put and leaves no folder or
    temporary file."""
    with pytest.raises(OSError):
        await files.put("uploads/f1/" + "a" * 300, b"x")
    assert _tree(files.root) == ["outputs", "uploads"]


async def test_the_longest_file_name_fits(files: LocalFiles) -> None:
    """A 255-byte name is stored as it is (the temporary file beside it is short)."""
    key = upload_key("f1", "a" * 251 + ".txt")
    await files.put(key, b"x")
    assert await files.read(key) == b"x"
    assert _tree(files.root / "uploads" / "f1") == ["a" * 251 + ".txt"]


async def test_a_symlink_out_of_the_root_is_no_local_path(
    files: LocalFiles, tmp_path: pathlib.Path
) -> None:
    """A link inside the root pointing outside it is not handed out as a local path."""
    (tmp_path / "secret.txt").write_text("secret")
    (files.root / "uploads" / "f1").mkdir()
    (files.root / "uploads" / "f1" / "a.txt").symlink_to(tmp_path / "secret.txt")
    assert files.local_path("uploads/f1/a.txt") is None


async def test_a_move_across_file_systems_copies_then_removes(
    files: LocalFiles, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the source can't be renamed in (another file system), it is copied in whole,
    then removed."""
    source = tmp_path / "out.txt"
    source.write_bytes(b"output")
    real_replace = os.replace

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if pathlib.Path(src) == source:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    stored = await files.put("outputs/p1/r/out.txt", source)
    assert stored.size == 6 and not source.exists()
    assert await files.read("outputs/p1/r/out.txt") == b"output"
    assert _tree(files.root / "outputs" / "p1" / "r") == ["out.txt"]
