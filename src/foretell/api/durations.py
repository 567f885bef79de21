"""Parsing `Cancel-After`/`lifetime` durations and `Prefer: wait` headers."""

from __future__ import annotations

import math
import re

from foretell.api.params import parse_count
from foretell.errors import InvalidField, InvalidRequest

_NUMBER = r"(\d{1,12}(?:\.\d{1,9})?)"
_DURATION = re.compile(rf"^(?:{_NUMBER}h)?(?:{_NUMBER}m)?(?:{_NUMBER}s)?$", re.ASCII)
_PLAIN = re.compile(r"^\d{1,12}(?:\.\d{1,9})?$", re.ASCII)
MIN_DEADLINE_S = 5.0
#: the longest deadline accepted: 30 days (past it a deadline means nothing here)
MAX_DEADLINE_S = 30 * 24 * 3600.0
MAX_WAIT_S = 60


def parse_duration(text: str) -> float:
    """`90`, `90s`, `1m30s`, `2h` -> seconds; ValueError with the accepted forms.

    Plain decimal notation only (no exponent, `inf` or `nan`), so every result is finite.
    """
    text = text.strip()
    if _PLAIN.match(text):
        return float(text)
    match = _DURATION.match(text) if text.isascii() else None
    if not text or match is None:
        raise ValueError(
            f"{text[:40]!r} is not a duration: use seconds (90) or units like 1h30m45s"
        )
    hours, minutes, seconds = (float(part) if part else 0.0 for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def parse_deadline(text: str, field: str) -> float:
    """A deadline's seconds from now, 5 s to 30 days; 422 naming `field` otherwise."""
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise InvalidRequest([InvalidField("format", field, str(exc))]) from exc
    if not math.isfinite(seconds) or seconds < MIN_DEADLINE_S:
        description = f"must be at least {MIN_DEADLINE_S:.0f} seconds (got {text})"
        raise InvalidRequest([InvalidField("number_gte", field, description)])
    if seconds > MAX_DEADLINE_S:
        description = f"must be at most {MAX_DEADLINE_S:.0f} seconds (30 days; got {text[:40]})"
        raise InvalidRequest([InvalidField("number_lte", field, description)])
    return seconds


def parse_prefer_wait(header: str | None) -> float | None:
    """Seconds to wait for `Prefer: wait` / `wait=N` (clamped to 60; wait=0 is no wait); None without a wait
    preference, as RFC 7240 says unknown preferences are ignored. A wait value that is not a
    number is a 422: the client asked to wait and would otherwise be told it didn't."""
    if not header:
        return None
    for preference in header.split(","):
        name, _, value = preference.strip().partition("=")
        if name.strip().lower() != "wait":
            continue
        if not value.strip():
            return float(MAX_WAIT_S)
        seconds = parse_count(value.strip().strip('"'), "Prefer")
        return float(min(seconds, MAX_WAIT_S)) if seconds else None
    return None
