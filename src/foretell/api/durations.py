"""Parsing `Cancel-After`/`lifetime` durations and `Prefer: wait` headers."""

from __future__ import annotations

import re

_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$")
MIN_DEADLINE_S = 5.0
MAX_WAIT_S = 60


def parse_duration(text: str) -> float:
    """`90`, `90s`, `1m30s`, `2h` -> seconds; ValueError with the accepted forms."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    match = _DURATION.match(text)
    if not text or match is None:
        raise ValueError(f"{text!r} is not a duration: use seconds (90) or units like 1h30m45s")
    hours, minutes, seconds = (float(part) if part else 0.0 for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def parse_prefer_wait(header: str | None) -> float | None:
    """Seconds to wait for `Prefer: wait` / `wait=N` (clamped to 60); None for anything else,
    as RFC 7240 says unknown preferences are ignored."""
    if not header:
        return None
    for preference in header.split(","):
        name, _, value = preference.strip().partition("=")
        if name.strip().lower() != "wait":
            continue
        if not value:
            return float(MAX_WAIT_S)
        if value.strip().isdigit() and int(value) >= 1:
            return float(min(int(value), MAX_WAIT_S))
    return None
