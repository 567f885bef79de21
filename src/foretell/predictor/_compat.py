"""Deprecated Cog names that still import, each with a warning printed once."""

from __future__ import annotations

import sys
from typing import Any

from foretell.predictor.scope import current_scope


class ExperimentalFeatureWarning(FutureWarning):
    """Deprecated: Cog no longer uses it; kept so old models that import it still load."""


def emit_metric(name: str, value: Any) -> None:
    """Deprecated: use current_scope().record_metric(name, value)."""
    current_scope().record_metric(name, value)


_DEPRECATED: dict[str, tuple[Any, str]] = {
    "ExperimentalFeatureWarning": (ExperimentalFeatureWarning, "remove it from your imports"),
    "emit_metric": (emit_metric, "use current_scope().record_metric(name, value)"),
}


def deprecated(name: str, namespace: dict[str, Any]) -> Any:
    """Resolve a deprecated module attribute, warning once and caching it in `namespace`."""
    if name not in _DEPRECATED:
        raise AttributeError(f"module {namespace.get('__name__')!r} has no attribute {name!r}")
    value, advice = _DEPRECATED[name]
    print(f"cog: {name} is deprecated; {advice}", file=sys.stderr)
    namespace[name] = value
    return value
