"""The value types: Secret, Path, URLPath, URLFile, Opaque and the iterator markers."""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator, Iterator

from cog import (
    AsyncConcatenateIterator,
    ConcatenateIterator,
    Opaque,
    Path,
    Secret,
    URLFile,
    URLPath,
)


def test_secret_hides_its_value() -> None:
    """str() and repr() of a Secret show stars; get_secret_value() returns it."""
    secret = Secret("hunter2")
    assert str(secret) == "**********" and repr(secret) == "Secret(**********)"
    assert secret.get_secret_value() == "hunter2" == secret.secret_value
    assert f"{secret}" == "**********"
    assert str(Secret()) == "" and Secret().get_secret_value() is None


def test_secrets_compare_and_hash_by_value() -> None:
    """Secrets with the same value are equal and hash alike (a frozen dataclass, as in Cog)."""
    assert Secret("a") == Secret(secret_value="a") != Secret("b")
    assert len({Secret("a"), Secret("a")}) == 1


def test_path_is_a_pathlib_path() -> None:
    """cog.Path and URLPath work wherever a pathlib.Path does."""
    assert isinstance(Path("/tmp/x"), pathlib.Path)
    url_path = URLPath("/tmp/x.png")
    url_path.source = "https://example.com/x.png"
    assert isinstance(url_path, Path) and url_path.name == "x.png"


def test_url_file_remembers_its_source(tmp_path: pathlib.Path) -> None:
    """URLFile.open gives a readable binary file with the URL it came from."""
    (tmp_path / "f.bin").write_bytes(b"data")
    with URLFile.open(tmp_path / "f.bin", "https://example.com/f.bin") as opened:
        assert opened.read() == b"data" and opened.url == "https://example.com/f.bin"


def test_iterator_markers_are_iterator_types() -> None:
    """ConcatenateIterator[str] is an Iterator, AsyncConcatenateIterator an AsyncIterator."""
    assert issubclass(ConcatenateIterator, Iterator)
    assert issubclass(AsyncConcatenateIterator, AsyncIterator)
    assert ConcatenateIterator[str].__origin__ is ConcatenateIterator  # type: ignore[attr-defined]


def test_opaque_is_a_marker_object() -> None:
    """cog.Opaque is a marker instance for Annotated[T, Opaque], as in Cog."""
    assert repr(Opaque) == "cog.Opaque"
