"""The value types of the predictor interface: Path, File, Secret, URLPath and iterators."""

from __future__ import annotations

import io
import pathlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

Item = TypeVar("Item")


class Path(pathlib.PosixPath):
    """A file input or output. Inputs arrive as local paths; outputs are sent back as files."""


class File(io.IOBase):
    """Deprecated file input/output type: an open binary file object."""


@dataclass(frozen=True, repr=False)
class Secret:
    """A string input that is never printed: `str()` and `repr()` show `**********`."""

    secret_value: str | None = None

    def __repr__(self) -> str:
        return f"Secret({self})"

    def __str__(self) -> str:
        return "**********" if self.secret_value is not None else ""

    def get_secret_value(self) -> str | None:
        """The secret itself."""
        return self.secret_value


class URLPath(Path):
    """A Path downloaded from a URL; `source` is the URL it came from."""

    source: str = ""


class URLFile(io.BufferedReader):
    """A binary file downloaded from a URL; `name` is its local path, `url` its source."""

    url: str = ""

    @classmethod
    def open(cls, path: pathlib.Path, url: str) -> URLFile:
        """Open a downloaded file for reading, remembering where it came from."""
        opened = cls(io.FileIO(path, "rb"))
        opened.url = url
        return opened


class _OpaqueMarker:
    """The type of `Opaque`."""

    def __repr__(self) -> str:
        return "cog.Opaque"


#: Marker for `Annotated[T, Opaque]`: a type foretell can't inspect, passed as a JSON object.
Opaque = _OpaqueMarker()


if TYPE_CHECKING:
    # To a type checker these are the plain iterator types, so a generator function may be
    # annotated with them; at run time they are distinct classes the schema can recognise.
    ConcatenateIterator = Iterator
    AsyncConcatenateIterator = AsyncIterator
else:

    class ConcatenateIterator(Iterator[Item]):
        """Output type of a generator whose string items join into one text (token streaming)."""

        def __next__(self) -> Item:
            raise StopIteration

    class AsyncConcatenateIterator(AsyncIterator[Item]):
        """Async version of ConcatenateIterator."""

        async def __anext__(self) -> Item:
            raise StopAsyncIteration


__all__ = [
    "AsyncConcatenateIterator",
    "ConcatenateIterator",
    "File",
    "Opaque",
    "Path",
    "Secret",
    "URLFile",
    "URLPath",
]
