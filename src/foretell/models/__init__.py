"""Built-in models: Cog model directories that ship inside the foretell package."""

from __future__ import annotations

import pathlib

ROOT = pathlib.Path(__file__).parent


def builtin_models() -> dict[str, pathlib.Path]:
    """`owner/name` -> directory of every built-in model."""
    return {
        f"foretell/{path.name}": path
        for path in sorted(ROOT.iterdir())
        if path.is_dir() and (path / "cog.yaml").is_file()
    }
