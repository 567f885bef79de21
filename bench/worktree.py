"""A `git worktree` of an earlier commit, for benchmarks that measure it beside this tree."""

from __future__ import annotations

import contextlib
import pathlib
import subprocess
import tempfile
from collections.abc import Iterator

ROOT = pathlib.Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def worktree(ref: str) -> Iterator[pathlib.Path]:
    """A detached worktree of `ref` under a temp dir, removed afterwards.

    Its code runs with this checkout's .venv and `PYTHONPATH=<worktree>/src`: the path comes
    before the editable install's, so `import foretell` finds the old tree.
    """
    folder = pathlib.Path(tempfile.mkdtemp(prefix="foretell-before-")) / "tree"
    git = ["git", "-C", str(ROOT), "worktree"]
    subprocess.run([*git, "add", "-q", "--detach", str(folder), ref], check=True)
    try:
        yield folder
    finally:
        subprocess.run([*git, "remove", "--force", str(folder)], check=False)
        with contextlib.suppress(OSError):
            folder.parent.rmdir()
