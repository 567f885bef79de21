"""A FileStore whose files are not on this disk, for the paths an object store takes."""

from __future__ import annotations

import pathlib

from foretell.files.local import LocalFiles


class Elsewhere:
    """The local engine as an engine whose files are not on this disk (an object store)."""

    def __init__(self, files: LocalFiles) -> None:
        self._files = files

    def __getattr__(self, name: str) -> object:
        return getattr(self._files, name)

    def local_path(self, key: str) -> pathlib.Path | None:
        return None
