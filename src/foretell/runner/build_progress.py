"""What an environment build is doing, in words a person can read, and how long it took
last time: read from the installer's own output (pip's or uv's)."""

from __future__ import annotations

import json
import pathlib
import re

#: (pattern over one installer output line, the step it means); the last match wins
_STEPS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^\s*(Collecting|Looking in|Resolved|Resolving)\b"), "resolving packages"),
    (re.compile(r"^\s*(Downloading|Downloaded|Prepared|Obtaining)\b"), "downloading packages"),
    (
        re.compile(r"^\s*(?:Building wheel for|Building) ([A-Za-z0-9_.\-]+)"),
        "compiling {0}",
    ),
    (re.compile(r"^\s*(Installing collected packages|Installed|Installing)\b"), "installing"),
)


def current_step(output: str) -> str | None:
    """The step the installer is in, judged by its latest recognised output line."""
    for line in reversed(output.splitlines()[-200:]):
        for pattern, step in _STEPS:
            match = pattern.match(line)
            if match:
                return step.format(*match.groups())
    return None


def duration(seconds: float) -> str:
    """`75` -> `1 min 15 s`."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    return f"{seconds // 60} min {seconds % 60:02d} s"


class BuildTimes:
    """How long each model's last environment build took, kept beside the cache."""

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path

    def _load(self) -> dict[str, float]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return {k: float(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def last(self, name: str) -> float | None:
        """Seconds the last build of `name` took, if one finished before."""
        return self._load().get(name)

    def record(self, name: str, seconds: float) -> None:
        """Remember a finished build (best effort: a read-only cache just forgets)."""
        times = self._load()
        times[name] = round(seconds, 1)
        try:
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(times, indent=1, sort_keys=True))
            temporary.replace(self.path)
        except OSError:
            pass
