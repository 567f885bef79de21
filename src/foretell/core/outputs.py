"""Locations inside JSON values: how file positions in an output are addressed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

Location = Sequence[str | int]


def replace_at(value: Any, location: Location, replace: Callable[[Any], Any]) -> Any:
    """`value` with the item at `location` replaced by `replace(item)` (in place for containers)."""
    if not location:
        return replace(value)
    key, rest = location[0], location[1:]
    value[key] = replace_at(value[key], rest, replace)
    return value
