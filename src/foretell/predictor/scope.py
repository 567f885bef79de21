"""current_scope(): per-prediction context and custom metrics, routed by a ContextVar."""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

MetricListener = Callable[[str, Any, str], None]

_SEGMENT = re.compile(r"^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*(?<!_)$")
_MODES = ("replace", "incr", "append")


def check_metric_key(key: str) -> None:
    """Reject keys Cog rejects: bad segments, too long or deep, or reserved names."""
    segments = key.split(".")
    if len(key) > 128 or len(segments) > 4 or not all(_SEGMENT.match(s) for s in segments):
        raise ValueError(
            f"metric key {key!r}: use up to 4 dot-separated segments of letters, digits and "
            "single underscores, starting with a letter (128 characters at most)"
        )
    if key == "predict_time" or key.startswith("cog."):
        raise ValueError(f"metric key {key!r} is reserved")


class Metrics(MutableMapping[str, Any]):
    """A prediction's custom metrics: `metrics["k"] = v`, `del metrics["k"]`, `.record(...)`."""

    def __init__(self, listener: MetricListener | None) -> None:
        self._values: dict[str, Any] = {}
        self._listener = listener

    def record(self, key: str, value: Any, mode: str = "replace") -> None:
        """Set (`replace`), add to (`incr`) or append to (`append`) a metric; None deletes it."""
        check_metric_key(key)
        if mode not in _MODES:
            raise ValueError(f"metric mode {mode!r}: use one of {', '.join(_MODES)}")
        if value is None:
            self._values.pop(key, None)
        elif mode == "incr":
            current = self._values.get(key, 0)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"metric {key!r}: incr needs a number (got {value!r})")
            self._values[key] = current + value
        elif mode == "append":
            existing = self._values.setdefault(key, [])
            if not isinstance(existing, list):
                raise TypeError(f"metric {key!r} is not a list; can't append")
            existing.append(value)
        else:
            self._values[key] = value
        if self._listener is not None:
            self._listener(key, value, mode)

    def __setitem__(self, key: str, value: Any) -> None:
        self.record(key, value)

    def __delitem__(self, key: str) -> None:
        self.record(key, None)

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def snapshot(self) -> dict[str, Any]:
        """The metrics as a JSON object; dotted keys nest (`a.b` -> {"a": {"b": ...}})."""
        nested: dict[str, Any] = {}
        for key, value in self._values.items():
            *parents, leaf = key.split(".")
            node = nested
            for parent in parents:
                node = node.setdefault(parent, {})
            node[leaf] = value
        return nested


class Scope:
    """What a running prediction can reach: its request `context` and its `metrics`."""

    def __init__(
        self, context: dict[str, str] | None = None, on_metric: MetricListener | None = None
    ) -> None:
        self.context: dict[str, str] = dict(context or {})
        self.metrics = Metrics(on_metric)

    def record_metric(self, key: str, value: Any, mode: str = "replace") -> None:
        """Record a custom metric; it appears in the prediction's `metrics`."""
        self.metrics.record(key, value, mode)

    def metrics_snapshot(self) -> dict[str, Any]:
        """The metrics recorded so far, nested by dots."""
        return self.metrics.snapshot()


class _NoopScope(Scope):
    """Outside a prediction, recording metrics silently does nothing (as in Cog)."""

    def record_metric(self, key: str, value: Any, mode: str = "replace") -> None:
        return None


_current: contextvars.ContextVar[Scope | None] = contextvars.ContextVar("scope", default=None)


def current_scope() -> Scope:
    """The running prediction's scope, or a no-op scope outside a prediction."""
    return _current.get() or _NoopScope()


@contextmanager
def use_scope(scope: Scope) -> Iterator[Scope]:
    """Make `scope` current for this thread or asyncio task."""
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)
