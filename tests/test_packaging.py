"""Packing a model directory and unpacking it safely (foretell.packaging)."""

from __future__ import annotations

import io
import os
import pathlib
import tarfile

import pytest

from foretell.packaging import ArchiveError, archive_id, check_archive, pack_directory, unpack


def _model(root: pathlib.Path) -> pathlib.Path:
    (root / "weights").mkdir(parents=True)
    (root / "predict.py").write_text("print('hi')\n")
    (root / "cog.yaml").write_text("predict: predict.py:Predictor\n")
    (root / "weights" / "big.bin").write_bytes(b"x" * 10)
    (root / "notes.tmp").write_text("scratch")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref")
    (root / ".dockerignore").write_text("*.tmp\n")
    return root


def _names(data: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return tar.getnames()


def test_pack_leaves_out_ignored_files_and_is_deterministic(tmp_path: pathlib.Path) -> None:
    root = _model(tmp_path / "m")
    first = pack_directory(root)
    os.utime(root / "predict.py", (1, 1))  # times don't change the archive
    assert pack_directory(root) == first
    assert _names(first) == [".dockerignore", "cog.yaml", "predict.py", "weights/big.bin"]
    assert archive_id("a/m", first) == archive_id("a/m", pack_directory(root))
    assert archive_id("a/m", first, "abc") != archive_id("a/m", first)
    assert archive_id("a/other", first) != archive_id("a/m", first)


def test_pack_skips_links(tmp_path: pathlib.Path) -> None:
    root = _model(tmp_path / "m")
    (root / "secret").symlink_to("/etc/passwd")
    assert "secret" not in _names(pack_directory(root))


def test_unpack_round_trips(tmp_path: pathlib.Path) -> None:
    root = _model(tmp_path / "m")
    unpack(pack_directory(root), tmp_path / "out", max_bytes=1000)
    assert (tmp_path / "out" / "weights" / "big.bin").read_bytes() == b"x" * 10


def _archive(*members: tuple[tarfile.TarInfo, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for info, data in members:
            info.size = len(data) if info.isfile() else 0
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return raw.getvalue()


def _link(name: str, target: str, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


@pytest.mark.parametrize(
    ("member", "message"),
    [
        (tarfile.TarInfo("/etc/evil"), "absolute path"),
        (tarfile.TarInfo("../evil"), "leaves the model's directory"),
        (tarfile.TarInfo("a/../../evil"), "leaves the model's directory"),
        (_link("x", "/etc/passwd", tarfile.SYMTYPE), "a link"),
        (_link("x", "predict.py", tarfile.LNKTYPE), "a link"),
        (_link("x", "", tarfile.CHRTYPE), "special file"),
    ],
)
def test_unpack_refuses_what_could_write_outside(
    tmp_path: pathlib.Path, member: tarfile.TarInfo, message: str
) -> None:
    data = _archive((tarfile.TarInfo("ok.py"), b"1"), (member, b"evil"))
    with pytest.raises(ArchiveError, match=message):
        unpack(data, tmp_path / "out", max_bytes=1000)
    assert not (tmp_path / "out").exists()  # checked before anything is written
    assert not (tmp_path / "evil").exists()


def test_unpack_caps_the_size(tmp_path: pathlib.Path) -> None:
    data = _archive((tarfile.TarInfo("big"), b"x" * 2000))
    with pytest.raises(ArchiveError, match="expands past"):
        unpack(data, tmp_path / "out", max_bytes=1000)


def test_unpack_refuses_what_is_not_a_tarball(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ArchiveError, match="not a readable"):
        unpack(b"hello", tmp_path / "out", max_bytes=1000)


def test_check_archive_lists_files_of_a_path(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "m.tar.gz"
    path.write_bytes(pack_directory(_model(tmp_path / "m")))
    assert "predict.py" in check_archive(path, max_bytes=1000)
    with pytest.raises(ArchiveError, match="expands past"):
        check_archive(path, max_bytes=5)


def test_a_truncated_archive_is_refused(tmp_path: pathlib.Path) -> None:
    data = pack_directory(_model(tmp_path / "m"))
    with pytest.raises(ArchiveError, match="not a readable"):
        check_archive(data[: len(data) // 2], max_bytes=1000)
