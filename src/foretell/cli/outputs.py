"""Show a prediction's output on the terminal and save its files where the user asked."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from foretell.core.outputs import replace_at

FileLocation = Sequence[str | int]


class OutputWriter:
    """Prints outputs as they arrive: streamed text as-is, other items as JSON lines."""

    def __init__(self, openapi: dict[str, Any], out_dir: Path, stream: TextIO = sys.stdout) -> None:
        output = openapi.get("components", {}).get("schemas", {}).get("Output", {})
        self.is_iterator = output.get("x-cog-array-type") == "iterator"
        self.concatenate = output.get("x-cog-array-display") == "concatenate"
        self.out_dir = out_dir
        self.stream = stream
        self._mid_line = False
        self.saved: list[Path] = []

    def item(self, value: Any, files: Sequence[FileLocation]) -> None:
        """One yielded item of an iterator output."""
        value = self._save_files(value, files)
        if self.concatenate and isinstance(value, str):
            self.stream.write(value)
            self._mid_line = not value.endswith("\n")
        else:
            self._line(value)
        self.stream.flush()

    def final(self, value: Any, files: Sequence[FileLocation]) -> None:
        """The output of a model that returns (rather than yields) its result."""
        if self.is_iterator:
            return
        self._line(self._save_files(value, files))

    def close(self) -> None:
        """End a streamed line so the shell prompt starts on its own line."""
        if self._mid_line:
            self.stream.write("\n")
            self._mid_line = False
        self.stream.flush()

    def _line(self, value: Any) -> None:
        self.close()
        text = value if isinstance(value, str) else json.dumps(value, indent=2)
        self.stream.write(f"{text}\n")

    def _save_files(self, value: Any, files: Sequence[FileLocation]) -> Any:
        for location in files:
            value = replace_at(value, location, self._save)
        return value

    def _save(self, source: str) -> str:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        target = _free_name(self.out_dir / Path(source).name)
        shutil.copyfile(source, target)
        self.saved.append(target)
        return str(target)


def _free_name(path: Path) -> Path:
    """`out.png`, then `out-1.png`, `out-2.png`: never overwrite an earlier output."""
    candidate, n = path, 0
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate
