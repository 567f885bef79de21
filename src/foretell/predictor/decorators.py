"""@streaming and @concurrent: markers Cog's build reads; at run time they only tag the method."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar, overload

F = TypeVar("F", bound=Callable[..., Any])


@overload
def streaming(fn: F) -> F: ...
@overload
def streaming(fn: None = None) -> Callable[[F], F]: ...
def streaming(fn: F | None = None) -> F | Callable[[F], F]:
    """Mark a predict method as streaming; every foretell prediction can stream anyway."""

    def mark(inner: F) -> F:
        return inner

    return mark if fn is None else mark(fn)


@overload
def concurrent(fn: F) -> F: ...
@overload
def concurrent(fn: None = None, *, max: int = 1) -> Callable[[F], F]: ...
def concurrent(fn: F | None = None, *, max: int = 1) -> F | Callable[[F], F]:
    """Allow up to `max` concurrent predictions of an async predict method."""
    if isinstance(max, bool) or not isinstance(max, int):
        raise TypeError(f"concurrent(max=...) must be an integer (got {max!r})")
    if max < 1:
        raise ValueError(f"concurrent(max=...) must be at least 1 (got {max})")
    if fn is not None and not callable(fn):
        raise TypeError("use concurrent as @concurrent or @concurrent(max=N)")

    def mark(inner: F) -> F:
        is_async = inspect.iscoroutinefunction(inner) or inspect.isasyncgenfunction(inner)
        if max > 1 and not is_async:
            raise TypeError("concurrent(max > 1) needs an async predict/run method")
        inner.__cog_concurrent_max__ = max  # type: ignore[attr-defined]
        return inner

    return mark if fn is None else mark(fn)
