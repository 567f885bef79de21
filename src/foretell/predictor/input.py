"""Input(...): the metadata and constraints of one predictor input."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

_UNSET: Any = object()


@dataclass(frozen=True)
class FieldInfo:
    """What `Input(...)` returns: an input's default, description and constraints."""

    default: Any = None
    description: str | None = None
    ge: int | float | None = None
    le: int | float | None = None
    min_length: int | None = None
    max_length: int | None = None
    regex: str | None = None
    choices: list[str | int] | None = None
    deprecated: bool | None = None
    accept: str | None = None
    #: False for `Input()` with no default: such an input is required even though
    #: `default` reads None (Cog can't tell `Input()` from `Input(default=None)`; we can).
    default_given: bool = field(default=False, repr=False)


def Input(
    default: Any = _UNSET,
    *,
    default_factory: Callable[..., Any] | None = None,
    description: str | None = None,
    ge: int | float | None = None,
    le: int | float | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    regex: str | None = None,
    choices: Sequence[str | int] | None = None,
    deprecated: bool | None = None,
    accept: str | None = None,
) -> Any:
    """Describe a predictor input: its default, description and constraints."""
    if default_factory is not None:
        raise TypeError(
            "Input(default_factory=...) is not supported: use a literal default, "
            "e.g. Input(default=...), and build mutable values inside predict()"
        )
    return FieldInfo(
        default=None if default is _UNSET else default,
        default_given=default is not _UNSET,
        description=description,
        ge=ge,
        le=le,
        min_length=min_length,
        max_length=max_length,
        regex=regex,
        choices=list(choices) if choices is not None else None,
        deprecated=deprecated,
        accept=accept,
    )
