"""current_scope(): per-prediction context and custom metrics, routed by a ContextVar."""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

MetricListener = Callable[[str, Any, str], None]

_SEGMENT = re.compile(r"^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*(?<!_)$")
_MODES = {"replace": "replace", "incr": "incr", "increment": "incr", "append": "append"}
#: The value types a metric may hold, as Cog names them; a key keeps its type until deleted.
_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "bool"),
    (int, "int"),
    (float, "float"),
    (str, "str"),
    (list, "list"),
    (dict, "dict"),
)


def check_metric_key(key: str, *, deleting: bool = False) -> None:
    """Reject keys Cog rejects: bad segments, too long or deep, or (unless deleting) reserved."""
    segments = key.split(".")
    if len(key) > 128 or len(segments) > 4 or not all(_SEGMENT.match(s) for s in segments):
        raise ValueError(
            f"metric key {key!r}: use up to 4 dot-separated segments of letters, digits and "
            "single underscores, starting with a letter (128 characters at most)"
        )
    if not deleting and (key == "predict_time" or key.startswith("cog.")):
        raise ValueError(
            f"metric key {key!r} is reserved (predict_time and cog.* are the runtime's)"
        )


def _type_name(value: Any) -> str:
    for python_type, name in _TYPES:
        if isinstance(value, python_type):
            return name
    raise TypeError(
        f"unsupported metric value type {type(value).__name__}: "
        "use bool, int, float, str, list or dict"
    )


def _a(type_name: str) -> str:
    return f"an {type_name}" if type_name == "int" else f"a {type_name}"


class Metrics(MutableMapping[str, Any]):
    """A prediction's custom metrics: `metrics["k"] = v`, `del metrics["k"]`, `.record(...)`."""

    def __init__(self, listener: MetricListener | None) -> None:
        self._values: dict[str, Any] = {}
        self._listener = listener

    def record(self, key: str, value: Any, mode: str = "replace") -> None:
        """Set (`replace`), add to (`incr`) or append to (`append`) a metric; None deletes it.

        As in Cog, a key keeps the type of its first value until it is deleted, and `incr`
        needs an int or float."""
        if mode not in _MODES:
            raise TypeError(f"metric mode {mode!r}: use 'replace', 'incr' or 'append'")
        if value is None:
            self.delete(key)
            return
        check_metric_key(key)
        mode = _MODES[mode]
        self._values[key] = self._combine(key, value, mode)
        if self._listener is not None:
            self._listener(key, value, mode)

    def _combine(self, key: str, value: Any, mode: str) -> Any:
        kind = _type_name(value)
        exists = key in self._values
        current: Any = self._values.get(key)
        if mode == "append":
            if exists and not isinstance(current, list):
                raise TypeError(f"metric {key!r} holds {_a(_type_name(current))}; can't append")
            if not exists:
                return [value]
            current.append(value)  # in place: appending n items stays O(n)
            return current
        if mode == "incr" and kind not in ("int", "float"):
            raise TypeError(f"metric {key!r}: incr needs an int or float (got {kind})")
        if exists and _type_name(current) != kind:
            raise TypeError(
                f"metric {key!r} holds {_a(_type_name(current))}; "
                f"delete it before setting {_a(kind)}"
            )
        return current + value if mode == "incr" and exists else value

    def delete(self, key: str) -> None:
        """Remove a metric (reserved names are accepted here: deleting them does nothing)."""
        check_metric_key(key, deleting=True)
        self._values.pop(key, None)
        if self._listener is not None:
            self._listener(key, None, "replace")

    def __setitem__(self, key: str, value: Any) -> None:
        self.record(key, value)

    def __delitem__(self, key: str) -> None:
        self.delete(key)

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


class _NoopMetrics(Metrics):
    """Metrics outside a prediction: every change is silently ignored (as in Cog)."""

    def record(self, key: str, value: Any, mode: str = "replace") -> None:
        return None

    def delete(self, key: str) -> None:
        return None


class _NoopScope(Scope):
    """The scope outside a prediction: an empty context, and metrics that record nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.metrics = _NoopMetrics(None)


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
