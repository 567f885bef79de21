"""Sweeping what predictions leave in the worker's private temp directory.

Cog models write outputs with `tempfile.mkdtemp()` and never delete them; on a long-running
server that fills the disk. The runner gives each worker its own TMPDIR (and names it in
FORETELL_SWEEP_TMPDIR); whatever appears there while predictions run is removed once none
is running: their output files have been copied out by then. What setup() created stays.
"""

from __future__ import annotations

import os
import pathlib
import shutil

SWEEP_VARIABLE = "FORETELL_SWEEP_TMPDIR"


class TempSweeper:
    """Counts running predictions; when the last one ends, removes the entries that
    appeared in the private temp directory since the first one began."""

    def __init__(self) -> None:
        directory = os.environ.get(SWEEP_VARIABLE)
        # Only a directory the runner made for this worker alone: never sweep a shared /tmp.
        self.root = (
            pathlib.Path(directory) if directory and directory == os.environ.get("TMPDIR") else None
        )
        self.running = 0
        self.baseline: set[str] = set()

    def begin(self) -> None:
        """A prediction starts."""
        if self.root is not None and self.running == 0:
            self.baseline = set(_entries(self.root))
        self.running += 1

    def end(self) -> None:
        """A prediction has ended: its Done is built (output files copied), not yet sent."""
        self.running -= 1
        if self.root is None or self.running > 0:
            return
        for name in _entries(self.root):
            if name not in self.baseline:
                path = self.root / name
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)


def _entries(root: pathlib.Path) -> list[str]:
    try:
        return os.listdir(root)
    except FileNotFoundError:
        return []
